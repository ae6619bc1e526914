import type { Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/schema.js';
import { CameraSource, cameraSourceOptions, isOfflineFile, livePipelines, probeElements } from './capture/index.js';
import type { Frame } from './capture/frame.js';
import { PlateEngine, engineOptions, scaledLongSidesFor } from './inference/engine.js';
import { CameraPipeline, wallClock } from './pipeline/camera-pipeline.js';
import type { Read, ReadSink } from './pipeline/read.js';
import { buildHttpApp } from './http/app.js';
import { createMetrics, setBuildInfo, setClockSynced, type Metrics } from './metrics/metrics.js';
import { assessHealth, type HealthReport } from './health/health.js';
import type { DaemonExtension } from './extension.js';
import { DeviceEventBus } from './device-events.js';
import { RateWindow } from './pipeline/rate-window.js';
import { planReload } from './config/live.js';
import { LiveView } from './device/live-view.js';
import { ClockMonitor, clockSync } from './host/clock.js';
import { sourceCommit } from './source-commit.js';
import { SelftestRunner } from './device/selftest-runner.js';
import { resolveInstallPath } from './config/load.js';
import { VERSION } from './version.js';

/**
 * A camera opened during start(), once the models are loaded: GStreamer connects, picks its
 * decoder and decodes on its own threads while the main thread starts the extensions and HTTP.
 * Its frames wait (a live camera's in its latest-frame mailbox, an offline file's behind the
 * consumer's back-pressure) until start() has succeeded and the camera's pipeline exists.
 */
interface OpeningCamera {
  cam: Config['cameras'][number];
  source: CameraSource;
  /** Live cameras: the latest-frame mailbox, made before the source starts so no frame is missed. */
  frames?: AsyncIterableIterator<Frame>;
  /** Camera state changes seen while starting: raised as device events once the extensions listen. */
  states: { state: string; reason?: string }[];
  onState?: (state: string, reason: string | undefined) => void;
}

interface CameraRuntime {
  id: string;
  source: CameraSource;
  pipeline: CameraPipeline;
  analysedRate: RateWindow;
  lastReadAtMs?: number;
  /** The frame being analysed and its reads delivered, if any: stop() awaits it before flushing. */
  analysing?: Promise<void>;
  synced: { framesIn: number; framesDropped: number; decodeErrors: number; reconnects: number; pipelinesAbandoned: number; passesDiscarded: number };
}

export interface DaemonOptions {
  /** Features in data-flow order (store → hot list → MQTT); their sinks get reads in that order. */
  extensions?: DaemonExtension[];
  /**
   * HTTP plugins on the started extensions' services (the query API on the store's database):
   * registered after the extensions start, before the server listens. The composition root
   * (src/app.ts) supplies them; extensions never see the HTTP server.
   */
  registerHttp?: (app: FastifyInstance) => Promise<void>;
  /** Extra consumers of reads after the extensions' own. */
  sinks?: ReadSink[];
  /** Lets the embedding process watch reads (the demo prints them). */
  onRead?: (read: Read) => void;
  /**
   * Called once when `maxWedgedPipelines` capture pipelines have been left behind: the process
   * should stop and start again (run.ts exits 75 for systemd), as only that frees them.
   */
  onWedged?: (abandoned: number) => void;
  /** The configuration file the daemon was started with: the console's self-test checks it. */
  configFile?: string;
}

/**
 * Wires capture → inference → pipeline → sinks for every configured camera, plus the local HTTP
 * server. Start order: models (a bad model fails before any camera opens), cameras open (GStreamer
 * starts on its own threads), extensions, HTTP, then the cameras' pipelines: the first frame is
 * analysed only once everything has started, and a failed extension or a taken port stops the
 * cameras again. Stop order is the reverse, and every step is
 * bounded so SIGTERM ends the process within 5 s.
 */
export class Daemon {
  readonly metrics: Metrics;
  /** Device events from every component; the MQTT extension publishes them. */
  readonly events = new DeviceEventBus();
  /** The web console's live view: fed by every camera's analysed frames while someone watches. */
  readonly liveView: LiveView;
  /** P2: whether the clock is synchronised, asked every minute (metrics, MQTT telemetry). */
  readonly clock: ClockMonitor;
  private engine: PlateEngine | undefined;
  private http: FastifyInstance | undefined;
  private cameras: CameraRuntime[] = [];
  private wedgedReported = false;
  private sinks: ReadSink[] = [];
  private started: DaemonExtension[] = [];
  private readonly startedAtMs = Date.now();
  private stopping = false;
  private running = false;
  /** The start in progress, settled either way: stop() waits for it to end at its next step. */
  private starting: Promise<unknown> | undefined;
  /** Cameras started during start() whose pipelines do not exist yet; stop() stops them too. */
  private opening: OpeningCamera[] = [];
  /** Settles true once every camera's pipeline exists, false if the start ends without them. */
  private camerasAttached = deferred<boolean>();
  /** Set once the extensions stop: a read after that is counted and logged, never handed to a sink. */
  private sinksClosed = false;

  constructor(
    private config: Config,
    private readonly logger: Logger,
    private readonly opts: DaemonOptions = {},
  ) {
    this.metrics = createMetrics({ stateDir: config.stateDir });
    this.clock = new ClockMonitor(60_000, (sync) => setClockSynced(this.metrics, sync));
    this.liveView = new LiveView({ detectorMaxSide: config.models.detectorMaxSide, maxFps: config.http.console.liveMaxFps });
  }

  get httpAddress(): string | undefined {
    const addr = this.http?.server.address();
    return addr && typeof addr === 'object' ? `http://${addr.address}:${addr.port}` : undefined;
  }

  get httpApp(): FastifyInstance | undefined {
    return this.http;
  }

  /** True from the end of a complete start until stop. */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * All or nothing: if any step fails (a model, an extension, the port), what already started is
   * stopped in reverse order, like stop(), and the error is thrown on. A stop() called meanwhile (a
   * SIGTERM while the models load) ends the start between its steps: start resolves with
   * `isRunning` false and stop() stops what had started.
   */
  async start(): Promise<void> {
    const run = this.startAll();
    this.starting = run.catch(() => undefined);
    try {
      await run;
    } catch (err) {
      if (err instanceof StartInterrupted) return;
      await this.stop();
      throw err;
    } finally {
      this.starting = undefined;
    }
  }

  /** Between start's steps: a stop() asked for meanwhile ends the start here. */
  private checkNotStopping(): void {
    if (this.stopping) throw new StartInterrupted();
  }

  private async startAll(): Promise<void> {
    const c = this.config;
    // Sources validate their URI and geometry on construction: a bad camera config fails before
    // models load or a port opens (exit 78).
    const sources = c.cameras.map((cam) => this.createSource(cam));
    // The list of GStreamer elements (one gst-inspect-1.0 process, cached) comes in while the models
    // load: a camera opened later launches its pipeline at once instead of waiting for the main
    // thread to be free to take the listing, which it is not until HTTP listens (issue 23).
    if (sources.length > 0) void probeElements();
    const engine = await PlateEngine.load(engineOptions(c, { logger: this.logger.child({ component: 'inference' }) }));
    this.engine = engine;
    this.checkNotStopping();
    // Start-up (issue 23): the cameras open once the models are loaded (a bad model still fails
    // before any camera opens), so GStreamer's element probe, connection, decoder choice and first
    // decoded frame (0.3-0.6 s; longer for RTSP waiting on a key frame) run on its own threads while
    // the extensions start and HTTP compiles its routes. No frame is analysed before the whole start
    // has succeeded. Opened any earlier, a live camera's frames decoded only to be dropped while the
    // models load cost more CPU than the wait they hide on a loaded 2-core machine.
    this.opening = c.cameras.map((cam, i) => this.openCamera(cam, sources[i]!));
    setBuildInfo(this.metrics, { version: VERSION, commit: sourceCommit(), models: engine.modelVersion });
    void this.clock.start();
    this.http = buildHttpApp({
      logger: this.logger, metrics: this.metrics, health: () => this.health(), beforeScrape: () => this.syncCaptureCounters(),
      console: {
        config: c.http.console, live: this.liveView, clock: clockSync,
        ...(this.opts.configFile ? { selftest: new SelftestRunner({ configFile: this.opts.configFile, command: [process.execPath, resolveInstallPath('dist/src/bin.cjs')] }) } : {}),
      },
    });
    for (const ext of this.opts.extensions ?? []) {
      const sink = await ext.start({ config: c, logger: this.logger.child({ component: ext.name }), metrics: this.metrics, events: this.events, health: () => this.health(), clock: () => this.clock.latest });
      this.started.push(ext);
      if (sink) this.sinks.push(sink);
      this.checkNotStopping();
    }
    this.sinks.push(...(this.opts.sinks ?? []));
    await this.opts.registerHttp?.(this.http);
    this.checkNotStopping();
    await this.http.listen({ host: c.http.host, port: c.http.port });
    this.logger.info({ component: 'http', address: this.httpAddress }, 'http server listening');
    this.checkNotStopping();
    for (const opened of this.opening) this.cameras.push(this.attachCamera(opened, engine));
    this.opening = [];
    this.running = true;
    this.camerasAttached.resolve(true);
  }

  /**
   * `systemctl reload` (SIGHUP) with a configuration already validated as `run` validates it: the
   * live settings (src/config/live.ts) go to the extensions, which also re-read publisher key files
   * even when the config is unchanged; every other changed setting is named in the log as waiting for
   * a restart, and the daemon goes on with its old value. An extension that refuses (an unreadable
   * key) keeps what it had, and the reload is reported as failed.
   */
  async reload(next: Config): Promise<{ ok: boolean; live: string[]; needRestart: string[] }> {
    const log = this.logger.child({ component: 'daemon' });
    if (!this.running || this.stopping) {
      log.warn('reload ignored: the daemon is starting or stopping');
      return { ok: false, live: [], needRestart: [] };
    }
    const plan = planReload(this.config, next);
    let ok = true;
    for (const ext of this.started) {
      try {
        await ext.reconfigure?.(plan.running);
      } catch (err) {
        ok = false;
        log.error({ extension: ext.name, err: (err as Error).message }, 'reload refused by an extension; it keeps its previous settings');
      }
    }
    if (ok) this.config = plan.running;
    if (plan.needRestart.length > 0) {
      log.warn({ settings: plan.needRestart }, 'changed settings need a restart to take effect (systemctl restart alpr-edge); running with their previous values');
    }
    log.info({ applied: ok ? plan.live : [], ok }, 'configuration reloaded');
    return { ok, live: plan.live, needRestart: plan.needRestart };
  }

  private createSource(cam: Config['cameras'][number]): CameraSource {
    // Each frame also at the detector's sizes, scaled by the capture off the JS thread (issue 23).
    const scaled = scaledLongSidesFor(this.config.models.detectorMaxSide);
    return new CameraSource(cameraSourceOptions(cam, this.logger, (frame: Frame) => this.analyseOffline(cam.id, frame), scaled));
  }

  private async analyseOffline(cameraId: string, frame: Frame): Promise<void> {
    // An offline file opened during start() holds its first frame here until the camera's pipeline
    // exists (back-pressure: nothing is skipped), or drops it if the start fails or is stopped.
    if (!(await this.camerasAttached.promise)) return;
    const rt = this.cameras.find((c) => c.id === cameraId);
    if (!rt || this.stopping) return;
    await this.analyseOne(rt, frame);
  }

  /** One frame analysed and its reads delivered; kept in `rt.analysing` so stop() can await it. */
  private async analyseOne(rt: CameraRuntime, frame: Frame): Promise<void> {
    const done = (async () => {
      try {
        await this.deliver(rt, await rt.pipeline.analyse(frame));
      } catch (err) {
        this.logger.error({ component: 'pipeline', camera: rt.id, err }, 'frame analysis failed; frame skipped');
      }
    })();
    rt.analysing = done;
    await done;
    if (rt.analysing === done) rt.analysing = undefined;
  }

  /** Starts a camera's source with its status wired; its pipeline comes in attachCamera(). */
  private openCamera(cam: Config['cameras'][number], source: CameraSource): OpeningCamera {
    const log = this.logger.child({ component: 'daemon', camera: cam.id });
    const opened: OpeningCamera = { cam, source, frames: isOfflineFile(cam) ? undefined : source.frames(), states: [] };
    source.on('status', (s: { state: string; reason?: string }) => {
      this.metrics.cameraOnline.set({ camera: cam.id }, s.state === 'online' ? 1 : 0);
      log.info({ state: s.state, reason: s.reason }, 'camera state');
      if (this.stopping) return;
      // Until the extensions listen (MQTT publishes camera-down), changes wait to be raised in order.
      if (opened.onState) opened.onState(s.state, s.reason);
      else opened.states.push(s);
    });
    source.on('abandoned', () => this.checkWedged());
    source.start();
    return opened;
  }

  private attachCamera(opened: OpeningCamera, engine: PlateEngine): CameraRuntime {
    const { cam, source } = opened;
    const offline = isOfflineFile(cam);
    const analysedRate = new RateWindow();
    const pipeline = new CameraPipeline(this.liveView.tapEngine(cam.id, engine), {
      deviceId: this.config.deviceId,
      cameraId: cam.id,
      location: this.config.location,
      tracker: this.config.thresholds,
      fineLookEvery: this.config.models.fineLookEveryFrames,
      logger: this.logger.child({ component: 'pipeline', camera: cam.id }),
      onFrameAnalysed: (t, _plates, boxes) => {
        analysedRate.mark();
        this.metrics.framesAnalysed.inc({ camera: cam.id });
        this.metrics.plateBoxes.inc({ camera: cam.id, outcome: 'read' }, boxes.read);
        this.metrics.plateBoxes.inc({ camera: cam.id, outcome: 'skipped_static' }, boxes.skippedStatic);
        this.metrics.stageSeconds.observe({ camera: cam.id, stage: 'detect' }, t.detectMs / 1000);
        this.metrics.stageSeconds.observe({ camera: cam.id, stage: 'read' }, t.readMs / 1000);
      },
    }, offline ? (f) => (f.seq * 1000) / cam.fpsCap : wallClock);
    const rt: CameraRuntime = { id: cam.id, source, pipeline, analysedRate, synced: { framesIn: 0, framesDropped: 0, decodeErrors: 0, reconnects: 0, pipelinesAbandoned: 0, passesDiscarded: 0 } };
    const events = cameraEvents(cam.id, this.events);
    opened.onState = (state, reason) => events.onState(state, reason);
    for (const s of opened.states.splice(0)) events.onState(s.state, s.reason);
    // A file that ended during start ends with nothing to flush; one that ends later is flushed.
    source.on('end', () => void this.flushCamera(rt));
    if (opened.frames) void this.analyseFrames(rt, opened.frames);
    return rt;
  }

  /**
   * Leaky by design: the source's latest-frame mailbox hands over only the newest frame once the
   * previous one is analysed; frames in between are dropped and counted, never queued.
   */
  private async analyseFrames(rt: CameraRuntime, frames: AsyncIterableIterator<Frame>): Promise<void> {
    for await (const frame of frames) {
      if (this.stopping) break;
      await this.analyseOne(rt, frame);
    }
  }

  private async flushCamera(rt: CameraRuntime): Promise<void> {
    await this.deliver(rt, await rt.pipeline.flush());
  }

  private async deliver(rt: CameraRuntime, reads: Read[]): Promise<void> {
    for (const read of reads) {
      rt.lastReadAtMs = Date.now();
      this.metrics.reads.inc({ camera: rt.id });
      this.opts.onRead?.(read);
      for (const sink of this.sinks) {
        if (this.sinksClosed) {
          // Only an analysis that outlived stop()'s bound gets here: a stopped sink is never called;
          // the read is counted and logged instead of vanishing.
          this.metrics.sinkErrors.inc({ sink: sink.name });
          this.logger.warn({ component: 'daemon', camera: rt.id, sink: sink.name, readId: read.id }, 'read finished after its sink stopped; not handed to it');
          continue;
        }
        try {
          await sink.accept(read);
        } catch (err) {
          // A failing consumer must not stop the others or the camera loop; the sink owns retries.
          this.metrics.sinkErrors.inc({ sink: sink.name });
          this.logger.error({ component: 'pipeline', sink: sink.name, readId: read.id, err }, 'read sink failed');
        }
      }
    }
  }

  /** Pipelines left behind by all cameras; at the configured limit, asks once for a restart. */
  private checkWedged(): void {
    const abandoned = this.cameras.reduce((n, rt) => n + rt.source.status().pipelinesAbandoned, 0);
    const limit = this.config.maxWedgedPipelines;
    if (limit === 0 || abandoned < limit || this.wedgedReported) return;
    this.wedgedReported = true;
    this.logger.fatal({ component: 'daemon', pipelinesAbandoned: abandoned, limit }, 'capture pipelines wedged while stopping and hold threads and memory; restarting the daemon frees them');
    this.opts.onWedged?.(abandoned);
  }

  private syncCaptureCounters(): void {
    for (const rt of this.cameras) {
      const s = rt.source.status();
      const labels = { camera: rt.id };
      this.metrics.framesIn.inc(labels, s.framesIn - rt.synced.framesIn);
      this.metrics.framesDropped.inc(labels, s.framesDropped - rt.synced.framesDropped);
      this.metrics.decodeErrors.inc(labels, s.decodeErrors - rt.synced.decodeErrors);
      this.metrics.reconnects.inc(labels, s.reconnects - rt.synced.reconnects);
      this.metrics.pipelinesAbandoned.inc(labels, s.pipelinesAbandoned - rt.synced.pipelinesAbandoned);
      const discarded = rt.pipeline.counters.passesDiscarded;
      // Deltas, like the capture counters: a reset() here would zero the other cameras' counts.
      this.metrics.passesDiscarded.inc(labels, discarded - rt.synced.passesDiscarded);
      rt.synced = {
        framesIn: s.framesIn,
        framesDropped: s.framesDropped,
        decodeErrors: s.decodeErrors,
        reconnects: s.reconnects,
        pipelinesAbandoned: s.pipelinesAbandoned,
        passesDiscarded: discarded,
      };
    }
    this.metrics.pipelinesAlive.set(livePipelines());
  }

  health(nowMs = Date.now()): HealthReport {
    const stallMs = Math.max(...this.config.cameras.map((c) => c.stallTimeoutMs));
    return assessHealth(
      this.cameras.map((rt) => ({ status: rt.source.status(), lastAnalysedAtMs: rt.pipeline.lastAnalysedAtMs, framesAnalysed: rt.pipeline.framesAnalysed, analysedFps: rt.analysedRate.perSecond(nowMs), lastReadAtMs: rt.lastReadAtMs })),
      nowMs,
      stallMs,
      this.startedAtMs,
      VERSION,
      { version: this.engine?.modelVersion ?? 'not loaded', interim: this.engine?.interim ?? false },
      Object.fromEntries(this.started.filter((e) => e.health).map((e) => [e.name, e.health!()])),
    );
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.running = false;
    // A start in progress ends at its next step (a model load in hand finishes first); then what it
    // started is stopped below like anything else.
    if (this.starting) {
      this.logger.info({ component: 'daemon' }, 'stop asked for while starting; start ends after its current step');
      await this.starting;
    }
    this.clock.stop();
    // Offline files waiting for their pipeline give their frame back; cameras opened by a start
    // that did not finish are stopped with the others.
    this.camerasAttached.resolve(false);
    const opened = this.opening.splice(0);
    await Promise.allSettled([...this.cameras.map((rt) => rt.source.stop()), ...opened.map((o) => o.source.stop())]);
    // The frame being analysed finishes and its reads reach the sinks before the flush, so a pass it
    // opens or extends is in the flush; bounded, as the unit gives the whole stop 5 s.
    await this.analysisSettled(ANALYSIS_STOP_TIMEOUT_MS);
    // Passes still in view are emitted rather than lost.
    await Promise.allSettled(this.cameras.map((rt) => this.flushCamera(rt)));
    await this.http?.close();
    this.sinksClosed = true;
    for (const ext of [...this.started].reverse()) {
      await ext.stop().catch((err: unknown) => this.logger.error({ component: 'daemon', extension: ext.name, err }, 'extension stop failed'));
    }
    this.started = [];
    await this.engine?.close();
    this.logger.info({ component: 'daemon' }, 'stopped');
  }

  /** Waits for every camera's frame in analysis, at most `timeoutMs`; says so when one is still running. */
  private async analysisSettled(timeoutMs: number): Promise<void> {
    const pending = this.cameras.flatMap((rt) => (rt.analysing ? [rt.analysing] : []));
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const outcome = await Promise.race([Promise.allSettled(pending), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.logger.warn({ component: 'daemon', timeoutMs }, 'a frame analysis outlasted the stop bound; flushing without it');
  }
}

/** Thrown inside start() when stop() was called meanwhile; start() resolves instead of throwing it. */
class StartInterrupted extends Error {
  constructor() {
    super('start interrupted by stop');
  }
}

/** A promise with its resolve at hand; resolving again does nothing. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** How long stop() waits for frames in analysis: one frame takes well under a second on a device. */
export const ANALYSIS_STOP_TIMEOUT_MS = 2000;

/**
 * camera-down when a camera that was online goes reconnecting or offline (critical once it is
 * offline: the retries are at their longest delay), camera-up when it is back, with how long it was
 * down. One event per transition, not one per reconnect attempt.
 */
export function cameraEvents(cameraId: string, bus: DeviceEventBus, nowMs = () => Date.now()) {
  let up = false;
  let downSinceMs = 0;
  let severity: 'warning' | 'critical' | undefined;
  return {
    onState(state: string, reason: string | undefined): void {
      if (state === 'online') {
        if (severity !== undefined) bus.publish('camera-up', 'info', { camera: cameraId, downForS: Math.round((nowMs() - downSinceMs) / 1000) });
        up = true;
        severity = undefined;
        return;
      }
      if (state !== 'reconnecting' && state !== 'offline') return;
      const next = state === 'offline' ? 'critical' : 'warning';
      if (severity === undefined && !up && next === 'warning') return; // still starting up: not "down" yet
      if (severity === next || severity === 'critical') return;
      if (severity === undefined) downSinceMs = nowMs();
      severity = next;
      up = false;
      bus.publish('camera-down', next, { camera: cameraId, state, reason: reason ?? null });
    },
  };
}

/** A clip analysed as fast as the machine allows rather than played like a live camera. */
