import { describe, expect, it } from 'vitest';
import { counterValue, renderedFromStats } from '../../src/capture/appsink-stats.js';
import { decoderFromElementName } from '../../src/capture/decoder-choice.js';
import { parseInspectListing } from '../../src/capture/element-probe.js';
import type { Frame } from '../../src/capture/frame.js';
import { FrameRateLimiter } from '../../src/capture/frame-rate-limiter.js';
import { LatestFrameMailbox } from '../../src/capture/latest-frame-mailbox.js';
import { describeBusMessage } from '../../src/capture/pipeline-session.js';
import { reconnectDelayMs } from '../../src/capture/reconnect-backoff.js';
import { packRgbRows } from '../../src/capture/rgb-rows.js';
import { rtspEndpoint } from '../../src/capture/rtsp-reachability.js';

describe('reconnect backoff', () => {
  const noJitter = { jitter: 0 };

  it('doubles from 500 ms up to 30 s by default', () => {
    expect([1, 2, 3, 4].map((n) => reconnectDelayMs(n, noJitter))).toEqual([500, 1000, 2000, 4000]);
    expect(reconnectDelayMs(7, noJitter)).toBe(30_000);
    expect(reconnectDelayMs(1000, noJitter)).toBe(30_000);
  });

  it('spreads retries by at most the jitter fraction either way', () => {
    expect(reconnectDelayMs(2, { jitter: 0.2 }, () => 0)).toBe(800);
    expect(reconnectDelayMs(2, { jitter: 0.2 }, () => 1)).toBe(1200);
    expect(reconnectDelayMs(2, { jitter: 0.2 }, () => 0.5)).toBe(1000);
  });
});

describe('frame rows', () => {
  it('removes the 4-byte row padding GStreamer adds to RGB', () => {
    const width = 3; // 9 bytes per row, padded to 12
    const padded = Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0, 0, 0]);
    expect([...(packRgbRows(padded, width, 2) ?? [])]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('passes unpadded frames through without copying and rejects sizes matching neither layout', () => {
    const exact = Buffer.alloc(4 * 3 * 2);
    expect(packRgbRows(exact, 4, 2)).toBe(exact);
    expect(packRgbRows(Buffer.alloc(10), 4, 2)).toBeUndefined();
  });
});

describe('arrival-time rate cap', () => {
  it('passes a camera already at the cap despite jitter, and thins a faster one to the cap', () => {
    const atCap = new FrameRateLimiter(10);
    expect([0, 95, 203, 298, 401].map((t) => atCap.admit(t))).toEqual([true, true, true, true, true]);
    const fast = new FrameRateLimiter(10);
    const passed = Array.from({ length: 30 }, (_, i) => i * 33.3).filter((t) => fast.admit(t)).length;
    expect(passed).toBe(10);
  });
});

describe('latest-frame mailbox', () => {
  const frame = (seq: number): Frame => ({ cameraId: 'c', seq, capturedAtMs: seq, width: 1, height: 1, rgb: Buffer.alloc(3) });

  it('hands a busy consumer only the newest frame and counts the ones it skipped', async () => {
    let skipped = 0;
    const mailbox = new LatestFrameMailbox(() => skipped++, () => {});
    mailbox.offer(frame(0));
    mailbox.offer(frame(1));
    mailbox.offer(frame(2));
    expect((await mailbox.next()).value?.seq).toBe(2);
    expect(skipped).toBe(2);
  });

  it('wakes a waiting consumer with the next frame and ends when closed', async () => {
    const mailbox = new LatestFrameMailbox(() => {}, () => {});
    const waiting = mailbox.next();
    mailbox.offer(frame(7));
    expect((await waiting).value?.seq).toBe(7);
    const pending = mailbox.next();
    mailbox.close();
    expect((await pending).done).toBe(true);
  });
});

describe('binding output parsing', () => {
  it('reads the rendered count from the serialised base-sink stats', () => {
    expect(renderedFromStats('application/x-gst-base-sink-stats, average-rate=(double)-1, dropped=(guint64)0, rendered=(guint64)14;')).toBe(14);
    expect(renderedFromStats(undefined)).toBeUndefined();
    expect(counterValue('123')).toBe(123);
  });

  it('recognises decoders chosen by decodebin from element names', () => {
    expect(decoderFromElementName('avdec_h264-3')).toBe('avdec_h264');
    expect(decoderFromElementName('v4l2slh264dec0')).toBe('v4l2slh264dec');
    expect(decoderFromElementName('nvv4l2decoder1')).toBe('nvv4l2decoder');
    expect(decoderFromElementName('decodebin0')).toBeUndefined();
    expect(decoderFromElementName('h264parse0')).toBeUndefined();
  });

  it('lists element names from gst-inspect-1.0 output', () => {
    const names = parseInspectListing('libav:  avdec_h264: libav H.264 decoder\nvideo4linux2:  v4l2h264dec: V4L2 H264 Decoder\n\nTotal count: 2 plugins\n');
    expect([...names]).toEqual(['avdec_h264', 'v4l2h264dec']);
  });

  it('turns a bus error into one line naming the element and the cause', () => {
    const reason = describeBusMessage({
      type: 'error',
      _src_element_name: 'rtspsrc12',
      message: 'Could not open resource for reading and writing.',
      debug: '../gst/rtsp/gstrtspsrc.c(8336): gst_rtspsrc_retrieve_sdp (): /GstPipeline:pipeline0/GstRTSPSrc:rtspsrc0:\nFailed to connect. (Generic error)',
    });
    expect(reason).toBe('rtspsrc: Could not open resource for reading and writing. (Failed to connect. (Generic error))');
  });
});

describe('rtsp endpoint', () => {
  it('finds host and port for the reachability check, with the RTSP default ports', () => {
    expect(rtspEndpoint('rtsp://user:pw@10.1.2.3/live')).toEqual({ host: '10.1.2.3', port: 554 });
    expect(rtspEndpoint('rtsps://cam.local:7441/x')).toEqual({ host: 'cam.local', port: 7441 });
    expect(rtspEndpoint('rtsps://[fe80::1]/x')).toEqual({ host: 'fe80::1', port: 322 });
  });
});
