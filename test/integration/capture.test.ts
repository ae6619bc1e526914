import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CameraSource, livePipelines, type CameraSourceOptions, type CaptureStatus, type Frame } from '../../src/capture/index.js';
import { loadGstreamer } from '../../src/capture/gst-binding.js';
import { makeH264Clip } from '../support/gst-clips.js';
import { freePort, startRtspServer, type RtspServer } from '../support/gst.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const running: CameraSource[] = [];
const servers: RtspServer[] = [];
let dir: string;
let clip30: string;

function camera(opts: Omit<CameraSourceOptions, 'logger' | 'id'> & { id?: string }): CameraSource {
  const source = new CameraSource({ id: 'cam-test', logger, ...opts });
  running.push(source);
  return source;
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Threads parked in poll/ppoll. The binding's bus watcher blocks a libuv pool thread in ppoll; one
 * left behind after a source stops would starve fs, dns and zlib once the pool (4 threads) is used up.
 */
function threadsInPoll(): number {
  let count = 0;
  for (const task of readdirSync('/proc/self/task')) {
    try {
      const syscall = readFileSync(`/proc/self/task/${task}/syscall`, 'utf8').split(' ')[0];
      if (syscall === '7' || syscall === '271') count++;
    } catch {
      // thread exited meanwhile
    }
  }
  return count;
}

function collectStatuses(source: CameraSource): Array<CaptureStatus & { atMs: number }> {
  const seen: Array<CaptureStatus & { atMs: number }> = [];
  source.on('status', (status) => seen.push({ ...status, atMs: Date.now() }));
  return seen;
}

/** Stops the source and checks the outcome, not the time it took: stopped, no pipeline abandoned. */
async function expectCleanStop(source: CameraSource): Promise<void> {
  await source.stop();
  expect(source.status()).toMatchObject({ state: 'stopped', pipelinesAbandoned: 0 });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alpr-capture-'));
  clip30 = join(dir, 'clip30.mp4');
  await makeH264Clip(clip30, { frames: 30, width: 160, height: 120 });
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((source) => source.stop()));
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('test:// source', () => {
  it('delivers packed RGB frames at the requested size, no faster than fpsCap', async () => {
    const source = camera({ uri: 'test://?width=640&height=480&fps=30', width: 320, height: 240, fpsCap: 10 });
    const frames: Frame[] = [];
    source.on('frame', (frame) => frames.push(frame));
    source.start();
    await waitFor('ten frames', () => frames.length >= 10, 30_000);
    // For test:// the cap is applied in GStreamer (videorate), in stream time: however busy the
    // machine is, the delivered frames' timestamps advance at no more than fpsCap on average, unlike
    // a count of frames per wall-clock second. (One gap may be a source frame short: videorate
    // keeps the rate, not each gap, and a loaded machine makes the live source late.)
    expect(frames.every((frame) => typeof frame.ptsMs === 'number')).toBe(true);
    const meanGapMs = (frames.at(-1)!.ptsMs! - frames[0]!.ptsMs!) / (frames.length - 1);
    expect(meanGapMs).toBeGreaterThanOrEqual(90);
    for (const frame of frames) {
      expect([frame.width, frame.height]).toEqual([320, 240]);
      expect(frame.rgb.length).toBe(320 * 240 * 3);
    }
    expect(frames.map((frame) => frame.seq)).toEqual(frames.map((_, i) => i));
    expect(source.status()).toMatchObject({ state: 'online', framesIn: frames.length, reconnects: 0 });
    expect(source.latestFrame()).toBe(frames.at(-1));
    await expectCleanStop(source);
  });

  it('crops the roi in source pixels and keeps its aspect ratio when only width is given', async () => {
    // 150 px rows are 450 bytes, which GStreamer pads to 452: the frame must still be packed.
    const source = camera({ uri: 'test://?width=640&height=480&fps=15', roi: { x: 100, y: 50, width: 300, height: 200 }, width: 150 });
    const frames: Frame[] = [];
    source.on('frame', (frame) => frames.push(frame));
    source.start();
    await waitFor('a frame', () => frames.length > 0, 3000);
    expect([frames[0]?.width, frames[0]?.height]).toEqual([150, 100]);
    expect(frames[0]?.rgb.length).toBe(150 * 100 * 3);
  });

  it('drops frames instead of queueing them for a consumer slower than the camera', async () => {
    const source = camera({ uri: 'test://?width=640&height=480&fps=30' });
    source.start();
    await waitFor('online', () => source.status().state === 'online', 30_000);
    const rssBefore = process.memoryUsage().rss;
    const seqs: number[] = [];
    for await (const frame of source.frames()) {
      expect(frame.rgb.length).toBe(640 * 480 * 3);
      seqs.push(frame.seq);
      if (seqs.length === 6) break;
      // "Inference" slower than the camera: at least three more frames arrive before the next is taken.
      const arrived = source.status().framesIn;
      await waitFor('three more frames', () => source.status().framesIn >= arrived + 3, 30_000);
    }
    const status = source.status();
    // The consumer got the newest frame each time: every frame between two it took was dropped,
    // counted, never queued.
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]! - seqs[i - 1]!).toBeGreaterThanOrEqual(3);
    // Of the three or more frames between two takes, one waits in the mailbox and the others are dropped.
    expect(status.framesDropped).toBeGreaterThanOrEqual((seqs.length - 1) * 2);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
  });
});

describe('file source', () => {
  it('delivers every frame and ends when dropOldFrames is false, even for a slow consumer', async () => {
    const source = camera({ uri: clip30, realtime: false, dropOldFrames: false });
    const frames: Frame[] = [];
    source.on('frame', (frame) => {
      frames.push(frame);
      const busyUntil = Date.now() + 10; // block the loop so the appsink fills up
      while (Date.now() < busyUntil);
    });
    const ended = new Promise<void>((resolve) => source.once('end', resolve));
    source.start();
    await ended;

    expect(frames).toHaveLength(30);
    expect(source.status()).toMatchObject({ state: 'ended', framesIn: 30, framesDropped: 0 });
    expect(source.status().decoder).toMatch(/dec/);
  });

  it('keeps the pixels of every frame a consumer holds while later frames arrive (frames are the pipeline\'s own buffers, not copies, issue 23)', async () => {
    const source = camera({ uri: clip30, realtime: false, dropOldFrames: false });
    const held: { frame: Frame; pixels: Buffer }[] = [];
    source.on('frame', (frame) => held.push({ frame, pixels: Buffer.from(frame.rgb) }));
    const ended = new Promise<void>((resolve) => source.once('end', resolve));
    source.start();
    await ended;

    expect(held).toHaveLength(30);
    // The clip moves, so a buffer the pipeline had reused for a later frame would show it.
    expect(held[0]!.pixels.equals(held[29]!.pixels)).toBe(false);
    for (const { frame, pixels } of held) expect(frame.rgb.equals(pixels), `frame ${frame.seq}`).toBe(true);
  });

  it('hands each frame its consumer let go back to GStreamer as the clip plays, not at the garbage collector\'s leisure (issue 23)', async () => {
    // A 160x120 clip's frames are too small for V8 to collect on its own within 30 frames: without
    // the capture's collection after each consumed frame, JS would hold all 30 by the end.
    const held = () => loadGstreamer().heldFrames!();
    const before = held();
    let mostHeld = 0;
    const source = camera({ uri: clip30, realtime: false, dropOldFrames: false, consumer: async () => void (mostHeld = Math.max(mostHeld, held() - before)) });
    const ended = new Promise<void>((resolve) => source.once('end', resolve));
    source.start();
    await ended;

    expect(source.status()).toMatchObject({ state: 'ended', framesIn: 30 });
    // The frame being consumed, the next one pulled, and frames whose free is still queued on the loop.
    expect(mostHeld).toBeLessThanOrEqual(6);
  });

  it('restarts from the beginning at end of file when looping', async () => {
    const clip = join(dir, 'clip10.mp4');
    await makeH264Clip(clip, { frames: 10 });
    const source = camera({ uri: `file://${clip}`, loop: true, realtime: false, dropOldFrames: false });
    let ended = false;
    source.on('end', () => (ended = true));
    let count = 0;
    source.on('frame', () => count++);
    source.start();
    await waitFor('three passes over the clip', () => count >= 30, 30_000);
    expect(ended).toBe(false);
    expect(source.status()).toMatchObject({ state: 'online', reconnects: 0 });
  });

  it('reports a truncated file as a failure with a reason instead of crashing', async () => {
    const broken = join(dir, 'truncated.mp4');
    await copyFile(clip30, broken);
    await truncate(broken, Math.floor((await stat(clip30)).size / 2));
    const source = camera({ uri: broken, realtime: false, reconnect: { initialDelayMs: 5000 } });
    const statuses = collectStatuses(source);
    source.start();
    await waitFor('a failure status', () => statuses.some((s) => s.state === 'reconnecting'), 30_000);
    const failure = statuses.find((s) => s.state === 'reconnecting');
    expect(failure?.reason).toMatch(/^qtdemux: .*no playable streams/);
  });
});

describe('rtsp source', () => {
  it('keeps retrying a closed port with growing delays and goes offline after N failures', async () => {
    const port = await freePort();
    // The delays the source chose, from its log, rather than gaps measured on a busy machine's clock.
    const retries: number[] = [];
    const source = new CameraSource({
      id: 'cam-test',
      logger: pino({ level: 'warn' }, { write: (line: string) => void retries.push((JSON.parse(line) as { retryInMs?: number }).retryInMs ?? -1) }),
      uri: `rtsp://127.0.0.1:${port}/test`,
      reconnect: { initialDelayMs: 100, maxDelayMs: 800, jitter: 0 },
      offlineAfterFailures: 4,
    });
    running.push(source);
    const statuses = collectStatuses(source);
    source.start();
    await waitFor('five failures', () => statuses.filter((s) => s.state === 'reconnecting' || s.state === 'offline').length >= 5, 30_000);

    const failures = statuses.filter((s) => s.state === 'reconnecting' || s.state === 'offline');
    expect(failures[0]?.reason).toMatch(new RegExp(`cannot connect to 127.0.0.1:${port} \\(ECONNREFUSED\\)`));
    expect(failures.slice(0, 3).map((s) => s.state)).toEqual(['reconnecting', 'reconnecting', 'reconnecting']);
    expect(failures[3]?.state).toBe('offline');
    expect(failures[4]?.state).toBe('offline');
    expect(retries.filter((ms) => ms >= 0).slice(0, 5)).toEqual([100, 200, 400, 800, 800]);
    expect(source.status().reconnects).toBeGreaterThanOrEqual(4);
  });

  it('comes back online after the camera server restarts mid-stream, without growing memory', async () => {
    const server = await startRtspServer({ width: 320, height: 240, fps: 15 });
    servers.push(server);
    const source = camera({
      uri: server.url,
      width: 320,
      height: 240,
      fpsCap: 10,
      stallTimeoutMs: 2000,
      reconnect: { initialDelayMs: 200, maxDelayMs: 1000, jitter: 0.2 },
    });
    const statuses = collectStatuses(source);
    let frames = 0;
    source.on('frame', () => frames++);
    source.start();
    await waitFor('online', () => frames >= 5, 30_000);
    expect(source.status().decoder).toBe('avdec_h264');
    const rssBefore = process.memoryUsage().rss;

    await server.stop();
    await waitFor('reconnecting', () => source.status().state === 'reconnecting', 30_000);
    expect(source.status().reason).toBeTruthy();
    const attempts = source.status().reconnects;
    await waitFor('two failed attempts while it is gone', () => source.status().reconnects >= attempts + 2, 30_000);

    const restarted = await startRtspServer({ port: server.port, width: 320, height: 240, fps: 15 });
    servers.push(restarted);
    const framesBefore = frames;
    // How soon is the backoff's (capped at maxDelayMs), not this test's to time.
    await waitFor('online again', () => source.status().state === 'online' && frames > framesBefore + 3, 30_000);

    const status = source.status();
    expect(status.reconnects).toBeGreaterThanOrEqual(1);
    expect(statuses.map((s) => s.state)).toContain('reconnecting');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(150 * 1024 * 1024);
    await expectCleanStop(source);
  });

  it('treats a camera that stops sending as stalled and recovers when it resumes', async () => {
    const server = await startRtspServer({ width: 160, height: 120, fps: 15 });
    servers.push(server);
    const source = camera({ uri: server.url, stallTimeoutMs: 1000, reconnect: { initialDelayMs: 100, maxDelayMs: 400 } });
    let frames = 0;
    source.on('frame', () => frames++);
    source.start();
    await waitFor('online', () => frames > 3, 30_000);

    server.freeze();
    await waitFor('stall detected', () => source.status().state === 'reconnecting', 30_000);
    expect(source.status().reason).toMatch(/no frame for \d+ ms/);
    // A reconnect into the frozen server fails too (counted), before the server thaws.
    const attempts = source.status().reconnects;
    await waitFor('a reconnect into the frozen server', () => source.status().reconnects > attempts, 30_000);
    server.thaw();
    const framesBefore = frames;
    await waitFor('online again', () => source.status().state === 'online' && frames > framesBefore, 30_000);
  });

  it('stops cleanly while connecting to a server that does not answer', async () => {
    const server = await startRtspServer();
    servers.push(server);
    server.freeze(); // the kernel still accepts the TCP connection; RTSP never answers
    const before = livePipelines();
    const source = camera({ uri: server.url });
    source.start();
    await waitFor('the pipeline to be connecting', () => livePipelines() > before, 30_000);
    expect(source.status().state).toBe('starting');
    // Stopped in NULL, not abandoned after stopTimeoutMs; a second stop changes nothing.
    await expectCleanStop(source);
    await expectCleanStop(source);
  });
});

describe('resources', () => {
  it.skipIf(!process.platform.startsWith('linux') || process.arch !== 'x64')(
    'leaves no bus-watch thread blocked after sources fail, end and stop',
    async () => {
      const baseline = threadsInPoll();
      const live = camera({ uri: 'test://?width=160&height=120' });
      const file = camera({ uri: clip30, realtime: false, dropOldFrames: false });
      const closed = camera({ uri: `rtsp://127.0.0.1:${await freePort()}/x`, reconnect: { initialDelayMs: 50, maxDelayMs: 50 } });
      const ended = new Promise<void>((resolve) => file.once('end', resolve));
      const statuses = collectStatuses(closed);
      for (const source of [live, file, closed]) source.start();
      await ended;
      await waitFor('live frames', () => live.status().framesIn > 5, 3000);
      await waitFor('several failed attempts', () => statuses.length >= 5, 3000);
      expect(threadsInPoll()).toBeGreaterThan(baseline);
      await Promise.all([live.stop(), file.stop(), closed.stop()]);
      await waitFor('bus threads released', () => threadsInPoll() <= baseline, 2000);
    },
  );
});
