import { describe, expect, it, onTestFinished } from 'vitest';
import pino from 'pino';
import { resolveInstallPath, validateConfig } from '../../src/config/load.js';
import { livePipelines } from '../../src/capture/index.js';
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

  // Until 2026-12-01 this deadlocked now and then: gstreamer-superficial ran set_state(NULL) on the
  // JS thread, and rtspsrc's change_state waited on a lock its own task held while deactivating
  // pads (gdb: main thread in gst_element_change_state → libgstrtsp, task0 in gst_pad_stop_task).
  // Our addon (native/gst-capture) now stops pipelines on a thread of their own, and CameraSource
  // abandons one that has not stopped after stopTimeoutMs (test/integration/pipeline-stop.test.ts).
  it('reports the outage in /healthz, is healthy again once the camera returns, and keeps reading', async () => {
    const servers: RtspServer[] = [];
    let daemon: Daemon | undefined;
    // Stopped however the test ends: a failed assertion leaves no daemon or RTSP server behind.
    onTestFinished(async () => {
      await daemon?.stop();
      for (const s of servers) await s.stop().catch(() => {});
    });
    const clip = resolveInstallPath('test/fixtures/demo/clip.mp4');
    const server = await startRtspServer({ file: clip });
    servers.push(server);
    const reads: Read[] = [];
    const config = validateConfig({
      deviceId: 'rtsp-pole',
      location: { latitude: 1, longitude: 2, headingDeg: 3 },
      // A backoff cap of 2 s (default 4 s) keeps the outage and the recovery below short.
      cameras: [{ id: 'gate', uri: server.url, fpsCap: 15, stallTimeoutMs: 3000, reconnectMaxDelayMs: 2000 }],
      models: { manifest: resolveInstallPath('models/manifest.json') },
      http: { port: 0 },
      log: { level: 'silent' },
      maxWedgedPipelines: 1,
    });
    const wedged: number[] = [];
    daemon = new Daemon(config, pino({ level: process.env.LOG_LEVEL ?? 'silent' }), { onRead: (r) => reads.push(r), onWedged: (n) => wedged.push(n) });
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
    // Health may first turn 503 for the stall (no frames) while the camera still says online; wait
    // for the capture to notice the lost server too.
    let down = await health();
    await waitFor('outage in health', async () => {
      down = await health();
      return down.code === 503 && /reconnecting|offline/.test(down.body.cameras[0]!.state);
    }, 8000);
    expect(down.body.cameras[0]!.state).toMatch(/reconnecting|offline/);
    expect(down.body.cameras[0]!.reason).toBeTruthy();
    // Several failed attempts while it is gone (counted by the capture), not a guess at how long they take.
    const attemptsAtOutage = daemon.health().cameras[0]!.reconnects;
    await waitFor('two failed reconnect attempts', () => daemon!.health().cameras[0]!.reconnects >= attemptsAtOutage + 2, 30_000);

    const restarted = await startRtspServer({ port: server.port, file: clip });
    servers.push(restarted);
    // How soon is the backoff's business (unit-tested, capped at reconnectMaxDelayMs), not this machine's speed.
    await waitFor('healthy again', async () => (await health()).code === 200, 30_000);

    // The clip restarts with the server: its first plate passes again within ~5 s.
    const readsBefore = reads.length;
    await waitFor('a read after the outage', () => reads.length > readsBefore, 15_000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
    // Every pipeline of the failed attempts is freed. The streaming pipeline's own stop, after the
    // server vanished under it, can wedge in rtspsrc (GStreamer 1.22, TCP interleaved: "Timed out
    // waiting for TEARDOWN", then set_state(NULL) never returns; 2026-12-02 about 1 run in 3 here,
    // teardown-timeout=0 did not avoid it). The capture abandons that stop after stopTimeoutMs and
    // carries on, as designed; the abandoned pipeline is never freed (an open bug: one thread and
    // its buffers per occurrence), and the metric counts it. So: at most that one abandoned, and
    // every other pipeline but the running one freed.
    const metrics = await daemon.httpApp!.inject({ method: 'GET', url: '/metrics' });
    const abandoned = Number(/alpr_edge_capture_pipelines_abandoned_total\{camera="gate"\} (\d+)/.exec(metrics.body)?.[1]);
    expect(abandoned).toBeLessThanOrEqual(1);
    // maxWedgedPipelines: 1 asks for a restart exactly when that one stop was abandoned (run.ts
    // then exits 75 and systemd starts the daemon again, which frees it).
    expect(wedged).toEqual(abandoned === 1 ? [1] : []);
    await waitFor('only the running (and an abandoned) pipeline left', () => livePipelines() <= 1 + abandoned, 15_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${livePipelines()} pipelines alive, ${abandoned} abandoned`);
    });
  }, 90_000);
});
