import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './session.js';
import { atSize, iou, pasteRgb, resizeRgb, type Box, type RgbImage } from './image.js';
import type { DetectedBox, DetectOptions, PlateDetector } from './detector.js';

/** What the manifest says about our detector (written by scripts/export/export_detector.py). */
export interface CenterNetSpec {
  /** Output cells per input pixel: heat and box maps are H/stride x W/stride. */
  stride: number;
  /** Minimum peak probability for a plate. */
  threshold: number;
  /** Overlapping peaks above this IoU are one plate. */
  nmsIou: number;
}

/** The steps of detect the bench reports CPU time for. */
export type DetectStage = 'resize' | 'tensor' | 'network' | 'boxes';
/** Runs one step of detect and may measure it; it returns what the step returns (a promise for async steps). */
export type DetectStageMeter = <T>(stage: DetectStage, step: () => T) => T;

/** Picture sizes whose spare inputs are kept (a camera frame's two looks, plus closer looks and a still or two). */
const SPARE_INPUT_SIZES = 4;
/** Small frames (a 320 px scene) are enlarged at most this much: more would only blur. */
const MAX_UPSCALE = 2;
/** Pictures up to this size get the plate-crop second look (see detectInContext). */
const SMALL_IMAGE_SIDE = 480;
/** Share of the grey frame's width a small picture fills in that second look. */
const CONTEXT_SHARE = 0.25;
/** Input sides are padded to a multiple of this (three stride-2 convs, plus headroom). */
const PAD_TO = 32;
/**
 * The second look at camera frames (detect): this share of the working resolution, so that a plate
 * as wide as the whole picture is at most ~213 px there, inside the range the detector was trained on.
 * Half the working resolution read close-ups of 80 % of the picture's width 36 % of the time, a third 98 %.
 */
const COARSE_SCALE = 1 / 3;
/**
 * Plates at least this wide at the working resolution are taken from the second look too. Measured
 * (npm run eval, INT8, scenes, 2026-12-02): ucsd-ca val plates cropped and enlarged to 45 / 60 / 80 /
 * 100 % of a 1280 px picture's width: read 12 / 0 / 0 / 0 % without the coarse look, 90 / 96 / 98 /
 * 88 % with it; openalpr-eu all 95.4 -> 98.1 % (160 px: 97.2 %; with the look at half the working
 * resolution, as then); ucsd-ca val / all, openalpr-eu val,
 * openalpr-br, us-crops unchanged. Taking the coarse box instead of an overlapping first one lost
 * ucsd-ca val plates (96 -> 94 %): for plates in the trained range the first box is the better one.
 */
const COARSE_MIN_WIDTH = 120;
/** A coarse box this close to a first-look box is the same box, not worth reading twice. */
const SAME_BOX_IOU = 0.7;
/**
 * Plates at most this wide in the fine look (detect's `fineSide`) are taken from it: the widest the
 * detector was trained on. Wider ones are the working and coarse looks' to find.
 */
const FINE_MAX_WIDTH = 220;
/** Input size of a closer look (refine). */
const CLOSER_INPUT: readonly [width: number, height: number] = [256, 128];
/**
 * The plate's width in each closer look's input; the box refine returns is the mean of their boxes
 * and the first one. Mean IoU with the labelled box (ucsd-ca train / openalpr-eu train / val, 2026-12-02):
 * first box 0.788 / 0.843 / 0.767 / 0.825; one look at 128 px 0.823 / 0.849 / 0.798 / 0.855 (48-192 px
 * tried: 112-160 best); mean of 96, 128, 160 and the first 0.846 / 0.870 / 0.818 / 0.871.
 */
const CLOSER_PLATE_WIDTHS = [96, 128, 160] as const;
/** A far plate is enlarged at most this much for a closer look. */
const CLOSER_MAX_UPSCALE = 4;
/** The plate is known to be there: a weaker peak than a first detection's will do. */
const CLOSER_THRESHOLD = 0.2;
/** A closer look's box must be the same plate: overlap at least this much with the first box. */
const CLOSER_MIN_IOU = 0.4;

/**
 * Our own plate detector: an anchor-free, conv-only network (CenterNet style, stride 8) that
 * predicts a plate-centre heat map and the box at each centre. The frame is scaled so its long
 * side is the working resolution, padded with -1 (black) like the training script did.
 */
export class CenterNetPlateDetector implements PlateDetector {
  /** Inputs of finished runs by picture size (`WxH`), for the next picture of that size. */
  private readonly spareInputs = new Map<string, Float32Array[]>();
  private meter: DetectStageMeter = (_stage, step) => step();

  constructor(
    private readonly session: InferenceSession,
    readonly name: string,
    readonly version: string,
    private readonly maxSide: number,
    private readonly spec: CenterNetSpec,
  ) {}

  /**
   * The plates in a picture, looked at twice. A plate close to the camera can be wider at the
   * working resolution than any the detector was trained on (14-220 px); there it finds part of the
   * plate, or nothing. So the picture is looked at again smaller: a camera frame at a third of the
   * working resolution, a small still shrunk into a grey frame (detectInContext). Each plate found in that
   * second look that is big at the working resolution is returned beside what the first look found
   * at the same place: both boxes are read, and the engine keeps the surer read (one plate per place).
   */
  async detect(img: RgbImage, opts: DetectOptions = {}): Promise<DetectedBox[]> {
    const { boxes: first, working } = await this.detectAtWorking(img);
    const small = Math.max(img.width, img.height) <= SMALL_IMAGE_SIDE;
    // The coarse look shrinks the working picture, not the frame: a 1080p frame is resized once
    // (and not at all here when the capture made both copies: RgbImage.scaled).
    const coarse = small ? undefined : await this.scaledOrResized(img, working, Math.max(8, Math.round(working.width * COARSE_SCALE)), Math.max(8, Math.round(working.height * COARSE_SCALE)));
    const second = coarse ? await this.detectIn(coarse, img.width / coarse.width, img.height / coarse.height) : await this.detectInContext(img);
    const scale = working.width / img.width;
    const big = second.filter((c) => c.box[2] * scale >= COARSE_MIN_WIDTH && first.every((f) => iou(f.box, c.box) < SAME_BOX_IOU));
    return [...first, ...big, ...(await this.detectFine(img, working, opts.fineSide))];
  }

  /**
   * A still's third look, larger than the working resolution: a 40-60 px plate of a 1280x720 photo
   * is 20-30 px at 640, where the detector finds it less often and places its box worse. Every box
   * it finds inside the trained range is returned beside the other looks' (the same plate's boxes
   * are all read and the engine keeps the surer read). Frames of a camera never get it: the frame
   * budget has no room for a network run at 4x the pixels.
   */
  private async detectFine(img: RgbImage, working: RgbImage, fineSide: number | undefined): Promise<DetectedBox[]> {
    const long = Math.max(img.width, img.height);
    const workingLong = Math.max(working.width, working.height);
    if (fineSide === undefined || fineSide <= workingLong || long <= workingLong) return [];
    const scale = Math.min(1, fineSide / long);
    const fine = scale === 1 ? img : await this.meter('resize', () => resizeRgb(img, Math.max(8, Math.round(img.width * scale)), Math.max(8, Math.round(img.height * scale))));
    const found = await this.detectIn(fine, img.width / fine.width, img.height / fine.height);
    return found.filter((b) => b.box[2] * scale <= FINE_MAX_WIDTH);
  }

  /**
   * A small picture may be a plate crop: enlarged, its plate is far wider than any the detector was
   * trained on (14-220 px at the working size). So it is looked at again shrunk into the middle of a
   * flat grey frame, as training showed small scenes: the second look for small pictures (camera
   * frames get the coarse one instead).
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
    pasteRgb(canvas, small, x0, y0);
    const { boxes: found } = await this.detectAtWorking(canvas);
    return found.map((b) => ({ box: [(b.box[0] - x0) / scale, (b.box[1] - y0) / scale, b.box[2] / scale, b.box[3] / scale] as Box, score: b.score }));
  }

  /**
   * The box found again in closer looks: at the working resolution a plate's sides fall on the
   * stride-8 grid of a frame shrunk 2-3x, and a box a tenth too wide or off-centre is read worse (a
   * loose box squeezes the characters). Each look's box is off in its own way; their mean is
   * closer to the plate than any one of them (see CLOSER_PLATE_WIDTHS).
   */
  async refine(img: RgbImage, box: Box): Promise<Box | undefined> {
    const looks: Box[] = [box];
    for (const w of CLOSER_PLATE_WIDTHS) {
      const b = await this.closerLook(img, box, w);
      if (b) looks.push(b);
    }
    if (looks.length === 1) return undefined;
    return [0, 1, 2, 3].map((k) => looks.reduce((a, b) => a + b[k]!, 0) / looks.length) as Box;
  }

  /** The window around the box, scaled so the plate is `plateWidth` px wide; outside the picture is black, like the training's padding. */
  private async closerLook(img: RgbImage, box: Box, plateWidth: number): Promise<Box | undefined> {
    const [inW, inH] = CLOSER_INPUT;
    const scale = Math.min(CLOSER_MAX_UPSCALE, plateWidth / Math.max(1, box[2]));
    const winW = Math.max(8, Math.round(inW / scale));
    const winH = Math.max(8, Math.round(inH / scale));
    const x0 = Math.round(box[0] + box[2] / 2 - winW / 2);
    const y0 = Math.round(box[1] + box[3] / 2 - winH / 2);
    const window: RgbImage = { width: winW, height: winH, data: Buffer.alloc(winW * winH * 3) };
    pasteRgb(window, img, -x0, -y0);
    const found = await this.detectIn(await resizeRgb(window, inW, inH), winW / inW, winH / inH, CLOSER_THRESHOLD);
    let best: Box | undefined;
    let bestIou = CLOSER_MIN_IOU;
    for (const f of found) {
      const b: Box = [x0 + f.box[0], y0 + f.box[1], f.box[2], f.box[3]];
      const overlap = iou(b, box);
      if (overlap >= bestIou) {
        bestIou = overlap;
        best = b;
      }
    }
    return best;
  }

  /** The picture at the working resolution (at most MAX_UPSCALE enlarged), with boxes mapped back to it. */
  private async detectAtWorking(img: RgbImage): Promise<{ boxes: DetectedBox[]; working: RgbImage }> {
    const scale = Math.min(MAX_UPSCALE, this.maxSide / Math.max(img.width, img.height));
    const working = await this.scaledOrResized(img, img, Math.max(8, Math.round(img.width * scale)), Math.max(8, Math.round(img.height * scale)));
    return { boxes: await this.detectIn(working, img.width / working.width, img.height / working.height), working };
  }

  /**
   * `from` at this size: the copy the capture made of the frame `img` (RgbImage.scaled: the same
   * linear filter, to within a grey level), else `from` resized here.
   */
  private async scaledOrResized(img: RgbImage, from: RgbImage, width: number, height: number): Promise<RgbImage> {
    return atSize(from, width, height) ?? atSize(img, width, height) ?? (await this.meter('resize', () => resizeRgb(from, width, height)));
  }

  /** One run of the network on a picture as it is; boxes scaled by (sx, sy). */
  private async detectIn(img: RgbImage, sx: number, sy: number, threshold = this.spec.threshold): Promise<DetectedBox[]> {
    const pw = Math.ceil(img.width / PAD_TO) * PAD_TO;
    const ph = Math.ceil(img.height / PAD_TO) * PAD_TO;
    const size = `${img.width}x${img.height}`;
    const input = this.meter('tensor', () => writePaddedInput(img, pw, this.takeInput(size, pw, ph)));
    let out: InferenceSession.ReturnType;
    try {
      out = await this.meter('network', () => this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, ph, pw]) }));
    } finally {
      this.giveBackInput(size, input);
    }
    const heat = out['heat']!;
    const [, , gh, gw] = heat.dims as [number, number, number, number];
    const boxes = this.meter('boxes', () => decodeCenterNet(heat.data as Float32Array, out['box']!.data as Float32Array, gw, gh, { ...this.spec, threshold }));
    return boxes.map((b) => ({ box: [b.box[0] * sx, b.box[1] * sy, b.box[2] * sx, b.box[3] * sy] as Box, score: b.score }));
  }

  /**
   * An input for a picture of this size: a spare one from an earlier run (the 1080p frame's 384x640
   * input is 3 MB, allocated once instead of per frame) or a new one. Taken for the run, so
   * concurrent detect calls (several cameras on one engine) never share one.
   */
  private takeInput(size: string, pw: number, ph: number): Float32Array {
    return this.spareInputs.get(size)?.pop() ?? paddedInput(pw, ph);
  }

  private giveBackInput(size: string, input: Float32Array): void {
    let spares = this.spareInputs.get(size);
    if (spares === undefined) {
      spares = [];
      this.spareInputs.set(size, spares);
      // `read` over stills of many sizes: keep the inputs of the most recent few sizes only.
      if (this.spareInputs.size > SPARE_INPUT_SIZES) this.spareInputs.delete(this.spareInputs.keys().next().value!);
    }
    spares.push(input);
  }

  /** Meters each step of detect from now on (the bench's per-stage CPU figures); the daemon never sets one. */
  setStageMeter(meter: DetectStageMeter): void {
    this.meter = meter;
  }

  async close(): Promise<void> {
    this.spareInputs.clear();
    await this.session.release();
  }
}

/**
 * Long sides of the copies of a camera frame the detector looks at, largest first, for the capture
 * to make (CameraSourceOptions.scaledLongSides): the working resolution and the coarse look's
 * (a third of it). Sized from these as the detector sizes them, the copies replace its own resizes.
 */
export function centerNetScaledLongSides(maxSide: number): number[] {
  return [maxSide, Math.max(8, Math.round(maxSide * COARSE_SCALE))];
}

/** Network input value of each byte value: the training's px / 127.5 - 1, as float32 (what the input tensor holds). */
const INPUT_VALUE = Float32Array.from({ length: 256 }, (_, v) => v / 127.5 - 1);

/** A pw x ph planar input filled with -1 (black), the padding the training used. */
export function paddedInput(pw: number, ph: number): Float32Array {
  return new Float32Array(3 * pw * ph).fill(-1);
}

/**
 * Writes the picture into the top-left of a planar (CHW) input of padded width `pw` made by
 * paddedInput: value = px / 127.5 - 1, from a table instead of a divide per value. Only the
 * picture's own pixels are written, so an input reused for pictures of the same size keeps its
 * padding. Pure, for unit tests.
 */
export function writePaddedInput(img: RgbImage, pw: number, out: Float32Array): Float32Array {
  const plane = out.length / 3;
  const d = img.data;
  const rowBytes = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    let src = y * rowBytes;
    const end = src + rowBytes;
    let r = y * pw;
    let g = plane + r;
    let b = 2 * plane + r;
    while (src < end) {
      out[r++] = INPUT_VALUE[d[src]!]!;
      out[g++] = INPUT_VALUE[d[src + 1]!]!;
      out[b++] = INPUT_VALUE[d[src + 2]!]!;
      src += 3;
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
