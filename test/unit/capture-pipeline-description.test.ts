import { describe, expect, it } from 'vitest';
import { buildPipelineDescription, CaptureConfigError, chooseDecoder } from '../../src/capture/index.js';

const software = new Set(['avdec_h264', 'avdec_h265']);
const rtsp = 'rtsp://admin:secret@10.0.0.5:554/Streaming/Channels/101';

describe('buildPipelineDescription', () => {
  it('uses a hardware H.264 decoder when the machine has one', () => {
    const desc = buildPipelineDescription({ uri: rtsp }, new Set([...software, 'v4l2h264dec']));
    expect(desc).toContain('rtph264depay ! h264parse ! v4l2h264dec');
    expect(desc).not.toContain('avdec_h264');
  });

  it('prefers stateless V4L2 over stateful and VA-API, and Jetson over all', () => {
    expect(chooseDecoder('h264', new Set([...software, 'vaapih264dec', 'v4l2h264dec', 'v4l2slh264dec']))).toBe('v4l2slh264dec');
    expect(chooseDecoder('h264', new Set([...software, 'vaapih264dec', 'nvv4l2decoder']))).toBe('nvv4l2decoder');
    expect(chooseDecoder('h265', new Set([...software, 'vah265dec']))).toBe('vah265dec');
  });

  it('falls back to libav, then to decodebin when no decoder is known', () => {
    expect(buildPipelineDescription({ uri: rtsp }, software)).toContain('h264parse ! avdec_h264 !');
    expect(buildPipelineDescription({ uri: rtsp }, new Set())).toContain('h264parse ! decodebin !');
  });

  it('brings Jetson NVMM frames back to system memory', () => {
    const desc = buildPipelineDescription({ uri: rtsp }, new Set(['nvv4l2decoder', 'nvvidconv']));
    expect(desc).toContain('nvv4l2decoder ! nvvidconv !');
  });

  it('reads RTSP over TCP with 200 ms latency by default and strips its own query parameters', () => {
    const desc = buildPipelineDescription({ uri: `${rtsp}?channel=2&transport=udp&codec=h265` }, software);
    expect(desc).toContain(`rtspsrc location="${rtsp}?channel=2" latency=200 tcp-timeout=5000000 protocols=udp`);
    expect(desc).toContain('rtph265depay ! h265parse ! avdec_h265');
    expect(buildPipelineDescription({ uri: rtsp }, software)).toContain('protocols=tcp');
  });

  it('only links the video stream of a camera that also sends audio', () => {
    expect(buildPipelineDescription({ uri: rtsp }, software)).toContain('! application/x-rtp,media=video !');
  });

  it('crops the roi before scaling, deriving right/bottom from the roi size', () => {
    const desc = buildPipelineDescription({ uri: 'test://', roi: { x: 10, y: 20, width: 300, height: 200 }, width: 150 }, software);
    expect(desc).toMatch(
      /videocrop left=10 top=20 right=-1 bottom=-1 ! video\/x-raw,width=300,height=200 ! videoscale ! videoconvert ! video\/x-raw,format=RGB,width=150,pixel-aspect-ratio=1\/1 ! appsink/,
    );
  });

  it('caps the frame rate with a drop-only videorate ahead of the queue', () => {
    const desc = buildPipelineDescription({ uri: 'test://', fpsCap: 5 }, software);
    expect(desc).toMatch(/videorate name=rate drop-only=true max-rate=5 ! queue/);
    expect(buildPipelineDescription({ uri: 'test://' }, software)).not.toContain('videorate');
  });

  it('expresses a fractional fps cap as a framerate range', () => {
    const desc = buildPipelineDescription({ uri: '/data/clip.mp4', fpsCap: 0.5 }, software);
    expect(desc).toContain('max-rate=1 ! video/x-raw,framerate=[0/1,1/2] ! queue');
  });

  it('never puts videorate on RTSP, where frames without durations abort GStreamer', () => {
    expect(buildPipelineDescription({ uri: rtsp, fpsCap: 10 }, software)).not.toContain('videorate');
  });

  it('is bounded and leaky by default so inference never lags the live scene', () => {
    const desc = buildPipelineDescription({ uri: rtsp }, software);
    expect(desc).toContain('queue max-size-buffers=2 max-size-bytes=0 max-size-time=0 leaky=downstream');
    expect(desc).toMatch(/appsink name=sink max-buffers=2 drop=true sync=false/);
  });

  it('applies backpressure instead of dropping when every frame must be seen', () => {
    const desc = buildPipelineDescription({ uri: '/data/clip.mp4', dropOldFrames: false, realtime: false }, software);
    expect(desc).not.toContain('leaky');
    expect(desc).toMatch(/appsink name=sink max-buffers=2 drop=false sync=false/);
  });

  it('paces files at their own frame rate only when realtime', () => {
    expect(buildPipelineDescription({ uri: 'file:///data/clip.mp4' }, software)).toContain('sync=true');
    expect(buildPipelineDescription({ uri: 'file:///data/clip.mp4', realtime: false }, software)).toContain('sync=false');
  });

  it('demuxes MP4 outside decodebin and uses decodebin for other files and webcams', () => {
    expect(buildPipelineDescription({ uri: '/data/clip.mp4' }, software)).toMatch(
      /^filesrc location="\/data\/clip.mp4" ! qtdemux name=qtdemux qtdemux.video_0 ! decodebin ! video\/x-raw ! queue/,
    );
    expect(buildPipelineDescription({ uri: '/data/clip.mkv' }, software)).toMatch(/^filesrc location="\/data\/clip.mkv" ! decodebin ! video\/x-raw/);
    expect(buildPipelineDescription({ uri: '/dev/video2' }, software)).toMatch(/^v4l2src device="\/dev\/video2" ! decodebin/);
    expect(buildPipelineDescription({ uri: 'v4l2:///dev/video0' }, software)).toMatch(/^v4l2src device="\/dev\/video0"/);
  });

  it('builds a live test source from the test:// query', () => {
    expect(buildPipelineDescription({ uri: 'test://?pattern=smpte&width=1280&height=720&fps=15' }, software)).toMatch(
      /^videotestsrc is-live=true pattern=smpte ! video\/x-raw,width=1280,height=720,framerate=15\/1 ! queue/,
    );
  });

  it('escapes quotes in paths so they cannot break out of the location property', () => {
    expect(buildPipelineDescription({ uri: '/data/a "b".mkv' }, software)).toContain('location="/data/a \\"b\\".mkv"');
  });

  it('rejects settings that cannot work, saying what to change', () => {
    const build = (opts: Parameters<typeof buildPipelineDescription>[0]) => () => buildPipelineDescription(opts, software);
    expect(build({ id: 'gate', uri: 'http://cam/stream' })).toThrow(/camera gate: uri .* unsupported scheme: use rtsp:\/\//);
    expect(build({ uri: 'test://', width: 0 })).toThrow(CaptureConfigError);
    expect(build({ uri: 'test://', fpsCap: -1 })).toThrow(/fpsCap is -1/);
    expect(build({ uri: 'test://', roi: { x: -5, y: 0, width: 10, height: 10 } })).toThrow(/roi x\/y/);
    expect(build({ uri: 'test://?pattern=ball!fakesink' })).toThrow(/pattern/);
    expect(build({ uri: `${rtsp}?transport=quic` })).toThrow(/transport=tcp, udp or auto/);
  });

  it('keeps credentials out of error messages', () => {
    expect(() => buildPipelineDescription({ uri: `${rtsp}?codec=vp9` }, software)).toThrow(/admin:\*\*\*@/);
    expect(() => buildPipelineDescription({ uri: `${rtsp}?codec=vp9` }, software)).not.toThrow(/secret/);
  });
});
