import { createRequire } from 'node:module';
import { GstreamerUnavailableError } from './capture-errors.js';

/**
 * Typed view of the parts of gstreamer-superficial capture uses.
 *
 * The binding has no type declarations and is a native CommonJS addon, which ESM cannot
 * import directly, hence createRequire.
 */
export interface GstBusMessage {
  /** Message type name (`error`, `eos`, `warning`, `state-changed`, ...). A structure field called `type` overrides it (stream-status, progress). */
  type: string;
  /** Name of the element that posted the message, e.g. `rtspsrc0`, `avdec_h264-3`. */
  _src_element_name?: string;
  /** Error messages: the human-readable GError text. */
  message?: string;
  /** Error and warning messages: GStreamer's debug detail (source file, element path, cause). */
  debug?: string;
  [field: string]: unknown;
}

export interface GstCaps {
  name?: string;
  width?: number;
  height?: number;
  format?: string;
  framerate?: string;
  [field: string]: unknown;
}

/** GObject properties are exposed as plain JS properties; 64-bit integers arrive as strings. */
export type GstElement = Record<string, unknown>;

export interface GstAppSink extends GstElement {
  /** Blocks a libuv pool thread until a sample, EOS or the sink leaving PLAYING/PAUSED; `buf` is null in the last two cases. */
  pull(cb: (buf: Buffer | null, caps: GstCaps) => void): void;
}

export interface GstPipeline {
  play(): void;
  pause(): void;
  /** Synchronous set_state(NULL). */
  stop(): void;
  /** Position in whole seconds; flags 1 = GST_SEEK_FLAG_FLUSH. */
  seek(seconds: number, flags: number): boolean;
  findChild(name: string): GstElement | undefined;
  /** Blocks a libuv pool thread on the bus; re-arms itself after each message until the pipeline is NULL. */
  pollBus(cb: (msg: GstBusMessage) => void): void;
  'auto-flush-bus': boolean;
}

interface GstreamerBinding {
  Pipeline: new (description: string) => GstPipeline;
}

let binding: GstreamerBinding | undefined;

export function loadGstreamer(): GstreamerBinding {
  if (binding === undefined) {
    try {
      binding = createRequire(import.meta.url)('gstreamer-superficial') as GstreamerBinding;
    } catch (err) {
      throw new GstreamerUnavailableError(err);
    }
  }
  return binding;
}
