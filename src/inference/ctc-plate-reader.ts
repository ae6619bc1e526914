import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './session.js';
import { resizeRgb, type Box, type RgbImage } from './image.js';

const WIDE_PLATE_ASPECT = 2.9;
import { decodePlateText } from './ctc.js';
import type { PlateReader, PlateTextResult } from './reader.js';

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
 * crop is stretched to the input size (the network was trained on stretched plate boxes).
 */
export class CtcPlateReader implements PlateReader {
  // Our detector boxes US plates between the number band (how ucsd-ca labels them) and the whole
  // plate, and the reader needs the banner for the state: measured end to end on ucsd-ca val
  // (npm run eval, detector-int8): margins 0.02/0.08 → 64 % top-1, 0.05/0.2 → 72 %, 0.08/0.3 → 82 %,
  // 0.1/0.3 → 80 %, 0.08/0.4 → 68 %. Boxes wider than 2.9:1 (EU and BR plates, and US boxes that are
  // mostly the number band) take the tight margins the reader was trained with: that split measured
  // best over ucsd-ca (85.4 % all), openalpr-eu (87.0 % all) and openalpr-br (90.9 % all) against
  // 3.6:1 (83.3 / 86.1 / 54.5 %) and 2.6:1 (85.8 % ucsd-ca all but 74 % on its val split).
  cropPaddingFor(box: Box): { x: number; y: number } {
    return box[2] / Math.max(1, box[3]) > WIDE_PLATE_ASPECT ? { x: 0.04, y: 0.1 } : { x: 0.08, y: 0.3 };
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

  async read(crops: RgbImage[]): Promise<PlateTextResult[]> {
    if (!crops.length) return [];
    const { inputWidth: w, inputHeight: h } = this.spec;
    const plane = w * h;
    const input = new Float32Array(crops.length * 3 * plane);
    for (let i = 0; i < crops.length; i++) {
      const img = await resizeRgb(crops[i]!, w, h);
      const base = i * 3 * plane;
      for (let p = 0; p < plane; p++) {
        input[base + p] = img.data[p * 3]! / 127.5 - 1;
        input[base + plane + p] = img.data[p * 3 + 1]! / 127.5 - 1;
        input[base + 2 * plane + p] = img.data[p * 3 + 2]! / 127.5 - 1;
      }
    }
    const out = await this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [crops.length, 3, h, w]) });
    const logits = out['logits']!;
    const [batch, steps, classes] = logits.dims as [number, number, number];
    const logProbs = logits.data as Float32Array;
    const stateLogits = out['state_logits']?.data as Float32Array | undefined;
    const nStates = this.spec.states.length;
    const results: PlateTextResult[] = [];
    for (let b = 0; b < batch; b++) {
      const probs = new Float32Array(steps * classes);
      for (let i = 0; i < probs.length; i++) probs[i] = Math.exp(logProbs[b * steps * classes + i]!);
      const result: PlateTextResult = decodePlateText(probs, steps, classes, this.spec.charset, this.beamWidth);
      if (stateLogits) {
        const state = this.stateOf(stateLogits.subarray(b * nStates, (b + 1) * nStates));
        if (state) Object.assign(result, state);
      }
      results.push(result);
    }
    return results;
  }

  private stateOf(logits: Float32Array): { state: string; stateConfidence: number } | undefined {
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
