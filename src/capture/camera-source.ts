import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { DEFAULT_DECODER_THREADS } from '../config/schema.js';
import { decoderFromElementName } from './decoder-choice.js';
import { probeElements } from './element-probe.js';
import type { CameraState, CameraStatus, Frame } from './frame.js';
import { FrameRateLimiter } from './frame-rate-limiter.js';
import { reclaimDroppedFrames } from './frame-reclaim.js';
import { loadGstreamer, type GstBufferTiming, type GstBusMessage, type GstCaps, type GstScaledFrame } from './gst-binding.js';
import { LatestFrameMailbox } from './latest-frame-mailbox.js';
import {
  buildPipelineDescription,
  plannedDecoder,
  rateLimitedInGstreamer,
  type PipelineDescriptionOptions,
} from './pipeline-description.js';
import { describeBusMessage, PipelineSession, type PipelineStop } from './pipeline-session.js';
import { DEFAULT_RECONNECT, reconnectDelayMs, type ReconnectPolicy } from './reconnect-backoff.js';
import { packRgbRows } from './rgb-rows.js';
import { rtspEndpoint, tcpUnreachableReason } from './rtsp-reachability.js';
import { claimPoolThreads, releasePoolThreads } from './threadpool-budget.js';
import { parseSourceUri, redactUri, type CameraSourceUri } from './source-uri.js';

export interface CameraSourceOptions extends PipelineDescriptionOptions {
  id: string;
  /** rtsp://, rtsps:// (query `transport=tcp|udp|auto`, `codec=h264|h265|auto`), v4l2:///dev/videoN, /dev/videoN, file:///abs.mp4 or a path, test://?pattern=ball&width=1280&height=720&fps=15 */
  uri: string;
  /** File sources: seek back to the start at end of stream instead of ending. */
  loop?: boolean;
  reconnect?: ReconnectPolicy;
  /** No frame for this long while running counts as a failure (default 5000). */
  stallTimeoutMs?: number;
  /** Consecutive failures after which the state is 'offline' (retries continue at the maximum delay). Default 10. */
  offlineAfterFailures?: number;
  /**
   * A pipeline still not stopped after this long is abandoned (counted in pipelinesAbandoned) so
   * a wedged GStreamer element cannot hold up reconnecting or shutdown. Default 3000.
   */
  stopTimeoutMs?: number;
  /**
   * Offline analysis (files, benchmarks): each frame waits for this promise before the next one is
   * pulled, so every frame is analysed and nothing queues up. Live cameras leave it unset.
   */
  consumer?: (frame: Frame) => Promise<void>;
  /** Frame threads of a software (libav) decoder; 0 = one per core (the default). */
  decoderThreads?: number;
  /**
   * Smaller copies of each analysed frame with these long sides, largest first (the detector's
   * working resolution and its coarse look: `scaledLongSidesFor(models.detectorMaxSide)`), as
   * `Frame.scaled`, made by the addon on a pool thread: the detector then skips its own resizes of
   * the frame (issue 23). With a `consumer` (every frame analysed) each frame comes with them as it
   * is pulled, so the scaling overlaps the analysis of the frame before; a live camera's frames get
   * them when `frames()` hands them over, so the frames its mailbox drops are never scaled. Unset:
   * no copies.
   */
  scaledLongSides?: readonly number[];
  logger: Logger;
}

/** CameraStatus plus counters not (yet) in the shared contract. */
export interface CaptureStatus extends CameraStatus {
  /** Times the decoded frame size changed mid-stream (only possible without a configured width/height). */
  frameSizeChanges: number;
  /** Pipelines that did not reach NULL within stopTimeoutMs and were left behind (each holds a thread and its memory). */
  pipelinesAbandoned: number;
  /** Duration of the last completed pipeline stop, ms. */
  lastStopMs?: number;
}

export interface CameraSourceEvents {
  frame: [Frame];
  status: [CaptureStatus];
  end: [];
  /** A pipeline's stop was abandoned (status().pipelinesAbandoned counts them). */
  abandoned: [];
}

/**
 * Frames as the consumer takes them, each with its copies at `longSides` made then (on a pool
 * thread, the JS thread free meanwhile): the frames a busy consumer never takes are never scaled.
 */
async function* withScaledCopies(frames: AsyncIterableIterator<Frame>, longSides: readonly number[]): AsyncGenerator<Frame, void, undefined> {
  for await (const frame of frames) yield frame.scaled !== undefined ? frame : await withCopies(frame, longSides);
}

function withCopies(frame: Frame, longSides: readonly number[]): Promise<Frame> {
  return new Promise((resolve) => {
    try {
      loadGstreamer().scaleRgbCopies(frame.rgb, frame.width, frame.height, longSides, (scaled) => {
        resolve(scaled.length === 0 ? frame : { ...frame, scaled: scaled.map((s) => ({ width: s.width, height: s.height, rgb: s.data })) });
      });
    } catch {
      // An addon built before the copies existed (or a frame it refuses) costs only the saving: the
      // detector resizes the frame itself. The camera's consumer must never stop on it.
      resolve(frame);
    }
  });
}

const DEFAULT_STALL_TIMEOUT_MS = 5000;
const DEFAULT_OFFLINE_AFTER = 10;
const DEFAULT_STOP_TIMEOUT_MS = 3000;

/**
 * Frames from one camera, with reconnection. Failures (pipeline errors, live end of stream,
 * stalls) never throw: they show up as status 'reconnecting' / 'offline' with a reason while the
 * source keeps retrying with exponential backoff.
 *
 * Each running source occupies two libuv pool threads (the binding blocks one on the bus and one
 * on the appsink), so set UV_THREADPOOL_SIZE >= 2 x cameras + 2 before Node starts; a source logs
 * an error when the pool is too small.
 */
export class CameraSource extends EventEmitter<CameraSourceEvents> {
  private readonly log: Logger;
  private readonly source: CameraSourceUri;
  private readonly stallTimeoutMs: number;
  private readonly offlineAfter: number;
  private readonly stopTimeoutMs: number;
  private readonly reconnectPolicy: Required<ReconnectPolicy>;
  private readonly mailboxes = new Set<LatestFrameMailbox>();

  private state: CameraState = 'stopped';
  private reason: string | undefined;
  private running = false;
  private holdsPoolThreads = false;
  private generation = 0;
  private session: PipelineSession | undefined;
  /** Stops of closed sessions still under way; a new pipeline waits for them (one connection per camera). */
  private readonly pendingStops = new Set<Promise<void>>();
  private sessionStartedAtMs = 0;
  private limiter: FrameRateLimiter | undefined;
  /** Live sources often warn (server closed the connection) just before their end of stream; that is the better reason. */
  private lastWarning: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private consecutiveFailures = 0;
  private consumerBusy = false;

  private seq = 0;
  private framesIn = 0;
  private droppedInClosedSessions = 0;
  private skippedByConsumers = 0;
  private decodeErrors = 0;
  private reconnects = 0;
  private frameSizeChanges = 0;
  private pipelinesAbandoned = 0;
  private lastStopMs: number | undefined;
  private lastFrameAtMs: number | undefined;
  private lastSize: { width: number; height: number } | undefined;
  /** Weak: the newest frame must not outlive its consumers (frame-reclaim.ts). */
  private latest: WeakRef<Frame> | undefined;
  private decoder: string | undefined;
  private decoderPlanned = false;

  /** Throws CaptureConfigError when the uri or geometry cannot work; runtime failures never throw. */
  constructor(private readonly opts: CameraSourceOptions) {
    super();
    this.log = opts.logger.child({ component: 'capture', cameraId: opts.id });
    this.source = parseSourceUri(opts.uri, opts.id);
    // Validates geometry and fpsCap now rather than on the first connection attempt.
    buildPipelineDescription(opts, new Set());
    this.stallTimeoutMs = opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.offlineAfter = Math.max(1, opts.offlineAfterFailures ?? DEFAULT_OFFLINE_AFTER);
    this.stopTimeoutMs = opts.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    this.reconnectPolicy = { ...DEFAULT_RECONNECT, ...opts.reconnect };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.consecutiveFailures = 0;
    this.claimPoolThreads();
    this.setState('starting', undefined);
    this.log.info({ uri: redactUri(this.opts.uri) }, 'camera starting');
    this.armWatchdog();
    this.relaunch();
  }

  /**
   * Resolves once the pipeline is in NULL, or was abandoned after stopTimeoutMs. The JS thread is
   * never blocked meanwhile: GStreamer stops the pipeline on a thread of its own. Safe to call repeatedly.
   */
  async stop(): Promise<void> {
    const wasActive = this.running || this.session !== undefined;
    this.running = false;
    this.releasePoolThreads();
    this.generation++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.disarmWatchdog();
    this.closeSession();
    for (const mailbox of [...this.mailboxes]) mailbox.close();
    if (this.state !== 'stopped') {
      this.setState('stopped', undefined);
      if (wasActive) this.log.info('camera stopped');
    }
    await this.stopsSettled();
  }

  status(): CaptureStatus {
    return {
      id: this.opts.id,
      state: this.state,
      ...(this.reason === undefined ? {} : { reason: this.reason }),
      ...(this.lastFrameAtMs === undefined ? {} : { lastFrameAtMs: this.lastFrameAtMs }),
      framesIn: this.framesIn,
      framesDropped: this.droppedInClosedSessions + (this.session?.droppedFrames() ?? 0) + this.skippedByConsumers,
      decodeErrors: this.decodeErrors,
      reconnects: this.reconnects,
      ...(this.decoder === undefined ? {} : { decoder: this.decoder }),
      frameSizeChanges: this.frameSizeChanges,
      pipelinesAbandoned: this.pipelinesAbandoned,
      ...(this.lastStopMs === undefined ? {} : { lastStopMs: this.lastStopMs }),
    };
  }

  /** The newest frame, while something else (a consumer, a listener) still holds it. */
  latestFrame(): Frame | undefined {
    return this.latest?.deref();
  }

  /**
   * Latest-frame-wins iterator for consumers that take longer per frame than the camera delivers
   * (inference): frames arriving while the consumer is busy replace each other and count as
   * dropped. Ends when the source stops or a file ends.
   */
  frames(): AsyncIterableIterator<Frame> {
    const mailbox = new LatestFrameMailbox(
      () => this.skippedByConsumers++,
      (closed) => this.mailboxes.delete(closed),
    );
    this.mailboxes.add(mailbox);
    const sides = this.opts.scaledLongSides;
    return sides === undefined ? mailbox : withScaledCopies(mailbox, sides);
  }

  /** Launch failures become status; nothing may escape as an unhandled rejection. */
  private relaunch(): void {
    this.launch().catch((err: unknown) => {
      this.log.error({ err }, 'launching the pipeline failed unexpectedly');
      this.fail(`internal error while launching: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private async launch(): Promise<void> {
    const generation = ++this.generation;
    await this.stopsSettled();
    if (!this.running || generation !== this.generation) return;
    const available = await probeElements();
    if (!this.running || generation !== this.generation) return;
    const endpoint = this.source.kind === 'rtsp' ? rtspEndpoint(this.source.location) : undefined;
    if (endpoint !== undefined) {
      const unreachable = await tcpUnreachableReason(endpoint.host, endpoint.port, Math.min(this.stallTimeoutMs, 5000));
      if (!this.running || generation !== this.generation) return;
      if (unreachable !== undefined) {
        this.fail(unreachable);
        return;
      }
    }

    let session: PipelineSession;
    try {
      const description = buildPipelineDescription(this.opts, available);
      const planned = plannedDecoder(this.opts.uri, available);
      this.decoderPlanned = planned !== undefined;
      if (planned !== undefined) this.decoder = planned;
      this.log.debug({ description: description.replace(/location="[^"]*"/, 'location=<redacted>') }, 'launching pipeline');
      session = new PipelineSession(description, this.sessionHandlers(() => this.session === session), this.log, {
        decoderThreads: this.opts.decoderThreads ?? DEFAULT_DECODER_THREADS,
        ...(this.opts.scaledLongSides === undefined || this.opts.consumer === undefined ? {} : { scaledLongSides: this.opts.scaledLongSides }),
      });
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      return;
    }
    this.session = session;
    this.sessionStartedAtMs = Date.now();
    this.lastWarning = undefined;
    this.limiter =
      this.opts.fpsCap !== undefined && !rateLimitedInGstreamer(this.source) ? new FrameRateLimiter(this.opts.fpsCap) : undefined;
    try {
      session.start();
    } catch (err) {
      this.fail(`pipeline did not start: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private sessionHandlers(isCurrent: () => boolean) {
    return {
      sample: (buf: Buffer, caps: GstCaps, timing: GstBufferTiming, scaled: GstScaledFrame[]): void | Promise<void> => {
        if (isCurrent()) return this.onSample(buf, caps, timing, scaled);
      },
      failure: (reason: string, elementName: string) => {
        if (!isCurrent()) return;
        if (decoderFromElementName(elementName) !== undefined) this.decodeErrors++;
        this.fail(reason);
      },
      endOfStream: () => {
        if (isCurrent()) this.onEndOfStream();
      },
      warning: (msg: GstBusMessage) => {
        if (isCurrent()) this.onWarning(msg);
      },
      elementSeen: (elementName: string) => {
        if (!isCurrent() || this.decoderPlanned) return;
        const decoder = decoderFromElementName(elementName);
        if (decoder !== undefined && decoder !== this.decoder) {
          this.decoder = decoder;
          this.log.info({ decoder }, 'decoder selected by decodebin');
        }
      },
    };
  }

  private onSample(buf: Buffer, caps: GstCaps, timing: GstBufferTiming, scaled: GstScaledFrame[]): void | Promise<void> {
    const now = Date.now();
    // Frames are flowing even when the rate cap discards this one; the watchdog must see that.
    this.lastFrameAtMs = now;
    if (this.limiter !== undefined && !this.limiter.admit(now)) return;

    const { width, height } = caps;
    const rgb = typeof width === 'number' && typeof height === 'number' ? packRgbRows(buf, width, height) : undefined;
    if (rgb === undefined || width === undefined || height === undefined) {
      this.decodeErrors++;
      this.log.warn({ bytes: buf.length, caps }, 'frame does not match its caps; skipped');
      return;
    }
    if (this.lastSize !== undefined && (this.lastSize.width !== width || this.lastSize.height !== height)) {
      this.frameSizeChanges++;
      this.log.info({ from: this.lastSize, to: { width, height } }, 'frame size changed mid-stream');
    }
    this.lastSize = { width, height };

    if (this.state !== 'online') {
      this.consecutiveFailures = 0;
      this.setState('online', undefined);
      this.log.info({ width, height, decoder: this.decoder }, 'camera online');
    }

    const frame: Frame = { cameraId: this.opts.id, seq: this.seq++, capturedAtMs: now, width, height, rgb };
    if (typeof timing.ptsNs === 'number') frame.ptsMs = timing.ptsNs / 1e6;
    if (scaled.length > 0) frame.scaled = scaled.map((s) => ({ width: s.width, height: s.height, rgb: s.data }));
    this.framesIn++;
    this.latest = new WeakRef(frame);
    for (const mailbox of this.mailboxes) mailbox.offer(frame);
    try {
      this.emit('frame', frame);
    } catch (err) {
      // A throwing listener must not take the capture loop (and the process) down with it.
      this.log.error({ err }, "a 'frame' listener threw; later listeners missed this frame");
    }
    if (this.opts.consumer !== undefined) {
      this.consumerBusy = true;
      return this.opts.consumer(frame).then(
        () => this.consumerDone(),
        (err: unknown) => {
          this.log.error({ err }, 'frame consumer failed; frame skipped');
          this.consumerDone();
        },
      );
    }
  }

  private consumerDone(): void {
    this.consumerBusy = false;
    // Time spent analysing is not a stalled camera.
    this.lastFrameAtMs = Date.now();
    // Before the next pull, so that the frame just pulled is not aged by it: the frame just analysed
    // is freed unless the consumer kept it (frame-reclaim.ts).
    reclaimDroppedFrames();
  }

  private onEndOfStream(): void {
    if (this.source.kind !== 'file') {
      const why = this.lastWarning === undefined ? '' : ` after warning "${this.lastWarning}"`;
      this.fail(`the live source ended the stream${why}`);
      return;
    }
    if (this.opts.loop ?? false) {
      if (this.session?.restartFromBeginning() === true) {
        this.log.debug('file looped');
        return;
      }
      // Not seekable: a fresh pipeline also starts from the beginning.
      this.log.debug('file not seekable; rebuilding the pipeline to loop');
      this.closeSession();
      this.relaunch();
      return;
    }
    this.running = false;
    this.releasePoolThreads();
    this.disarmWatchdog();
    this.closeSession();
    for (const mailbox of [...this.mailboxes]) mailbox.close();
    this.setState('ended', 'end of file');
    this.log.info({ framesIn: this.framesIn }, 'file ended');
    this.emit('end');
  }

  private onWarning(msg: GstBusMessage): void {
    const element = msg._src_element_name ?? 'pipeline';
    if (decoderFromElementName(element) !== undefined) this.decodeErrors++;
    this.lastWarning = describeBusMessage(msg);
    this.log.warn({ element, warning: this.lastWarning }, 'pipeline warning');
  }

  private fail(reason: string): void {
    if (!this.running) return;
    this.closeSession();
    this.consecutiveFailures++;
    const offline = this.consecutiveFailures >= this.offlineAfter;
    const delayMs = offline
      ? reconnectDelayMs(Number.MAX_SAFE_INTEGER, this.reconnectPolicy)
      : reconnectDelayMs(this.consecutiveFailures, this.reconnectPolicy);
    this.log.warn({ reason, retryInMs: delayMs, consecutiveFailures: this.consecutiveFailures }, 'camera failed; will reconnect');
    this.setState(offline ? 'offline' : 'reconnecting', reason);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.running) return;
      this.reconnects++;
      this.relaunch();
    }, delayMs);
  }

  private claimPoolThreads(): void {
    if (this.holdsPoolThreads) return;
    this.holdsPoolThreads = true;
    const needed = claimPoolThreads();
    if (needed !== undefined) {
      this.log.error(
        { needed, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '(default 4)' },
        'libuv thread pool too small for the running cameras: set UV_THREADPOOL_SIZE in the environment before Node starts (e.g. systemd Environment=UV_THREADPOOL_SIZE=24)',
      );
    }
  }

  private releasePoolThreads(): void {
    if (!this.holdsPoolThreads) return;
    this.holdsPoolThreads = false;
    releasePoolThreads();
  }

  private closeSession(): void {
    const session = this.session;
    if (session === undefined) return;
    this.session = undefined;
    // Read the counters before NULL resets them.
    this.droppedInClosedSessions += session.droppedFrames();
    const stopped = session.stop(this.stopTimeoutMs).then((result) => this.onSessionStopped(result));
    this.pendingStops.add(stopped);
    void stopped.finally(() => this.pendingStops.delete(stopped));
  }

  private onSessionStopped({ outcome, ms }: PipelineStop): void {
    if (outcome === 'abandoned') {
      this.pipelinesAbandoned++;
      this.log.error(
        { stopTimeoutMs: this.stopTimeoutMs, pipelinesAbandoned: this.pipelinesAbandoned },
        'pipeline did not stop in time; abandoned it (a GStreamer element is wedged) and carry on',
      );
      this.emit('abandoned');
      return;
    }
    this.lastStopMs = ms;
    if (outcome === 'failed') this.log.warn({ stopMs: ms }, 'GStreamer reported a failure while stopping the pipeline');
    else this.log.debug({ stopMs: ms }, 'pipeline stopped');
  }

  /** Settles within stopTimeoutMs of the last closeSession(); never rejects. */
  private async stopsSettled(): Promise<void> {
    while (this.pendingStops.size > 0) await Promise.all([...this.pendingStops]);
  }

  private armWatchdog(): void {
    this.disarmWatchdog();
    const tickMs = Math.max(50, Math.min(1000, this.stallTimeoutMs / 4));
    this.watchdog = setInterval(() => this.checkStall(), tickMs);
    // A pending retry or the pipeline keeps the process alive; the watchdog alone should not.
    this.watchdog.unref();
  }

  private disarmWatchdog(): void {
    clearInterval(this.watchdog);
    this.watchdog = undefined;
  }

  private checkStall(): void {
    if (!this.running || this.session === undefined || this.consumerBusy) return;
    const lastSign = Math.max(this.sessionStartedAtMs, this.lastFrameAtMs ?? 0);
    const silentMs = Date.now() - lastSign;
    if (silentMs > this.stallTimeoutMs) this.fail(`no frame for ${silentMs} ms (stallTimeoutMs ${this.stallTimeoutMs})`);
  }

  private setState(state: CameraState, reason: string | undefined): void {
    this.state = state;
    this.reason = reason;
    try {
      this.emit('status', this.status());
    } catch (err) {
      this.log.error({ err }, "a 'status' listener threw");
    }
  }
}
