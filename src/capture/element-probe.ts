import { execFile } from 'node:child_process';
import type { ElementAvailability } from './decoder-choice.js';

let cached: Promise<ElementAvailability> | undefined;

/**
 * Which GStreamer elements this machine has, from one `gst-inspect-1.0` listing (one process,
 * ~30 ms) rather than one process per element. Cached for the life of the process: plugins do not
 * appear at runtime. A missing gst-inspect-1.0 yields an empty set, so pipelines fall back to
 * decodebin instead of failing.
 */
export function probeElements(): Promise<ElementAvailability> {
  cached ??= new Promise((resolve) => {
    execFile('gst-inspect-1.0', [], { maxBuffer: 16 * 1024 * 1024, timeout: 15_000 }, (err, stdout) => {
      resolve(err ? new Set() : parseInspectListing(stdout));
    });
  });
  return cached;
}

/** Lines look like `libav:  avdec_h264: libav H.264 / AVC ... decoder`. */
export function parseInspectListing(listing: string): ElementAvailability {
  const names = new Set<string>();
  for (const line of listing.split('\n')) {
    const match = /^[\w.-]+:\s+([\w.-]+):\s/.exec(line);
    if (match?.[1] !== undefined) names.add(match[1]);
  }
  return names;
}
