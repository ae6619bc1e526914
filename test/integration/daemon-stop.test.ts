import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createServer } from 'node:net';
import pino from 'pino';
import { resolveInstallPath, validateConfig } from '../../src/config/load.js';
import { Daemon } from '../../src/daemon.js';
import { livePipelines } from '../../src/capture/index.js';
import type { DaemonExtension } from '../../src/extension.js';
import type { Read, ReadSink } from '../../src/pipeline/read.js';

// Issue 21, "no read lost, no stop that hangs": the daemon on the demo clip (real GStreamer and
// ONNX), analysed offline so frames follow each other without gaps. A gate sink holds a read to put
// stop() in the middle of a frame's analysis at a known point, instead of guessing with sleeps.

const logger = pino({ level: process.env['LOG_LEVEL'] ?? 'silent' });

function demoConfig() {
  return validateConfig({
    deviceId: 'stop-pole',
    location: { latitude: 1, longitude: 2, headingDeg: 3 },
    cameras: [{ id: 'cam1', uri: `file://${resolveInstallPath('test/fixtures/demo/clip.mp4')}`, loop: true, realtime: false, fpsCap: 5 }],
    models: { manifest: resolveInstallPath('models/manifest.json') },
    http: { host: '127.0.0.1', port: 0 },
    log: { level: 'silent' },
  });
}

/** A sink that records what it gets, and whether it got anything after its extension stopped. */
class Recorder implements DaemonExtension {
  readonly name: string;
  readonly reads: Read[] = [];
  afterStop = 0;
  stopped = false;
  private onStop: (() => void)[] = [];
  constructor(name: string) {
    this.name = name;
  }
  async start(): Promise<ReadSink> {
    return {
      name: this.name,
      accept: async (read: Read) => {
        if (this.stopped) this.afterStop++;
        this.reads.push(read);
      },
    };
  }
  async stop(): Promise<void> {
    this.stopped = true;
    this.onStop.forEach((f) => f());
  }
  whenStopped(): Promise<void> {
    return this.stopped ? Promise.resolve() : new Promise((resolve) => this.onStop.push(resolve));
  }
}

/** Holds the first read it gets until `release` resolves; tells when it holds it. */
class Gate implements DaemonExtension {
  readonly name = 'gate';
  private holding: (() => void) | undefined;
  readonly held: Promise<void> = new Promise((resolve) => (this.holding = resolve));
  private first = true;
  constructor(private readonly release: () => Promise<void>) {}
  async start(): Promise<ReadSink> {
    return {
      name: this.name,
      accept: async () => {
        if (!this.first) return;
        this.first = false;
        this.holding!();
        await this.release();
      },
    };
  }
  async stop(): Promise<void> {}
}

describe('daemon stop', { timeout: 120_000 }, () => {
  it('waits for the frame being analysed: its reads reach every sink before the sinks stop, and the flush comes after', async () => {
    let stopCalled!: () => void;
    const stopping = new Promise<void>((resolve) => (stopCalled = resolve));
    const gate = new Gate(() => stopping);
    const recorder = new Recorder('recorder');
    const produced: Read[] = [];
    const daemon = new Daemon(demoConfig(), logger, { extensions: [gate, recorder], onRead: (r) => produced.push(r) });
    onTestFinished(() => daemon.stop());
    await daemon.start();
    await gate.held;
    // stop() begins while the gate holds a read of the frame in analysis; the gate lets go once it has.
    const stopped = daemon.stop();
    stopCalled();
    await stopped;
    expect(recorder.afterStop).toBe(0);
    // Every read the pipeline produced (the held one, the rest of its frame, the passes flushed at
    // stop) reached the recorder: none was lost between the analysis and the flush.
    expect(recorder.reads.map((r) => r.id)).toEqual(produced.map((r) => r.id));
    expect(produced.length).toBeGreaterThanOrEqual(1);
  });

  it('never hands a read to a stopped sink, even when an analysis outlasts the stop bound: the read is counted instead', async () => {
    const recorder = new Recorder('recorder');
    // The gate holds its read until the recorder, after it in data-flow order, has stopped: the
    // analysis outlives stop()'s bound on purpose.
    const gate = new Gate(() => recorder.whenStopped());
    const daemon = new Daemon(demoConfig(), logger, { extensions: [gate, recorder] });
    onTestFinished(() => daemon.stop());
    await daemon.start();
    await gate.held;
    await daemon.stop();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(recorder.afterStop).toBe(0);
    const metrics = await daemon.metrics.registry.metrics();
    expect(metrics).toMatch(/alpr_edge_read_sink_errors_total\{sink="recorder"\} 1/);
  });

  it('start is all or nothing: an extension that fails to start stops the ones already started', async () => {
    const first = new Recorder('first');
    const failing: DaemonExtension = {
      name: 'failing',
      start: async () => {
        throw new Error('cannot open its database');
      },
      stop: async () => {},
    };
    const daemon = new Daemon(demoConfig(), logger, { extensions: [first, failing] });
    onTestFinished(() => daemon.stop());
    await expect(daemon.start()).rejects.toThrow('cannot open its database');
    expect(first.stopped).toBe(true);
  });

  it('start is all or nothing: an HTTP port already taken stops every extension started before it', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as { port: number }).port;
    const first = new Recorder('first');
    const second = new Recorder('second');
    const config = demoConfig();
    const daemon = new Daemon({ ...config, http: { ...config.http, port } }, logger, { extensions: [first, second] });
    onTestFinished(() => daemon.stop());
    await expect(daemon.start()).rejects.toThrow(/EADDRINUSE/);
    expect([first.stopped, second.stopped]).toEqual([true, true]);
  });

  it('a stop while the models load (SIGTERM during start) ends the start there: no extension starts, nothing listens', async () => {
    let started = 0;
    const later: DaemonExtension = {
      name: 'later',
      start: async () => {
        started++;
        return undefined;
      },
      stop: async () => {},
    };
    const daemon = new Daemon(demoConfig(), logger, { extensions: [later] });
    onTestFinished(() => daemon.stop());
    // start() runs up to its first step, loading the models, and returns; the stop comes during it.
    const starting = daemon.start();
    await daemon.stop();
    await expect(starting).resolves.toBeUndefined();
    expect(daemon.isRunning).toBe(false);
    expect(started).toBe(0);
    expect(daemon.httpAddress).toBeUndefined();
    expect(daemon.health().cameras).toEqual([]);
  });

  it('a stop while an extension starts lets that start finish, stops the extension, and starts nothing after it', async () => {
    let entered!: () => void;
    const inStart = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slow = new Recorder('slow');
    const slowStart = slow.start.bind(slow);
    slow.start = async () => {
      entered();
      await released;
      return slowStart();
    };
    let laterStarted = false;
    const later: DaemonExtension = {
      name: 'later',
      start: async () => {
        laterStarted = true;
        return undefined;
      },
      stop: async () => {},
    };
    const daemon = new Daemon(demoConfig(), logger, { extensions: [slow, later] });
    onTestFinished(() => daemon.stop());
    const starting = daemon.start();
    await inStart;
    const stopping = daemon.stop();
    release();
    await Promise.all([starting, stopping]);
    expect(daemon.isRunning).toBe(false);
    expect(slow.stopped).toBe(true);
    expect(laterStarted).toBe(false);
    expect(daemon.httpAddress).toBeUndefined();
  });

  it('start is all or nothing: a camera opened during the start (issue 23) is stopped again when a later step fails', async () => {
    const failing: DaemonExtension = {
      name: 'failing',
      // Fails only once the camera's GStreamer pipeline runs, so the stop has something to stop.
      start: async () => {
        await vi.waitFor(() => expect(livePipelines()).toBeGreaterThan(0), { timeout: 30_000, interval: 20 });
        throw new Error('cannot open its database');
      },
      stop: async () => {},
    };
    const daemon = new Daemon(demoConfig(), logger, { extensions: [failing] });
    onTestFinished(() => daemon.stop());
    await expect(daemon.start()).rejects.toThrow('cannot open its database');
    expect(livePipelines()).toBe(0);
    expect(daemon.health().cameras).toEqual([]);
  });

  it('an offline file opened while the daemon starts loses no frame: each waits for the camera\'s pipeline', async () => {
    // The camera logs "online" at its first frame; an extension holds the start until then, so that
    // frame certainly arrives before the camera's pipeline exists.
    let online = false;
    const watched = pino({ level: 'info' }, { write: (line: string) => void (online ||= /"msg":"camera state"/.test(line) && /"state":"online"/.test(line)) });
    const waitsForFrame: DaemonExtension = {
      name: 'waits-for-frame',
      start: async () => {
        await vi.waitFor(() => expect(online).toBe(true), { timeout: 30_000, interval: 20 });
        return undefined;
      },
      stop: async () => {},
    };
    const daemon = new Daemon(demoConfig(), watched, { extensions: [waitsForFrame] });
    onTestFinished(() => daemon.stop());
    await daemon.start();
    await vi.waitFor(() => expect(daemon.health().cameras[0]!.framesAnalysed).toBeGreaterThanOrEqual(2), { timeout: 60_000, interval: 20 });
    const cam = daemon.health().cameras[0]!;
    // Back-pressure: at most the frame in analysis has come in without being analysed yet.
    expect(cam.framesIn - cam.framesAnalysed).toBeLessThanOrEqual(1);
  });
});
