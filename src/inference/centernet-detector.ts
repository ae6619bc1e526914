import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './session.js';
import { iou, resizeRgb, type Box, type RgbImage } from './image.js';
import type { DetectedBox, PlateDetector } from './detector.js';

/** What the manifest says about our detector (written by scripts/export/export_detector.py). */
export interface CenterNetSpec {
  /** Output cells per input pixel: heat and box maps are H/stride x W/stride. */
  stride: number;
  /** Minimum peak probability for a plate. */
  threshold: number;
  /** Overlapping peaks above this IoU are one plate. */
  nmsIou: number;
}

/** Small frames (a 320 px scene) are enlarged at most this much: more would only blur. */
const MAX_UPSCALE = 2;
/** Pictures up to this size get the plate-crop second look (see detectInContext). */
const SMALL_IMAGE_SIDE = 480;
/** Share of the grey frame's width a small picture fills in that second look. */
const CONTEXT_SHARE = 0.25;
/** Input sides are padded to a multiple of this (three stride-2 convs, plus headroom). */
const PAD_TO = 32;

/**
 * Our own plate detector: an anchor-free, conv-only network (CenterNet style, stride 8) that
 * predicts a plate-centre heat map and the box at each centre. The frame is scaled so its long
 * side is the working resolution, padded with -1 (black) like the training script did.
 */
export class CenterNetPlateDetector implements PlateDetector {
  constructor(
    private readonly session: InferenceSession,
    readonly name: string,
    readonly version: string,
    private readonly maxSide: number,
    private readonly spec: CenterNetSpec,
  ) {}

  async detect(img: RgbImage): Promise<DetectedBox[]> {
    const boxes = await this.detectAt(img);
    if (Math.max(img.width, img.height) > SMALL_IMAGE_SIDE) return boxes;
    const all = [...boxes, ...(await this.detectInContext(img))].sort((a, b) => b.score - a.score);
    const kept: DetectedBox[] = [];
    for (const p of all) if (kept.every((k) => iou(k.box, p.box) < this.spec.nmsIou)) kept.push(p);
    return kept;
  }

  /**
   * A small picture may be a plate crop: enlarged, its plate is far wider than any the detector was
   * trained on (14-220 px at the working size). So it is looked at again shrunk into the middle of a
   * flat grey frame, as training showed small scenes. Camera frames are never this small, so the
   * daemon never pays for the second pass.
   */
  private async detectInContext(img: RgbImage): Promise<DetectedBox[]> {
    const cw = this.maxSide;
    const ch = Math.round((this.maxSide * 9) / 16);
    const scale = Math.min((cw * CONTEXT_SHARE) / img.width, (ch * CONTEXT_SHARE) / img.height);
    const w = Math.max(8, Math.round(img.width * scale));
    const h = Math.max(8, Math.round(img.height * scale));
    const small = await resizeRgb(img, w, h);
    const canvas: RgbImage = { width: cw, height: ch, data: Buffer.alloc(cw * ch * 3, 128) };
    const x0 = Math.floor((cw - w) / 2);
    const y0 = Math.floor((ch - h) / 2);
    for (let y = 0; y < h; y++) small.data.copy(canvas.data, ((y0 + y) * cw + x0) * 3, y * w * 3, (y + 1) * w * 3);
    const found = await this.detectAt(canvas);
    return found.map((b) => ({ box: [(b.box[0] - x0) / scale, (b.box[1] - y0) / scale, b.box[2] / scale, b.box[3] / scale] as Box, score: b.score }));
  }

  private async detectAt(img: RgbImage): Promise<DetectedBox[]> {
    const scale = Math.min(MAX_UPSCALE, this.maxSide / Math.max(img.width, img.height));
    const w = Math.max(8, Math.round(img.width * scale));
    const h = Math.max(8, Math.round(img.height * scale));
    const pw = Math.ceil(w / PAD_TO) * PAD_TO;
    const ph = Math.ceil(h / PAD_TO) * PAD_TO;
    const resized = await resizeRgb(img, w, h);
    const input = toPaddedTensor(resized, pw, ph);
    const out = await this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, ph, pw]) });
    const heat = out['heat']!;
    const [, , gh, gw] = heat.dims as [number, number, number, number];
    const boxes = decodeCenterNet(heat.data as Float32Array, out['box']!.data as Float32Array, gw, gh, this.spec);
    const sx = img.width / w;
    const sy = img.height / h;
    return boxes.map((b) => ({ box: [b.box[0] * sx, b.box[1] * sy, b.box[2] * sx, b.box[3] * sy] as Box, score: b.score }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function toPaddedTensor(img: RgbImage, pw: number, ph: number): Float32Array {
  const plane = pw * ph;
  const out = new Float32Array(3 * plane).fill(-1);
  const d = img.data;
  for (let y = 0; y < img.height; y++) {
    let src = y * img.width * 3;
    let dst = y * pw;
    for (let x = 0; x < img.width; x++, src += 3, dst++) {
      out[dst] = d[src]! / 127.5 - 1;
      out[plane + dst] = d[src + 1]! / 127.5 - 1;
      out[2 * plane + dst] = d[src + 2]! / 127.5 - 1;
    }
  }
  return out;
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/**
 * Heat map peaks (3x3 local maxima above the threshold) → boxes in input pixels, best first, with
 * overlapping peaks merged (greedy NMS). The same rule as scripts/train/detector_model.decode, so
 * the export's measured recall is what the daemon gets. Pure, for unit tests.
 */
export function decodeCenterNet(heat: Float32Array, box: Float32Array, gw: number, gh: number, spec: CenterNetSpec): DetectedBox[] {
  const plane = gw * gh;
  // Compare logits: sigmoid is monotonic, so only peaks pay for it.
  const logitThreshold = Math.log(spec.threshold / (1 - spec.threshold));
  const peaks: DetectedBox[] = [];
  for (let y = 0; y < gh; y++) {
    for (let x = 0; x < gw; x++) {
      const i = y * gw + x;
      const v = heat[i]!;
      if (v < logitThreshold) continue;
      let isPeak = true;
      for (let dy = -1; dy <= 1 && isPeak; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= gh) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= gw || (dx === 0 && dy === 0)) continue;
          if (heat[yy * gw + xx]! > v) {
            isPeak = false;
            break;
          }
        }
      }
      if (!isPeak) continue;
      const s = spec.stride;
      const w = Math.exp(Math.min(box[2 * plane + i]!, 6)) * s;
      const h = Math.exp(Math.min(box[3 * plane + i]!, 6)) * s;
      const cx = (x + box[i]!) * s;
      const cy = (y + box[plane + i]!) * s;
      peaks.push({ box: [cx - w / 2, cy - h / 2, w, h], score: sigmoid(v) });
    }
  }
  peaks.sort((a, b) => b.score - a.score);
  const kept: DetectedBox[] = [];
  for (const p of peaks) if (kept.every((k) => iou(k.box, p.box) < spec.nmsIou)) kept.push(p);
  return kept;
}
