import type { Box } from '../inference/image.js';
import { normalisePlateText } from '../plate/text.js';
import { rate, type Rate } from './metrics.js';

/** One vehicle of a pass clip (scripts/synth/make_pass_clips.py writes them in passes.json). */
export interface ClipVehicle {
  /** Set and label line of the picture it came from: reports name vehicles by this, never by text. */
  ref: string;
  text: string;
  startFrame: number;
  endFrame: number;
  /** Where in the frame this vehicle's picture is: [x, y, w, h]. */
  region: Box;
  /** The labelled plate's box in the frame: once if it stays put, else at its first, middle and last frame. */
  plateBoxes: Box[];
}

/** A read the pipeline emitted, on the clip's video clock. */
export interface PassRead {
  text: string;
  firstSeenMs: number;
  lastSeenMs: number;
  box: Box;
}

export type PassOutcomeKind = 'once-right' | 'once-wrong' | 'twice' | 'missed';

export interface VehicleOutcome {
  ref: string;
  kind: PassOutcomeKind;
  reads: number;
  /** Whether any of its reads had the right text (a vehicle read twice may have been read right once). */
  anyRight: boolean;
}

export interface PassSummary {
  vehicles: number;
  onceRight: Rate;
  onceWrong: Rate;
  twice: Rate;
  missed: Rate;
  /** Reads that belong to no vehicle (outside every vehicle's time and picture). */
  strayReads: number;
  /** Reads inside a vehicle's picture but away from its labelled plate: the sets label one plate per picture, so these are mostly real, unlabelled plates (a car behind). */
  otherPlateReads: number;
  reads: number;
}

/**
 * Assigns each read to the vehicle it overlaps longest in time whose picture holds the read's box
 * centre and whose labelled plate is where the read is, then scores each vehicle: read exactly once and right, once but wrong, two or more times,
 * or not at all. A read spanning several vehicles (two passes merged into one) lands on one of
 * them and the others count as missed: merging must not look like success.
 */
export function scorePasses(vehicles: ClipVehicle[], reads: PassRead[], fps: number): { outcomes: VehicleOutcome[]; summary: PassSummary } {
  const frameMs = 1000 / fps;
  const assigned = new Map<ClipVehicle, PassRead[]>(vehicles.map((v) => [v, []]));
  let stray = 0;
  let other = 0;
  for (const r of reads) {
    const cx = r.box[0] + r.box[2] / 2;
    const cy = r.box[1] + r.box[3] / 2;
    let best: ClipVehicle | undefined;
    let bestOverlap = -1;
    for (const v of vehicles) {
      const [x, y, w, h] = v.region;
      if (cx < x || cx >= x + w || cy < y || cy >= y + h) continue;
      // Frame f covers [f, f + 1) frame intervals of video time.
      const overlap = Math.min(r.lastSeenMs + frameMs, (v.endFrame + 1) * frameMs) - Math.max(r.firstSeenMs, v.startFrame * frameMs);
      if (overlap > 0 && overlap > bestOverlap) {
        bestOverlap = overlap;
        best = v;
      }
    }
    if (!best) stray++;
    else if (!nearPlate(best.plateBoxes, cx, cy)) other++;
    else assigned.get(best)!.push(r);
  }
  const outcomes = vehicles.map((v): VehicleOutcome => {
    const rs = assigned.get(v)!;
    const truth = normalisePlateText(v.text);
    const anyRight = rs.some((r) => normalisePlateText(r.text) === truth);
    const kind: PassOutcomeKind = rs.length === 0 ? 'missed' : rs.length > 1 ? 'twice' : anyRight ? 'once-right' : 'once-wrong';
    return { ref: v.ref, kind, reads: rs.length, anyRight };
  });
  return { outcomes, summary: summarisePasses(outcomes, stray, other, reads.length) };
}

/** Whether (cx, cy) lies on the labelled plate's path: the hull of its boxes, grown by one plate size each way. */
function nearPlate(boxes: Box[], cx: number, cy: number): boolean {
  if (!boxes.length) return true;
  const x0 = Math.min(...boxes.map((b) => b[0] - b[2]));
  const x1 = Math.max(...boxes.map((b) => b[0] + 2 * b[2]));
  const y0 = Math.min(...boxes.map((b) => b[1] - b[3]));
  const y1 = Math.max(...boxes.map((b) => b[1] + 2 * b[3]));
  return cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1;
}

/** Rates over vehicle outcomes: of one clip, or of several clips together. */
export function summarisePasses(outcomes: VehicleOutcome[], strayReads: number, otherPlateReads: number, reads: number): PassSummary {
  const n = outcomes.length;
  const count = (k: PassOutcomeKind) => outcomes.filter((o) => o.kind === k).length;
  return {
    vehicles: n,
    onceRight: rate(count('once-right'), n),
    onceWrong: rate(count('once-wrong'), n),
    twice: rate(count('twice'), n),
    missed: rate(count('missed'), n),
    strayReads,
    otherPlateReads,
    reads,
  };
}
