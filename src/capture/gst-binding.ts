import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GstreamerUnavailableError } from './capture-errors.js';

/**
 * Typed view of our GStreamer addon, native/gst-capture: gstreamer-superficial 1.7.4 trimmed to
 * what capture uses and changed so that stopping a pipeline never blocks the JS thread and
 * pipelines are freed (see native/gst-capture/README.md).
 *
 * A native CommonJS addon, which ESM cannot import directly, hence createRequire.
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

/** Buffer timestamps in nanoseconds of stream time; null when the buffer has none. */
export interface GstBufferTiming {
  ptsNs?: number | null;
  durationNs?: number | null;
}

/** A packed RGB frame scaled down by the addon (rows width * 3 bytes apart). */
export interface GstScaledFrame {
  width: number;
  height: number;
  data: Buffer;
}

export interface GstAppSink extends GstElement {
  /**
   * Waits on a libuv pool thread for a sample, at most 500 ms; `buf` is null when none came in
   * that time, at EOS, or while the sink is flushing. Bounded so a pipeline that never stops
   * cannot keep a pool thread.
   *
   * With `longSides` (largest first, at most 4), an RGB frame also comes as smaller copies made on
   * that pool thread, each from the last picture so far (the frame, then the copies) so that its
   * long side is the one asked for, with the triangle filter sharp's `kernel: 'linear'` resize uses
   * (to within a grey level) and sized as the detector sizes pictures. A side no smaller than that
   * picture's, or 4x or more smaller (sharp shrinks in two steps there), is skipped: `scaled` holds
   * the copies made, largest first.
   */
  pull(cb: (buf: Buffer | null, caps: GstCaps, timing: GstBufferTiming, scaled: GstScaledFrame[]) => void, longSides?: readonly number[]): void;
}

export interface GstPipeline {
  /** Throws once stop() was called. */
  play(): void;
  pause(): void;
  /**
   * Starts set_state(NULL) on a thread of its own and returns at once; `done` runs on the JS thread
   * when it returns (ok false when GStreamer reported failure), which may be never when an element
   * is wedged. The bus watch ends at once. False (and no `done`) when already stopping.
   */
  stop(done: (ok: boolean) => void): boolean;
  /** Position in whole seconds; flags 1 = GST_SEEK_FLAG_FLUSH. */
  seek(seconds: number, flags: number): boolean;
  findChild(name: string): GstElement | undefined;
  /** Waits on the bus on a libuv pool thread (at most 500 ms at a time); re-arms itself after each message until stop(). */
  pollBus(cb: (msg: GstBusMessage) => void): void;
  'auto-flush-bus': boolean;
}

interface GstreamerBinding {
  /** `decoderThreads` > 0 caps libav decoders' frame threads, decodebin's included (0: one per core). */
  Pipeline: new (description: string, options?: { decoderThreads?: number }) => GstPipeline;
  /** Pipelines not yet freed in this process, stopping and abandoned ones included. */
  livePipelines(): number;
  /**
   * Packed RGB scaled down (outWidth <= width, outHeight <= height) with the filter `pull` uses for
   * its copies (Frame.scaled), on the calling thread: for tests and the bench's CPU figure of that step.
   */
  scaleRgb(data: Buffer, width: number, height: number, outWidth: number, outHeight: number): Buffer;
  /**
   * The copies `pull` makes (see GstAppSink.pull), of a packed RGB frame already in JS, on a libuv
   * pool thread; `done` gets them on the JS thread. For the frames a live camera's consumer takes.
   */
  scaleRgbCopies(data: Buffer, width: number, height: number, longSides: readonly number[], done: (scaled: GstScaledFrame[]) => void): void;
  /** Frames pulled into JS whose GstBuffer JS still holds (not yet freed by the garbage collector); absent in addons built before it. */
  heldFrames?(): number;
  /** glibc's malloc summed over its arenas (mallinfo2), null without glibc 2.33+; absent in addons built before it. For the bench's RSS breakdown. */
  mallocStats?(): MallocStats | null;
}

/** What malloc holds (native/gst-capture/MallocStats.cpp), bytes. */
export interface MallocStats {
  /** Taken from the kernel for the arenas (brk heap and per-thread heaps). */
  arenaBytes: number;
  /** Blocks malloc mapped on their own (above its mmap threshold). */
  mmapBytes: number;
  /** Allocated from the arenas. */
  inUseBytes: number;
  /** Free in the arenas, resident or not: what malloc keeps for later. */
  freeBytes: number;
}

let binding: GstreamerBinding | undefined;

/** Where node-gyp puts the addon: src/capture (vitest) and dist/src/capture are 2 and 3 levels below the package root. */
export function addonPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes('/dist/') ? resolve(here, '../../..') : resolve(here, '../..');
  return resolve(root, 'native/gst-capture/build/Release/gst_capture.node');
}

export function loadGstreamer(): GstreamerBinding {
  if (binding === undefined) {
    try {
      binding = createRequire(import.meta.url)(addonPath()) as GstreamerBinding;
    } catch (err) {
      throw new GstreamerUnavailableError(err);
    }
  }
  return binding;
}

/** The binding when something already loaded it; metrics must not load (or fail to load) it themselves. */
export function gstreamerIfLoaded(): GstreamerBinding | undefined {
  return binding;
}
