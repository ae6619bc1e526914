import type { PlateObservation } from '../inference/engine.js';

/**
 * The `read` command's output line. Accuracy is judged through this shape, so it is a stable
 * interface: boxes in pixels of the input image, confidences 0..1, plates by confidence.
 */
export interface ReadLinePlate {
  text: string;
  confidence: number;
  state: string | null;
  box: [number, number, number, number];
  candidates: { text: string; confidence: number }[];
}

export function toReadLinePlate(p: { text: string; confidence: number; state?: string | null; box: number[]; candidates: { text: string; confidence: number }[] }): ReadLinePlate {
  return {
    text: p.text,
    confidence: round(p.confidence),
    state: p.state ?? null,
    box: p.box.map((v) => Math.round(v)) as ReadLinePlate['box'],
    candidates: p.candidates.slice(0, 10).map((c) => ({ text: c.text, confidence: round(c.confidence) })),
  };
}

export function observationsToPlates(obs: PlateObservation[]): ReadLinePlate[] {
  return obs.map(toReadLinePlate).sort((a, b) => b.confidence - a.confidence);
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
