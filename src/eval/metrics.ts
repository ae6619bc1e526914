import { iou, type Box } from '../inference/image.js';
import { editDistance } from '../plate/edit-distance.js';

export interface PredictedPlate {
  text: string;
  state: string | null;
  box: Box;
  candidates: { text: string }[];
}

/**
 * A share of a count: k of n, with its 95 % Wilson score interval. Eval splits are small (a
 * 50-plate split is about ±6 points), so no rate is reported without its count and interval.
 */
export interface Rate {
  k: number;
  n: number;
  /** k / n; null when n is 0. */
  value: number | null;
  /** 95 % Wilson score interval, [0, 1] when n is 0. */
  low: number;
  high: number;
}

/** z for a two-sided 95 % interval. */
const Z95 = 1.959963984540054;

/**
 * The Wilson score interval for k successes in n trials. Unlike p ± z·√(p(1−p)/n) it stays inside
 * [0, 1] and does not collapse to a point at k = 0 or k = n, which small splits hit often.
 */
export function wilsonInterval(k: number, n: number, z = Z95): [number, number] {
  if (n <= 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [k <= 0 ? 0 : Math.max(0, centre - half), k >= n ? 1 : Math.min(1, centre + half)];
}

export function rate(k: number, n: number): Rate {
  const [low, high] = wilsonInterval(k, n);
  return { k, n, value: n > 0 ? k / n : null, low, high };
}

/**
 * `96.0 % (48/50, 86–99)`: the rate, its count and its 95 % interval in whole percent, rounded
 * outwards so the printed interval is never narrower than the computed one.
 */
export function formatRate(r: Rate | null): string {
  if (r === null || r.value === null) return r ? `n/a (0/0)` : 'n/a';
  const low = Math.floor(r.low * 100 + 1e-9);
  const high = Math.ceil(r.high * 100 - 1e-9);
  return `${(r.value * 100).toFixed(1)} % (${r.k}/${r.n}, ${low}–${high})`;
}

export interface PlateOutcome {
  detected03: boolean;
  detected05: boolean;
  top1: boolean;
  topN: boolean;
  charAccuracy: number;
  /** Characters of the label read right (label length less the edit distance, at least 0). */
  charsRight: number;
  /** Characters in the label. */
  chars: number;
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
  const charsRight = Math.max(0, text.length - editDistance(read, text));
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
    charAccuracy: text ? charsRight / text.length : 0,
    charsRight,
    chars: text.length,
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
  /** Of labelled plates: read at IoU >= 0.3 / 0.5. */
  detectionRecall03: Rate;
  detectionRecall05: Rate;
  /** Of labelled plates: the surest read's text is the label / the label is among its candidates. */
  top1: Rate;
  topN: Rate;
  /**
   * Of the labels' characters: read right (label length less edit distance). Characters of one
   * plate fail together, so the interval is narrower than the truth; the plate rates are the ones to trust.
   */
  charAccuracy: Rate;
  /** Of US plates: share with a state given, and share of those that were right. */
  stateCoverage: Rate | null;
  stateAccuracy: Rate | null;
  /** Of non-US plates: share that got a US state (each one a wrong state). */
  foreignStateRate: Rate | null;
  /** Reads that overlap no labelled plate, in `images` pictures. */
  falsePlates: number;
  falsePlatesPerImage: number;
  /**
   * The detector alone (scenes with boxes): labelled plates with a detector box at IoU >= 0.5, and
   * boxes that overlap no plate, before the reader drops what is not a plate.
   */
  detector: { recall05: Rate; falseBoxes: number; falseBoxesPerImage: number } | null;
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
  const count = (list: PlateOutcome[], f: (o: PlateOutcome) => boolean) => rate(list.filter(f).length, list.length);
  const sum = (f: (o: PlateOutcome) => number) => outcomes.reduce((s, o) => s + f(o), 0);
  const us = outcomes.filter((o) => o.us);
  const given = us.filter((o) => o.stateGiven);
  const foreign = outcomes.filter((o) => o.foreign);
  const pairs = new Map<string, number>();
  for (const o of outcomes) for (const [t, r] of o.substitutions) pairs.set(`${t}>${r}`, (pairs.get(`${t}>${r}`) ?? 0) + 1);
  return {
    images,
    plates: outcomes.length,
    detectionRecall03: count(outcomes, (o) => o.detected03),
    detectionRecall05: count(outcomes, (o) => o.detected05),
    top1: count(outcomes, (o) => o.top1),
    topN: count(outcomes, (o) => o.topN),
    charAccuracy: rate(sum((o) => o.charsRight), sum((o) => o.chars)),
    stateCoverage: us.length ? count(us, (o) => o.stateGiven) : null,
    stateAccuracy: given.length ? count(given, (o) => o.stateRight) : null,
    foreignStateRate: foreign.length ? count(foreign, (o) => o.foreignStateGiven) : null,
    falsePlates,
    falsePlatesPerImage: images ? falsePlates / images : 0,
    detector: detector && detector.plates ? { recall05: rate(detector.found, detector.plates), falseBoxes: detector.falseBoxes, falseBoxesPerImage: images ? detector.falseBoxes / images : 0 } : null,
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
