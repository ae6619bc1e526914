import { describe, expect, it, onTestFinished } from 'vitest';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { validateConfig } from '../../src/config/load.js';
import { resolveInstallPath } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import type { Read } from '../../src/pipeline/read.js';
import { waitFor } from '../support/wait-for.js';

interface ClipTruth {
  passes: { text: string; state: string }[];
}

const truth = JSON.parse(readFileSync('test/fixtures/demo/clip.json', 'utf8')) as ClipTruth;

describe('demo: the daemon on the bundled synthetic clip', () => {
  const reads: Read[] = [];
  const config = validateConfig({
    deviceId: 'e2e-pole',
    location: { latitude: 37.77, longitude: -122.42, headingDeg: 90, description: 'test' },
    // Offline (not real-time) analysis of every frame at 5 fps: the outcome must not depend on how
    // busy the machine is; the live, leaky path is covered by the RTSP tests.
    cameras: [{ id: 'cam1', uri: `file://${resolveInstallPath('test/fixtures/demo/clip.mp4')}`, loop: false, realtime: false, fpsCap: 5 }],
    models: { manifest: resolveInstallPath('models/manifest.json') },
    thresholds: {},
    http: { port: 0 },
    log: { level: 'silent' },
  });
  const daemon = new Daemon(config, pino({ level: 'silent' }), { onRead: (r) => reads.push(r) });

  it('reads every plate in the clip, once each, with evidence images and a healthy /healthz', async () => {
    onTestFinished(() => daemon.stop());
    await daemon.start();
    // /healthz answered while the clip plays, until the camera says the clip has ended.
    const healthDuring: number[] = [];
    await waitFor('the clip to end', async () => {
      const res = await daemon.httpApp!.inject({ method: 'GET', url: '/healthz' });
      healthDuring.push(res.statusCode);
      return res.json().cameras[0]?.state === 'ended';
    }, 90_000, 200);
    // The end-of-clip flush delivers the last pass after the camera has ended.
    await waitFor('the last pass flushed', () => reads.length >= truth.passes.length, 30_000);
    // Past the start-up grace, every answer while the clip played was 200; and there were some.
    const playing = healthDuring.slice(3, -1);
    expect(playing.length).toBeGreaterThan(0);
    expect(playing.every((c) => c === 200)).toBe(true);

    const got = reads.map((r) => r.plate).sort();
    expect(got).toEqual(truth.passes.map((p) => p.text).sort());
    for (const read of reads) {
      const expected = truth.passes.find((p) => p.text === read.plate)!;
      // P13: a state, when given, must be right.
      if (read.state !== null) expect(read.state).toBe(expected.state);
      expect(read.frames).toBeGreaterThanOrEqual(2);
      expect(read.plateJpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
      expect(read.overviewJpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
      expect(read.cameraId).toBe('cam1');
      expect(read.location.latitude).toBe(37.77);
      expect(read.candidates.length).toBeLessThanOrEqual(10);
      expect(Date.parse(read.capturedAt)).not.toBeNaN();
    }
    const states = reads.filter((r) => r.state !== null).length;
    expect(states).toBeGreaterThanOrEqual(4);
    const metrics = await daemon.httpApp!.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/alpr_edge_reads_total\{camera="cam1"\} 6/);
    // The clip's signs are boxed in frame after frame; unchanged, they are read once and then skipped.
    const boxes = (outcome: string) => Number(metrics.body.match(new RegExp(`alpr_edge_plate_boxes_total\\{camera="cam1",outcome="${outcome}"\\} (\\d+)`))?.[1] ?? -1);
    expect(boxes('read')).toBeGreaterThan(0);
    expect(boxes('skipped_static')).toBeGreaterThan(0);
    expect(metrics.body).not.toContain(truth.passes[0]!.text);
  }, 120_000);
});
