import type { Box, RgbImage } from './image.js';

/** The small palette officers use to describe a vehicle (NCIC VCO codes map onto it). */
export const VEHICLE_COLOURS = ['white', 'silver', 'grey', 'black', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'brown'] as const;
export type VehicleColour = (typeof VEHICLE_COLOURS)[number];

export interface VehicleColourEstimate {
  colour: VehicleColour;
  /** Share of the sampled body pixels that voted for the colour (0..1): an estimate, not a fact (P13). */
  confidence: number;
  /** Pixels sampled; few means the plate was near the frame's edge. */
  samples: number;
}

/** Below this many usable body pixels there is nothing to say. */
const MIN_SAMPLES = 40;
/** At most this many pixels per region are looked at: a 400 px plate would otherwise cost ~100k. */
const MAX_PER_REGION = 1500;

/**
 * Names the colour of the vehicle body around a plate. It samples three regions in plate units —
 * left and right of the plate at its height (bumper or tailgate), and above it (boot lid or
 * bonnet) — classifies each pixel into the palette by hue, saturation and value, and takes the
 * most common class. Plates, lamps and glass fall mostly outside those regions; shadows, glare and
 * black plastic bumpers still pull the vote, which the confidence shows. IR frames (grey) can only
 * give white, silver, grey or black.
 */
export function estimateVehicleColour(img: RgbImage, plate: Box): VehicleColourEstimate | null {
  const [x, y, w, h] = plate;
  // Close beside the plate (bumper or tailgate: the rear lamps sit further out) and above it (boot lid).
  const regions: Box[] = [
    [x - 0.8 * w, y, 0.6 * w, h],
    [x + 1.2 * w, y, 0.6 * w, h],
    [x - 0.1 * w, y - 2.8 * h, 1.2 * w, 2.0 * h],
  ];
  const votes = new Map<VehicleColour, number>();
  let samples = 0;
  for (const r of regions) samples += sampleRegion(img, r, votes);
  if (samples < MIN_SAMPLES) return null;
  let best: VehicleColour = 'grey';
  let bestVotes = -1;
  for (const [c, v] of votes) {
    if (v > bestVotes) {
      best = c;
      bestVotes = v;
    }
  }
  return { colour: best, confidence: Math.round((bestVotes / samples) * 1000) / 1000, samples };
}

function sampleRegion(img: RgbImage, r: Box, votes: Map<VehicleColour, number>): number {
  const x0 = Math.max(0, Math.floor(r[0]));
  const y0 = Math.max(0, Math.floor(r[1]));
  const x1 = Math.min(img.width, Math.ceil(r[0] + r[2]));
  const y1 = Math.min(img.height, Math.ceil(r[1] + r[3]));
  const area = (x1 - x0) * (y1 - y0);
  if (x1 <= x0 || y1 <= y0) return 0;
  const step = Math.max(1, Math.round(Math.sqrt(area / MAX_PER_REGION)));
  let n = 0;
  for (let yy = y0; yy < y1; yy += step) {
    for (let xx = x0; xx < x1; xx += step) {
      const i = (yy * img.width + xx) * 3;
      const c = classifyPixel(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!);
      votes.set(c, (votes.get(c) ?? 0) + 1);
      n++;
    }
  }
  return n;
}

/** One RGB pixel → a palette colour (HSV rules; thresholds picked on our synthetic and the shared sets' training scenes). */
export function classifyPixel(r: number, g: number, b: number): VehicleColour {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const v = max / 255;
  const s = max === 0 ? 0 : (max - min) / max;
  if (v < 0.2) return 'black';
  // Silver and white paint mirror the sky: a faint blue cast is still an achromatic car.
  if (s < 0.28 || max - min < 30) {
    if (v > 0.78) return 'white';
    if (v > 0.5) return 'silver';
    if (v > 0.3) return 'grey';
    return 'black';
  }
  let hue: number;
  const d = max - min;
  if (max === r) hue = ((g - b) / d) % 6;
  else if (max === g) hue = (b - r) / d + 2;
  else hue = (r - g) / d + 4;
  hue = (hue * 60 + 360) % 360;
  if (hue < 15 || hue >= 340) return v < 0.35 ? 'brown' : 'red';
  if (hue < 42) return v < 0.55 || s < 0.45 ? 'brown' : 'orange';
  if (hue < 70) return v < 0.5 ? 'brown' : 'yellow';
  if (hue < 165) return 'green';
  if (hue < 260) return 'blue';
  return 'purple';
}
