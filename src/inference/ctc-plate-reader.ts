import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './session.js';
import { padBox, type Box } from './image.js';
import { writeReaderInput, type PlateRegion } from './reader-input.js';
import { decodePlateText } from './ctc.js';
import type { PlateReader, PlateTextResult } from './reader.js';
import { fuseViews } from './view-fusion.js';
import { preferStateFormat } from './plate-formats.js';

/** What the manifest says about our reader (written by scripts/export/export_reader.py). */
export interface CtcReaderSpec {
  inputWidth: number;
  inputHeight: number;
  /** CTC class k > 0 is charset[k - 1]; class 0 is blank. */
  charset: string;
  /** State classes in output order; the last one is `unknown` (non-US or unsure). */
  states: string[];
}

/**
 * Our own plate reader: a conv-only CTC recogniser with a US-state head, FP32 or INT8 (QDQ). The
 * region is stretched to the input size (the network was trained on stretched plate boxes).
 */
export class CtcPlateReader implements PlateReader {
  // Margins (fractions of the box's width, height) of the framings each box is read in. Our
  // detector boxes US plates anywhere between the number band (how ucsd-ca labels them) and the
  // whole plate; the reader was trained on boxes padded −2…+12 % in x and −4…+20 % in y. Measured
  // end to end (npm run eval, INT8, 2026-12-01), ucsd-ca val / all, openalpr-eu all: one margin
  // picked by aspect 80 / 85 / 86 %; 0.04/0.1 + 0.08/0.3 88 / 92 / 89 %; these four 90 / 95 / 94 %;
  // 0.04/0.1 … 0.1/0.4 88 / 94 / 88 %.
  static readonly VIEW_MARGINS: readonly (readonly [number, number])[] = [
    [0.02, 0.05],
    [0.04, 0.1],
    [0.06, 0.2],
    [0.08, 0.3],
  ];

  /** The framings of one detected box, read together and fused. */
  viewsFor(box: Box): Box[] {
    return CtcPlateReader.VIEW_MARGINS.map(([x, y]) => padBox(box, box[2] * x, box[3] * y));
  }

  constructor(
    private readonly session: InferenceSession,
    readonly name: string,
    readonly version: string,
    private readonly spec: CtcReaderSpec,
    /**
     * P13: a state is given only when the head is at least this sure; no state beats a wrong one.
     * Measured end to end with our detector (npm run eval, val splits): 0.85 → ucsd-ca 92.7 % right at
     * 84 % coverage; 0.97 → ucsd-ca 97.4 % at 78 %, us-crops 95.7 % at 59 %.
     */
    private readonly minStateConfidence = 0.97,
    private readonly beamWidth = 10,
  ) {}

  /** Reads the plate in each region: its framings in one batch, fused per plate. */
  async read(plates: PlateRegion[]): Promise<PlateTextResult[]> {
    if (!plates.length) return [];
    const framings = CtcPlateReader.VIEW_MARGINS.length;
    const regions = plates.flatMap(({ image, box }) => this.viewsFor(box).map((b) => ({ image, box: b })));
    const { inputWidth: w, inputHeight: h } = this.spec;
    const size = 3 * w * h;
    const input = new Float32Array(regions.length * size);
    regions.forEach((region, i) => writeReaderInput(region, w, h, input, i * size));
    const out = await this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [regions.length, 3, h, w]) });
    const logits = out['logits']!;
    const [, steps, classes] = logits.dims as [number, number, number];
    const logProbs = logits.data as Float32Array;
    const stateLogits = out['state_logits']?.data as Float32Array | undefined;
    const nStates = this.spec.states.length;
    const results: PlateTextResult[] = [];
    for (let p = 0; p < plates.length; p++) {
      const views: PlateTextResult[] = [];
      const states: StateGuess[] = [];
      for (let v = 0; v < framings; v++) {
        const b = p * framings + v;
        const probs = new Float32Array(steps * classes);
        for (let i = 0; i < probs.length; i++) probs[i] = Math.exp(logProbs[b * steps * classes + i]!);
        views.push(decodePlateText(probs, steps, classes, this.spec.charset, this.beamWidth));
        const state = stateLogits && this.stateOf(stateLogits.subarray(b * nStates, (b + 1) * nStates));
        if (state) states.push(state);
      }
      const result = fuseViews(views);
      const state = agreedState(states);
      results.push(state ? preferStateFormat({ ...result, ...state }) : result);
    }
    return results;
  }

  /** P13: a framing's state, when the head is at least `minStateConfidence` sure of it. */
  private stateOf(logits: Float32Array): StateGuess | undefined {
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    let best = 0;
    for (let i = 0; i < logits.length; i++) {
      sum += Math.exp(logits[i]! - max);
      if (logits[i]! > logits[best]!) best = i;
    }
    const p = 1 / sum; // exp(max - max) / sum
    const state = this.spec.states[best]!;
    if (state === 'unknown' || best === this.spec.states.length - 1 || p < this.minStateConfidence) return undefined;
    return { state, stateConfidence: p };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

interface StateGuess {
  state: string;
  stateConfidence: number;
}

/**
 * P13, precision first: a state some framing is sure of, given only when no framing is sure of
 * another. Measured against averaging the framings' state probabilities (npm run eval, INT8,
 * openalpr-us-crops val / ucsd-ca val scenes, coverage at precision): this rule 61.5 % at 95.8 % /
 * 91.8 % at 97.8 %; the average at 0.8, 61.5 % at 95.8 % / 83.7 % at 100 %.
 */
function agreedState(guesses: StateGuess[]): StateGuess | undefined {
  if (!guesses.length || guesses.some((g) => g.state !== guesses[0]!.state)) return undefined;
  return guesses.reduce((a, b) => (b.stateConfidence > a.stateConfidence ? b : a));
}
