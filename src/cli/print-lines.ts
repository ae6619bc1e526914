import type { Read } from '../pipeline/read.js';
import type { HitPayload } from '../mqtt/messages.js';
import { formatHitLine } from '../mqtt/hit-line.js';

/**
 * How `run --print-reads --print-hits` prints (the demo, a technician's terminal): `text`, one
 * readable line per read and per hit (hits as `watch` prints them), or `json`, the raw record. These
 * lines show plate text on purpose: they are the operator's own view on stdout, not the device log,
 * where plate text stays at debug level (P16).
 */
export type PrintFormat = 'text' | 'json';
export const PRINT_FORMATS: readonly PrintFormat[] = ['text', 'json'];

/** A read as one line, without its images (their sizes only). */
export function readLine(read: Read, format: PrintFormat): string {
  const { plateJpeg, overviewJpeg, ...rest } = read;
  if (format === 'json') return JSON.stringify({ ...rest, plateJpegBytes: plateJpeg.length, overviewJpegBytes: overviewJpeg.length });
  const colour = read.vehicle?.colour ? ` | ${read.vehicle.colour}` : '';
  return [
    `READ ${read.capturedAt}`,
    read.cameraId,
    `${read.plate}${read.state ? ` (${read.state})` : ''}`,
    `conf ${read.confidence.toFixed(2)}, agreement ${read.agreement.toFixed(2)}, ${read.frames} frames${colour}`,
    `id ${read.id}`,
  ].join(' | ');
}

/** A hit as one line: `HIT` and what `watch` prints, or `HIT` and the message without its base64 images. */
export function hitLine(hit: HitPayload, format: PrintFormat): string {
  if (format === 'text') return `HIT ${formatHitLine(hit)}`;
  const { images, ...rest } = hit;
  return `HIT ${JSON.stringify({ ...rest, images: { plateJpegBase64Chars: images.plateJpeg.length, overviewJpegBase64Chars: images.overviewJpeg.length } })}`;
}
