import { iou, type Box } from '../inference/image.js';
import { editDistance } from '../inference/plate-text.js';

export interface PredictedPlate {
  text: string;
  state: string | null;
  box: Box;
  candidates: { text: string }[];
}

export interface PlateOutcome {
  detected03: boolean;
  detected05: boolean;
  top1: boolean;
  topN: boolean;
  charAccuracy: number;
  /** Substitutions truth→read, only for reads of the right length. */
  substitutions: [string, string][];
  stateGiven: boolean;
  stateRight: boolean;
  us: boolean;
  /** A plate from outside the US (the label says so), which must never get a US state (P13). */
  foreign: boolean;
  foreignStateGiven: boolean;
  /** Why a plate was not read right (undefined when it was), in terms that carry no plate text. */
  failure?: PlateFailure;
}

/**
 * One plate not read right: `missed` (no read overlaps it at IoU >= 0.3: not detected, or its read
 * was dropped as unsure or implausible), `misread` (a read of the wrong text). Character pairs and
 * lengths only: real plate numbers never go into reports (README, datasets).
 */
export interface PlateFailure {
  kind: 'missed' | 'misread';
  /** IoU of the matched read's box with the label's (1 for crops). */
  iou: number;
  /** Read length / label length. */
  length: [number, number];
  /** truth>read character pairs when the lengths agree. */
  substitutions: string[];
  /** Where the right text is among the read's candidates (0 = top), -1 when absent. */
  rightAt: number;
}

/** Scores one labelled plate against the plates read in its picture. Pure, for unit tests. */
export function scorePlate(truth: { text?: string; region?: string; box?: Box }, predicted: PredictedPlate[]): PlateOutcome {
  // With a box: the prediction overlapping it most; without (crops): the most confident read.
  let match: PredictedPlate | undefined;
  let bestIou = 0;
  if (truth.box) {
    for (const p of predicted) {
      const o = iou(truth.box, p.box);
      if (o > bestIou) {
        bestIou = o;
        match = p;
      }
    }
    if (bestIou < 0.3) match = undefined;
  } else match = predicted[0];
  const text = truth.text ?? '';
  const read = match?.text ?? '';
  const us = (truth.region ?? '').startsWith('us-');
  const foreign = truth.region !== undefined && truth.region !== '' && truth.region !== 'us' && !us;
  const truthState = us ? truth.region!.slice(3).toUpperCase() : undefined;
  const substitutions: [string, string][] = [];
  if (read.length === text.length) for (let i = 0; i < text.length; i++) if (read[i] !== text[i]) substitutions.push([text[i]!, read[i]!]);
  const top1 = text !== '' && read === text;
  const failure: PlateFailure | undefined = top1
    ? undefined
    : {
        kind: match ? 'misread' : 'missed',
        iou: truth.box ? Math.round(bestIou * 100) / 100 : match ? 1 : 0,
        length: [read.length, text.length],
        substitutions: substitutions.map(([t, r]) => `${t}>${r}`),
        rightAt: match?.candidates.findIndex((c) => c.text === text) ?? -1,
      };
  return {
    ...(failure ? { failure } : {}),
    detected03: truth.box ? bestIou >= 0.3 : match !== undefined,
    detected05: truth.box ? bestIou >= 0.5 : match !== undefined,
    top1,
    topN: text !== '' && (match?.candidates.some((c) => c.text === text) ?? false),
    charAccuracy: text ? Math.max(0, 1 - editDistance(read, text) / text.length) : 0,
    substitutions,
    stateGiven: us && match?.state != null,
    stateRight: us && match?.state != null && match.state === truthState,
    us,
    foreign,
    foreignStateGiven: foreign && match?.state != null,
  };
}

export interface SetSummary {
  images: number;
  plates: number;
  detectionRecall03: number;
  detectionRecall05: number;
  top1: number;
  topN: number;
  charAccuracy: number;
  /** Of US plates: share with a state given, and share of those that were right. */
  stateCoverage: number | null;
  stateAccuracy: number | null;
  /** Of non-US plates: share that got a US state (each one a wrong state). */
  foreignStateRate: number | null;
  falsePlatesPerImage: number;
  /**
   * The detector alone (scenes with boxes): labelled plates with a detector box at IoU >= 0.5, and
   * boxes per image that overlap no plate, before the reader drops what is not a plate.
   */
  detector: { recall05: number; falseBoxesPerImage: number } | null;
  confusions: { truth: string; read: string; count: number }[];
  msPerImage: number;
}

/** The detector's boxes against one picture's labelled plates: plates found at IoU >= 0.5, and boxes on no plate (IoU < 0.3). */
export function scoreDetector(truthBoxes: Box[], boxes: Box[]): DetectorCount {
  return {
    plates: truthBoxes.length,
    found: truthBoxes.filter((t) => boxes.some((b) => iou(t, b) >= 0.5)).length,
    falseBoxes: boxes.filter((b) => truthBoxes.every((t) => iou(t, b) < 0.3)).length,
  };
}

export interface DetectorCount {
  plates: number;
  found: number;
  falseBoxes: number;
}

export function summarise(outcomes: PlateOutcome[], images: number, falsePlates: number, totalMs: number, detector?: DetectorCount): SetSummary {
  const n = outcomes.length || 1;
  const mean = (f: (o: PlateOutcome) => number) => outcomes.reduce((s, o) => s + f(o), 0) / n;
  const us = outcomes.filter((o) => o.us);
  const given = us.filter((o) => o.stateGiven);
  const pairs = new Map<string, number>();
  for (const o of outcomes) for (const [t, r] of o.substitutions) pairs.set(`${t}>${r}`, (pairs.get(`${t}>${r}`) ?? 0) + 1);
  return {
    images,
    plates: outcomes.length,
    detectionRecall03: mean((o) => Number(o.detected03)),
    detectionRecall05: mean((o) => Number(o.detected05)),
    top1: mean((o) => Number(o.top1)),
    topN: mean((o) => Number(o.topN)),
    charAccuracy: mean((o) => o.charAccuracy),
    stateCoverage: us.length ? given.length / us.length : null,
    stateAccuracy: given.length ? given.filter((o) => o.stateRight).length / given.length : null,
    foreignStateRate: outcomes.some((o) => o.foreign) ? outcomes.filter((o) => o.foreignStateGiven).length / outcomes.filter((o) => o.foreign).length : null,
    falsePlatesPerImage: images ? falsePlates / images : 0,
    detector: detector && detector.plates ? { recall05: detector.found / detector.plates, falseBoxesPerImage: images ? detector.falseBoxes / images : 0 } : null,
    confusions: [...pairs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([k, count]) => ({ truth: k[0]!, read: k[2]!, count })),
    msPerImage: images ? totalMs / images : 0,
  };
}

/** Predictions that overlap no labelled plate (IoU < 0.3): false plates, for scenes with boxes. */
export function countFalsePlates(truthBoxes: Box[], predicted: PredictedPlate[]): number {
  return predicted.filter((p) => truthBoxes.every((b) => iou(b, p.box) < 0.3)).length;
}
