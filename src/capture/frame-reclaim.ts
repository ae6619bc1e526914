import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A pulled frame reaches JS without a copy: its Node Buffer holds the GstBuffer, which goes back to
// GStreamer's buffer pool only once the garbage collector has freed the Buffer (native/gst-capture).
// V8 counts the 6 MB of a 1080p frame as external memory but collects on its own only every ~64 MB
// of it, and the pool keeps every buffer it ever had to allocate while frames waited: playing a
// 1080p clip to a consumer held up to 10 frames and grew the pool to 18 buffers (112 MB) that
// nothing used any more (issue 23, docs/benchmarks.md). A young-generation collection (a scavenge)
// frees the frames let go since the one before for ~0.1-0.8 ms when few objects survive, so
// CameraSource asks for one each time its consumer is done with a frame.
//
// Not as live cameras' frames arrive: tried on the daemon with a 1080p30 clip (frames dropped by the
// mailbox die young), it freed nothing the daemon's own collections did not, and the scavenges, 30 a
// second among the daemon's live objects, cost CPU. A frame that is being analysed outlives the
// scavenges of its own analysis and is promoted; only a full collection, or giving it back
// explicitly, frees it.

type Collect = (options: { type: 'minor' }) => void;

let collect: Collect | null | undefined;

/** Frees the frames (and their copies) that JS no longer references, by a scavenge; frames still referenced are untouched. */
export function reclaimDroppedFrames(): void {
  collect ??= collector();
  collect?.({ type: 'minor' });
}

/**
 * V8's gc() without starting Node with --expose-gc: the flag set now applies to contexts made
 * after it, and a new context's global gc is the same collector. null where that fails: frames are
 * then freed when V8 collects on its own, as before.
 */
function collector(): Collect | null {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as Collect;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as Collect) : null;
  } catch {
    return null;
  }
}
