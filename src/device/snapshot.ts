import sharp from 'sharp';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Box, RgbImage } from '../inference/image.js';
import type { PlateObservation } from '../inference/engine.js';
import { probeCamera } from './camera-probe.js';
import { AlprError, EX_UNAVAILABLE } from '../errors.js';

// `alpr-edge snapshot`: one live frame with what the models make of it, so a technician can aim and
// focus the camera: detector boxes with their score, reads with their confidence, each plate's width
// in pixels and a sharpness score (variance of the Laplacian: higher is sharper; it falls steeply
// as focus drifts, and only comparisons on the same scene mean anything).

export class SnapshotError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_UNAVAILABLE);
  }
}

/** Variance of the 4-neighbour Laplacian of the luma inside `box` (default: the whole picture). */
export function laplacianVariance(img: RgbImage, box: Box = [0, 0, img.width, img.height]): number {
  const [bx, by, bw, bh] = box.map(Math.round) as Box;
  const x0 = Math.max(1, bx);
  const y0 = Math.max(1, by);
  const x1 = Math.min(img.width - 1, bx + bw);
  const y1 = Math.min(img.height - 1, by + bh);
  if (x1 - x0 < 1 || y1 - y0 < 1) return 0;
  const luma = (x: number, y: number) => {
    const i = (y * img.width + x) * 3;
    return 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
  };
  let n = 0;
  let sum = 0;
  let sumSq = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const l = luma(x - 1, y) + luma(x + 1, y) + luma(x, y - 1) + luma(x, y + 1) - 4 * luma(x, y);
      n++;
      sum += l;
      sumSq += l * l;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

export interface SnapshotPlate {
  box: Box;
  text: string;
  state?: string;
  confidence: number;
  detectorScore: number;
  widthPx: number;
  sharpness: number;
}

export interface Snapshot {
  cameraId: string;
  width: number;
  height: number;
  capturedAt: string;
  /** Whole frame (or the region of interest). */
  sharpness: number;
  /** Every detector box at or above the detection threshold, read or not. */
  detections: { box: Box; score: number }[];
  plates: SnapshotPlate[];
  jpeg: Buffer;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** The overlay as SVG, composited onto the frame by sharp. */
export function overlaySvg(s: Omit<Snapshot, 'jpeg'>): string {
  const font = Math.max(14, Math.round(s.height / 36));
  const parts: string[] = [];
  for (const d of s.detections) {
    const [x, y, w, h] = d.box;
    parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#ffd400" stroke-width="2" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${x}" y="${y + h + font}" fill="#ffd400">det ${d.score.toFixed(2)}</text>`);
  }
  for (const p of s.plates) {
    const [x, y, w, h] = p.box;
    parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="#00e000" stroke-width="3"/>`);
    const label = `${p.text}${p.state ? ` ${p.state}` : ''} ${(p.confidence * 100).toFixed(0)}% · ${p.widthPx} px · sharp ${p.sharpness.toFixed(0)}`;
    parts.push(`<text x="${x}" y="${Math.max(font, y - 6)}" fill="#00e000">${escapeXml(label)}</text>`);
  }
  const banner = `${s.cameraId} ${s.capturedAt} · frame sharpness ${s.sharpness.toFixed(0)} · ${s.plates.length} read(s), ${s.detections.length} box(es)`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${s.width}" height="${s.height}" font-family="DejaVu Sans, sans-serif" font-size="${font}" font-weight="bold">`
    + `<rect x="0" y="0" width="${s.width}" height="${font + 12}" fill="#000" fill-opacity="0.6"/>`
    + `<text x="8" y="${font + 4}" fill="#fff">${escapeXml(banner)}</text>${parts.join('')}</svg>`
    // A dark outline keeps the labels legible on bright cars and sky.
    .replace(/<text /g, '<text stroke="#000" stroke-width="3" paint-order="stroke" ');
}

export interface SnapshotOptions {
  config: Config;
  cameraId?: string;
  /** Frames skipped before the one analysed (auto-exposure settles, a clip reaches its plates). */
  skipFrames: number;
  timeoutMs: number;
  logger: Logger;
}

export async function takeSnapshot(opts: SnapshotOptions): Promise<Snapshot> {
  const { config } = opts;
  const cam = opts.cameraId ? config.cameras.find((c) => c.id === opts.cameraId) : config.cameras[0];
  if (!cam) throw new SnapshotError(`no camera "${opts.cameraId}" in the config (cameras: ${config.cameras.map((c) => c.id).join(', ')})`, 'camera');
  const probe = await probeCamera(cam, opts.logger, { count: 1, skip: opts.skipFrames, timeoutMs: opts.timeoutMs });
  const frame = probe.frames[0];
  if (!frame) throw new SnapshotError(`camera ${cam.id}: no frame within ${opts.timeoutMs / 1000} s (${probe.status.state}${probe.status.reason ? `: ${probe.status.reason}` : ''})`, 'camera');
  const { PlateEngine, engineOptions } = await import('../inference/engine.js');
  const engine = await PlateEngine.load(engineOptions(config));
  try {
    const img: RgbImage = { width: frame.width, height: frame.height, data: frame.rgb };
    const detections = (await engine.detector.detect(img)).filter((d) => d.score >= config.thresholds.detection).map((d) => ({ box: d.box.map(Math.round) as Box, score: d.score }));
    const { plates } = await engine.readImage(img);
    const snap: Omit<Snapshot, 'jpeg'> = {
      cameraId: cam.id,
      width: frame.width,
      height: frame.height,
      capturedAt: new Date(frame.capturedAtMs).toISOString(),
      sharpness: laplacianVariance(img),
      detections,
      plates: plates.map((p: PlateObservation) => ({
        box: p.box.map(Math.round) as Box,
        text: p.text,
        ...(p.state ? { state: p.state } : {}),
        confidence: p.confidence,
        detectorScore: p.detectorScore,
        widthPx: Math.round(p.box[2]),
        sharpness: laplacianVariance(img, p.box),
      })),
    };
    const jpeg = await sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
      .composite([{ input: Buffer.from(overlaySvg(snap)), top: 0, left: 0 }])
      .jpeg({ quality: 90 })
      .toBuffer();
    return { ...snap, jpeg };
  } finally {
    await engine.close();
  }
}

/** What the technician reads in the terminal next to the picture. */
export function describeSnapshot(s: Snapshot, out: string): string {
  const lines = [`${out}: camera ${s.cameraId}, ${s.width}x${s.height}, captured ${s.capturedAt}`, `frame sharpness ${s.sharpness.toFixed(1)} (variance of Laplacian; higher is sharper)`, `${s.detections.length} detector box(es), ${s.plates.length} read(s)`];
  for (const p of s.plates) {
    lines.push(`  ${p.text}${p.state ? ` ${p.state}` : ''}  confidence ${p.confidence.toFixed(2)}  width ${p.widthPx} px  sharpness ${p.sharpness.toFixed(1)}  at ${p.box.join(',')}`);
  }
  return lines.join('\n') + '\n';
}
