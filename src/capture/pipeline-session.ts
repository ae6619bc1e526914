import type { Logger } from 'pino';
import { counterValue, renderedFromStats } from './appsink-stats.js';
import {
  gstreamerIfLoaded,
  loadGstreamer,
  type GstAppSink,
  type GstBufferTiming,
  type GstBusMessage,
  type GstCaps,
  type GstElement,
  type GstPipeline,
  type GstScaledFrame,
} from './gst-binding.js';
import { APPSINK_FRAMES, APPSINK_NAME, QUEUE_FRAMES, RATE_NAME } from './pipeline-description.js';

export interface PipelineSessionHandlers {
  /** A returned promise holds the next pull until it settles (offline analysis: every frame, no drops). */
  sample(buf: Buffer, caps: GstCaps, timing: GstBufferTiming, scaled: GstScaledFrame[]): void | Promise<void>;
  /** First fatal problem of this session; later errors are only logged. */
  failure(reason: string, elementName: string): void;
  /** End of stream reached and every frame before it pulled. */
  endOfStream(): void;
  warning(message: GstBusMessage): void;
  /** An element changed state; decodebin pipelines reveal their decoder this way. */
  elementSeen(elementName: string): void;
}

/** How long to wait before asking an appsink that returned no sample again (EOS, flushing, still starting). */
const EMPTY_PULL_RETRY_MS = 50;

/**
 * How a stop ended: `stopped` (NULL reached), `failed` (GStreamer refused NULL), or `abandoned`
 * (still not NULL at the deadline: an element is wedged; the pipeline and its stop thread are left
 * to finish, or not, on their own).
 */
export interface PipelineStop {
  outcome: 'stopped' | 'failed' | 'abandoned';
  ms: number;
}

/**
 * One GStreamer pipeline from play to NULL. Reconnecting means a new session; loops seek instead,
 * which is cheaper than building a new pipeline.
 */
export class PipelineSession {
  private readonly pipeline: GstPipeline;
  private readonly sink: GstAppSink;
  private readonly rate: GstElement | undefined;
  /** Long sides of the smaller copies the addon makes of each frame (CameraSourceOptions.scaledLongSides). */
  private readonly scaledLongSides: readonly number[] | undefined;
  private stopped = false;
  private failed = false;
  private eosSeen = false;
  private eosDelivered = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<PipelineStop> | undefined;
  /** Frames taken from the appsink, and drop-accounting baselines re-taken at each seek. */
  private pulled = 0;
  private pulledBaseline = 0;
  private upstreamBaseline = 0;
  private droppedBeforeSeeks = 0;

  /** Throws when GStreamer cannot parse the description (missing element, bad syntax). */
  constructor(
    description: string,
    private readonly handlers: PipelineSessionHandlers,
    private readonly log: Logger,
    options: { decoderThreads?: number; scaledLongSides?: readonly number[] } = {},
  ) {
    const { Pipeline } = loadGstreamer();
    try {
      this.pipeline = new Pipeline(description, options);
    } catch (err) {
      throw new Error(describeParseError(err));
    }
    const sink = this.pipeline.findChild(APPSINK_NAME);
    if (sink === undefined || typeof (sink as Partial<GstAppSink>).pull !== 'function') {
      throw new Error(`pipeline has no appsink named "${APPSINK_NAME}"`);
    }
    this.sink = sink as GstAppSink;
    this.rate = this.pipeline.findChild(RATE_NAME);
    this.scaledLongSides = options.scaledLongSides;
  }

  start(): void {
    this.pipeline.pollBus(this.onBusMessage);
    this.pipeline.play();
    this.pull();
  }

  /** Flushing seek to 0 for looping files. False when the pipeline refused (not seekable). */
  restartFromBeginning(): boolean {
    if (this.stopped) return false;
    this.droppedBeforeSeeks += this.droppedSinceSeek();
    this.pulledBaseline = this.pulled;
    this.upstreamBaseline = this.upstreamFrames() ?? 0;
    const ok = this.pipeline.seek(0, 1 /* GST_SEEK_FLAG_FLUSH */);
    if (ok) {
      this.eosSeen = false;
      this.eosDelivered = false;
    }
    return ok;
  }

  /**
   * Frames the pipeline discarded because nobody pulled them in time: frames that entered the
   * bounded part of the pipeline minus frames pulled minus what may still sit in it. The binding
   * exposes no drop counter, so this is a lower bound that is exact once the pipeline drains.
   */
  droppedFrames(): number {
    return this.droppedBeforeSeeks + this.droppedSinceSeek();
  }

  /**
   * Brings the pipeline to NULL off the JS thread. Resolves when it got there, or after deadlineMs
   * with `abandoned`: rtspsrc can wedge in its NULL transition (its change_state waits on a lock
   * its own task holds while deactivating pads, seen with GStreamer 1.22), and a camera that must
   * run for months cannot wait on that. An abandoned pipeline that stops later is freed then.
   * Safe to call repeatedly; later calls get the first call's result.
   */
  stop(deadlineMs: number): Promise<PipelineStop> {
    if (this.stopping !== undefined) return this.stopping;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const startedAt = performance.now();
    const elapsed = (): number => Math.round(performance.now() - startedAt);
    this.stopping = new Promise<PipelineStop>((resolve) => {
      let settled = false;
      const deadline = setTimeout(() => {
        settled = true;
        resolve({ outcome: 'abandoned', ms: elapsed() });
      }, deadlineMs);
      try {
        this.pipeline.stop((ok) => {
          if (settled) {
            this.log.warn({ stopMs: elapsed(), ok }, 'an abandoned pipeline reached NULL after all; freed');
            return;
          }
          settled = true;
          clearTimeout(deadline);
          resolve({ outcome: ok ? 'stopped' : 'failed', ms: elapsed() });
        });
      } catch (err) {
        this.log.warn({ err }, 'pipeline refused to stop');
        settled = true;
        clearTimeout(deadline);
        resolve({ outcome: 'failed', ms: elapsed() });
      }
    });
    return this.stopping;
  }

  private droppedSinceSeek(): number {
    const upstream = this.upstreamFrames();
    if (upstream === undefined) return 0;
    // Counters may restart on a flushing seek; a value below the baseline means they did.
    const entered = upstream >= this.upstreamBaseline ? upstream - this.upstreamBaseline : upstream;
    const inFlight = this.rate === undefined ? APPSINK_FRAMES : QUEUE_FRAMES + APPSINK_FRAMES + 1;
    return Math.max(0, entered - (this.pulled - this.pulledBaseline) - inFlight);
  }

  /** videorate's output count when present (it sits before the leaky queue), else what reached the appsink. */
  private upstreamFrames(): number | undefined {
    if (this.rate !== undefined) return counterValue(this.rate.out);
    return renderedFromStats(this.sink.stats);
  }

  /** One pull outstanding at a time: the appsink's two slots are the only frames buffered for us. */
  private readonly pull = (): void => {
    this.retryTimer = undefined;
    if (this.stopped) return;
    this.sink.pull((buf, caps, timing, scaled) => {
      if (this.stopped) return;
      if (buf !== null) {
        this.pulled++;
        // An addon built before the copies existed passes none.
        const consumed = this.handlers.sample(buf, caps, timing, scaled ?? []);
        if (consumed) consumed.then(this.pull, this.pull);
        else this.pull();
        return;
      }
      if (this.eosSeen && !this.eosDelivered) {
        this.eosDelivered = true;
        this.handlers.endOfStream();
        if (this.stopped) return;
      }
      this.retryTimer = setTimeout(this.pull, EMPTY_PULL_RETRY_MS);
    }, this.scaledLongSides);
  };

  private readonly onBusMessage = (msg: GstBusMessage): void => {
    this.log.trace({ busMessage: msg, stopped: this.stopped }, 'bus message');
    if (this.stopped) return;
    const element = msg._src_element_name ?? 'pipeline';
    switch (msg.type) {
      case 'error': {
        const reason = describeBusMessage(msg);
        if (this.failed) {
          this.log.debug({ element, reason }, 'further pipeline error');
          return;
        }
        this.failed = true;
        this.handlers.failure(reason, element);
        return;
      }
      case 'warning':
        this.handlers.warning(msg);
        return;
      case 'eos':
        // The appsink may still hold frames; endOfStream waits until they are pulled.
        this.eosSeen = true;
        return;
      case 'state-changed':
        this.handlers.elementSeen(element);
        return;
      default:
        return;
    }
  };
}

/** GStreamer pipelines still in memory in this process (a leak shows as a number that only grows); 0 before the first. */
export function livePipelines(): number {
  return gstreamerIfLoaded()?.livePipelines() ?? 0;
}

/**
 * One line for a bus error or warning, e.g.
 * `rtspsrc: Could not open resource for reading and writing. (Failed to connect. (Generic error))`.
 * The binding gives errors a `message`; warnings only carry GStreamer's debug text, whose last
 * line is the useful part.
 */
export function describeBusMessage(msg: GstBusMessage): string {
  const element = (msg._src_element_name ?? 'pipeline').replace(/-?\d+$/, '');
  const detail = typeof msg.debug === 'string' ? msg.debug.split(':\n').pop()?.trim() : undefined;
  const text = msg.message ?? detail ?? `unknown GStreamer ${msg.type}`;
  let line = detail !== undefined && detail !== '' && detail !== text ? `${element}: ${text} (${detail})` : `${element}: ${text}`;
  if (typeof msg.debug === 'string' && msg.debug.includes('not-negotiated')) {
    line += ' - the source cannot produce the requested format: check that roi lies inside the source frame';
  }
  return line;
}

function describeParseError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const missing = /no element "([^"]+)"/.exec(text)?.[1];
  if (missing !== undefined) {
    return `GStreamer element "${missing}" is not installed: install the plugin package that provides it (gst-inspect-1.0 ${missing} must succeed)`;
  }
  return `GStreamer could not build the pipeline: ${text}`;
}
