import { dirname, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from 'pino';
import { iou, clampBox, cutByEdge, type Box, type RgbImage } from './image.js';
import type { DetectedBox, PlateDetector } from './detector.js';
import type { PlateReader, PlateTextResult, TextCandidate } from './reader.js';
import { resolveModel, ModelError, type ResolvedModel } from './manifest.js';
import { createSession } from './session.js';
import { CtcPlateReader } from './ctc-plate-reader.js';
import { CenterNetPlateDetector, centerNetScaledLongSides } from './centernet-detector.js';
import type { StaticClutter } from './static-clutter.js';
import { isPlausiblePlate, normalisePlateText } from '../plate/text.js';

/** One plate seen in one picture. */
export interface PlateObservation {
  /** Whole-plate box in pixels of the picture. */
  box: Box;
  text: string;
  confidence: number;
  charConfidences: number[];
  candidates: TextCandidate[];
  state?: string;
  stateConfidence?: number;
  detectorScore: number;
}

export interface StageTimings {
  detectMs: number;
  readMs: number;
}

/** What became of one frame's detector boxes. */
export interface BoxCounts {
  /** Read by the reader. */
  read: number;
  /** Not read: known static clutter of this camera, unchanged. */
  skippedStatic: number;
}

/**
 * Long sides of the smaller copies of each camera frame the detector at this working resolution
 * (`models.detectorMaxSide`) looks at, largest first: what the capture makes for it
 * (CameraSourceOptions.scaledLongSides) so that it need not resize frames itself. The shipped
 * detector's (the only architecture there is); a detector that looks at other sizes only loses the
 * saving, since copies of other sizes are ignored.
 */
export function scaledLongSidesFor(detectorMaxSide: number): number[] {
  return centerNetScaledLongSides(detectorMaxSide);
}

/** The engine options a configuration asks for; callers override only what they vary. */
export function engineOptions(config: Config, overrides: Partial<EngineOptions> = {}): EngineOptions {
  return {
    manifestPath: config.models.manifest,
    detector: config.models.detector,
    reader: config.models.reader,
    intraOpThreads: config.models.intraOpThreads,
    detectorMaxSide: config.models.detectorMaxSide,
    fineLookSide: config.models.fineLookSide,
    detectionThreshold: config.thresholds.detection,
    readConfidence: config.thresholds.readConfidence,
    ...overrides,
  };
}

export interface EngineOptions {
  manifestPath: string;
  detector: string;
  reader: string;
  intraOpThreads: number;
  detectorMaxSide: number;
  /** Long side of the detector's fine look (readImage's `fine`, readStill); at most the working resolution: none. */
  fineLookSide?: number;
  detectionThreshold: number;
  readConfidence: number;
  /**
   * Run both networks once at load (default). The first run of a session allocates and plans, so a
   * camera's first frame is on time; a one-shot `read` of a still skips it, since the warm-up would
   * cost as much as the still itself.
   */
  warmUp?: boolean;
  logger?: Logger;
}

/** Detector + reader behind one call: picture in, plates out. The seam the model issues swap networks behind. */
export class PlateEngine {
  private constructor(
    readonly detector: PlateDetector,
    readonly reader: PlateReader,
    private readonly opts: EngineOptions,
    readonly modelVersion: string,
    readonly interim: boolean,
  ) {}

  static async load(opts: EngineOptions): Promise<PlateEngine> {
    const det = resolveModel(opts.manifestPath, opts.detector);
    const rec = resolveModel(opts.manifestPath, opts.reader);
    const detector = await createDetector(det, opts);
    const reader = await createReader(rec, opts);
    const engine = new PlateEngine(detector, reader, opts, `${det.entry.name}@${det.entry.version}+${rec.entry.name}@${rec.entry.version}`, Boolean(det.entry.interim || rec.entry.interim));
    const warm = opts.warmUp ?? true;
    if (warm) await engine.warmUp();
    opts.logger?.info({ detector: det.entry.name, reader: rec.entry.name, interim: engine.interim }, warm ? 'models loaded and warmed up' : 'models loaded');
    return engine;
  }

  /** Long sides of the copies of each frame the capture should make for this engine's detector (RgbImage.scaled). */
  get scaledLongSides(): number[] {
    return scaledLongSidesFor(this.opts.detectorMaxSide);
  }

  /** The first run allocates and plans; doing it at start keeps the first real frame on time. */
  async warmUp(): Promise<void> {
    const img: RgbImage = { width: 320, height: 192, data: Buffer.alloc(320 * 192 * 3, 128) };
    await this.detector.detect(img);
    await this.readPlates(img, [[100, 60, 96, 32]]);
  }

  /**
   * The plates read in a picture; `boxes` are all the detector's boxes (those cut by the edge are not
   * read). With `clutter` (one per camera), boxes it knows as unchanged non-plates are not read, and
   * it learns this frame's.
   */
  async readImage(img: RgbImage, clutter?: StaticClutter, fine = false): Promise<{ plates: PlateObservation[]; boxes: DetectedBox[]; timings: StageTimings; counts: BoxCounts }> {
    const t0 = performance.now();
    const boxes = (await this.detector.detect(img, fine ? { fineSide: this.opts.fineLookSide } : undefined)).filter((b) => b.score >= this.opts.detectionThreshold);
    const t1 = performance.now();
    const kept: DetectedBox[] = [];
    // A plate cut by the frame's edge reads as part of its text, which would be reported as another
    // plate (a false hit in the making); a fixed camera sees the vehicle whole in other frames.
    const whole: DetectedBox[] = [];
    const skipped: Box[] = [];
    for (const b of boxes) {
      const box = clampBox(b.box, img.width, img.height);
      if (!box) continue;
      kept.push({ box, score: b.score });
      if (cutByEdge(b.box, img.width, img.height)) continue;
      if (clutter?.isKnown(img, box)) skipped.push(box);
      else whole.push({ box, score: b.score });
    }
    const texts = await this.readPlates(img, whole.map((b) => b.box));
    await this.readUnsureCloser(img, whole, texts);
    const t2 = performance.now();
    clutter?.update(img, whole.flatMap((b, i) => (isReported(texts[i]!, this.opts.readConfidence) ? [] : [b.box])), skipped);
    const plates = onePerPlace(platesFromPlateBoxes(whole, texts, this.opts.readConfidence));
    return { plates, boxes: kept, timings: { detectMs: t1 - t0, readMs: t2 - t1 }, counts: { read: whole.length, skippedStatic: skipped.length } };
  }

  /**
   * The plates read in a still picture (`read` of an image, eval's scenes): as readImage, with the
   * detector's fine look at `models.fineLookSide` as well, since a still has no frame budget.
   */
  readStill(img: RgbImage): ReturnType<PlateEngine['readImage']> {
    return this.readImage(img, undefined, true);
  }

  /**
   * Plates read unsurely get a second box from the detector's closer looks (PlateDetector.refine),
   * and keep whichever box reads more surely (box and text replaced in place). Sure reads skip it,
   * so a clear plate costs nothing more. Only a read that is already a plate gets a closer look:
   * letting one turn a box that is no plate into one also found two missed plates on ucsd-ca, but
   * read a windscreen sticker and a fixture's road sign as plates. Measured (npm run eval, INT8,
   * scenes, 2026-12-02), before -> after: openalpr-eu val 83.3 -> 91.7 %, all 94.4 -> 95.4 %;
   * ucsd-ca val 96 % both (one plate better, one worse), all 98.4 % both; openalpr-br 100 %,
   * us-crops val 87.2 % both; no false plate more on any. Replacing every box by its refined one
   * instead: ucsd-ca val 94 %, us-crops 82 %.
   */
  private async readUnsureCloser(img: RgbImage, boxes: DetectedBox[], texts: PlateTextResult[]): Promise<void> {
    if (!this.detector.refine) return;
    const closer: { i: number; box: Box }[] = [];
    for (const [i, t] of texts.entries()) {
      if (t.confidence >= SURE_READ || !isReported(t, this.opts.readConfidence)) continue;
      const found = await this.detector.refine(img, boxes[i]!.box);
      const box = found && clampBox(found, img.width, img.height);
      if (box && !cutByEdge(found, img.width, img.height)) closer.push({ i, box });
    }
    if (!closer.length) return;
    const reads = await this.readPlates(img, closer.map((c) => c.box));
    closer.forEach(({ i, box }, k) => {
      const read = reads[k]!;
      if (read.confidence <= texts[i]!.confidence || !isReported(read, this.opts.readConfidence)) return;
      texts[i] = read;
      boxes[i] = { box, score: boxes[i]!.score };
    });
  }

  /** Reads the plate in each box of one picture. */
  readPlates(img: RgbImage, boxes: Box[]): Promise<PlateTextResult[]> {
    return this.reader.read(boxes.map((box) => ({ image: img, box })));
  }

  async close(): Promise<void> {
    await Promise.all([this.detector.close(), this.reader.close()]);
  }
}

async function createDetector(model: ResolvedModel, opts: EngineOptions): Promise<PlateDetector> {
  const session = await createSession(model.bytes, { intraOpThreads: opts.intraOpThreads });
  switch (model.entry.architecture) {
    case 'alpr-edge-centernet': {
      const e = model.entry;
      const stride = e['stride'];
      const decode = e['decode'] as { threshold?: unknown; nmsIou?: unknown } | undefined;
      if (typeof stride !== 'number' || typeof decode?.threshold !== 'number' || typeof decode.nmsIou !== 'number') {
        throw new ModelError(`model "${e.name}": manifest entry needs stride and decode {threshold, nmsIou}`, e.name);
      }
      return new CenterNetPlateDetector(session, e.name, e.version, opts.detectorMaxSide, { stride, threshold: decode.threshold, nmsIou: decode.nmsIou });
    }
    default:
      throw new ModelError(`model "${model.entry.name}": unknown detector architecture "${model.entry.architecture}"`, model.entry.name);
  }
}

async function createReader(model: ResolvedModel, opts: EngineOptions): Promise<PlateReader> {
  const session = await createSession(model.bytes, { intraOpThreads: opts.intraOpThreads });
  switch (model.entry.architecture) {
    case 'alpr-edge-ctc-convnet+state-head': {
      const e = model.entry;
      const shape = e.inputShape ?? [];
      const charset = e['charset'];
      const states = e['states'];
      if (typeof charset !== 'string' || !Array.isArray(states) || typeof shape[2] !== 'number' || typeof shape[3] !== 'number') {
        throw new ModelError(`model "${e.name}": manifest entry needs charset, states and a numeric inputShape [1, 3, H, W]`, e.name);
      }
      return new CtcPlateReader(session, e.name, e.version, { inputHeight: shape[2], inputWidth: shape[3], charset, states: states as string[] });
    }
    default:
      throw new ModelError(`model "${model.entry.name}": unknown reader architecture "${model.entry.architecture}"`, model.entry.name);
  }
}

/** Reads at least this sure get no closer look (the reader's own "settled" mark). */
const SURE_READ = 0.97;

/** The reported text first, then the other candidates that look like plates. */
function plausibleCandidates(r: PlateTextResult, text: string): TextCandidate[] {
  const seen = new Set<string>([text]);
  const out: TextCandidate[] = [{ text, confidence: r.candidates.find((c) => normalisePlateText(c.text) === text)?.confidence ?? r.confidence }];
  for (const c of r.candidates) {
    const t = normalisePlateText(c.text);
    if (!isPlausiblePlate(t, c.confidence) || seen.has(t)) continue;
    seen.add(t);
    out.push({ text: t, confidence: c.confidence });
  }
  return out;
}

/**
 * Best first, and where reads overlap (the detector's two looks at a close plate), only the surest:
 * two plates cannot share a place in a picture.
 */
function onePerPlace(plates: PlateObservation[]): PlateObservation[] {
  const kept: PlateObservation[] = [];
  for (const p of plates.sort((a, b) => b.confidence - a.confidence)) if (kept.every((k) => iou(k.box, p.box) < SAME_PLACE_IOU)) kept.push(p);
  return kept;
}

/** Reads overlapping this much are of one plate (the eval's own bar for a read on a labelled plate). */
const SAME_PLACE_IOU = 0.3;

/** A read that is reported as a plate: sure enough, and text that looks like one. */
function isReported(r: PlateTextResult, minConfidence: number): boolean {
  return r.confidence >= minConfidence && isPlausiblePlate(normalisePlateText(r.text), r.confidence);
}

function platesFromPlateBoxes(boxes: DetectedBox[], texts: PlateTextResult[], minConfidence: number): PlateObservation[] {
  const plates: PlateObservation[] = [];
  boxes.forEach((b, i) => {
    const r = texts[i]!;
    if (!isReported(r, minConfidence)) return;
    const text = normalisePlateText(r.text);
    plates.push({ box: b.box, text, confidence: r.confidence, charConfidences: r.charConfidences, candidates: plausibleCandidates(r, text), state: r.state, stateConfidence: r.stateConfidence, detectorScore: b.score });
  });
  return plates;
}
