import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './session.js';
import { resizeRgb, type Box, type RgbImage } from './image.js';
import type { DetectedBox, PlateDetector } from './detector.js';

// PP-OCRv4 text detection (DB, differentiable binarisation), used as the interim plate finder
// until our own detector lands. Its output is a text-probability map; boxes come from
// thresholding it and growing each region back by the "unclip" distance the model was trained for.

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

export interface DbPostprocessOptions {
  binaryThreshold: number;
  boxThreshold: number;
  unclipRatio: number;
  minSide: number;
}

const DEFAULT_POST: DbPostprocessOptions = { binaryThreshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.6, minSide: 4 };

export class PpOcrDetector implements PlateDetector {
  readonly findsTextLines = true;
  constructor(
    private readonly session: InferenceSession,
    readonly name: string,
    readonly version: string,
    private readonly maxSide: number,
    private readonly post: DbPostprocessOptions = DEFAULT_POST,
  ) {}

  async detect(img: RgbImage): Promise<DetectedBox[]> {
    const scale = Math.min(1, this.maxSide / Math.max(img.width, img.height));
    const w = Math.max(32, Math.round((img.width * scale) / 32) * 32);
    const h = Math.max(32, Math.round((img.height * scale) / 32) * 32);
    const resized = await resizeRgb(img, w, h);
    const input = toDbTensor(resized);
    const out = await this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, h, w]) });
    const prob = out[this.session.outputNames[0]!]!.data as Float32Array;
    const boxes = boxesFromProbabilityMap(prob, w, h, this.post);
    const sx = img.width / w;
    const sy = img.height / h;
    return boxes.map((b) => ({ box: [b.box[0] * sx, b.box[1] * sy, b.box[2] * sx, b.box[3] * sy] as Box, score: b.score }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** NCHW float tensor in the BGR channel order and normalisation PaddleOCR trained with. */
function toDbTensor(img: RgbImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(3 * n);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    const r = d[i * 3]! / 255;
    const g = d[i * 3 + 1]! / 255;
    const b = d[i * 3 + 2]! / 255;
    out[i] = (b - MEAN[0]!) / STD[0]!;
    out[n + i] = (g - MEAN[1]!) / STD[1]!;
    out[2 * n + i] = (r - MEAN[2]!) / STD[2]!;
  }
  return out;
}

/**
 * Connected regions of the thresholded map → axis-aligned boxes, each grown by
 * area × unclipRatio / perimeter (DB's unclip for rectangles). Pure, for unit tests.
 */
export function boxesFromProbabilityMap(prob: Float32Array, width: number, height: number, opts: DbPostprocessOptions = DEFAULT_POST): DetectedBox[] {
  const n = width * height;
  const label = new Int32Array(n);
  const stack = new Int32Array(n);
  const boxes: DetectedBox[] = [];
  let next = 1;
  for (let start = 0; start < n; start++) {
    if (label[start] !== 0 || prob[start]! <= opts.binaryThreshold) continue;
    let top = 0;
    stack[top++] = start;
    label[start] = next;
    let minX = width, minY = height, maxX = -1, maxY = -1, sum = 0, count = 0;
    while (top > 0) {
      const p = stack[--top]!;
      const x = p % width;
      const y = (p - x) / width;
      sum += prob[p]!;
      count++;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      if (x > 0 && label[p - 1] === 0 && prob[p - 1]! > opts.binaryThreshold) { label[p - 1] = next; stack[top++] = p - 1; }
      if (x < width - 1 && label[p + 1] === 0 && prob[p + 1]! > opts.binaryThreshold) { label[p + 1] = next; stack[top++] = p + 1; }
      if (y > 0 && label[p - width] === 0 && prob[p - width]! > opts.binaryThreshold) { label[p - width] = next; stack[top++] = p - width; }
      if (y < height - 1 && label[p + width] === 0 && prob[p + width]! > opts.binaryThreshold) { label[p + width] = next; stack[top++] = p + width; }
    }
    next++;
    const bw = maxX - minX + 1;
    const bh = maxY - minY + 1;
    if (Math.min(bw, bh) < opts.minSide) continue;
    const score = sum / count;
    if (score < opts.boxThreshold) continue;
    const d = (bw * bh * opts.unclipRatio) / (2 * (bw + bh));
    const x0 = Math.max(0, minX - d);
    const y0 = Math.max(0, minY - d);
    const x1 = Math.min(width, maxX + 1 + d);
    const y1 = Math.min(height, maxY + 1 + d);
    boxes.push({ box: [x0, y0, x1 - x0, y1 - y0], score });
  }
  return boxes.sort((a, b) => b.score - a.score);
}
