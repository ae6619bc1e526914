import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './session.js';
import { padBox, type Box } from './image.js';
import { patchFor, writePatchInput, type Patch, type PlateRegion } from './reader-input.js';
import { decodePlateText } from './ctc.js';
import type { PlateReader, PlateTextResult } from './reader.js';
import { fuseViews } from './view-fusion.js';
import { preferGroupedText, preferStateFormat } from './plate-formats.js';

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
  private static readonly VIEW_MARGINS: readonly (readonly [number, number])[] = [
    [0.02, 0.05],
    [0.04, 0.1],
    [0.06, 0.2],
    [0.08, 0.3],
  ];

  /** The framings of one detected box, read together and fused. */
  private viewsFor(box: Box): Box[] {
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
     * 84 % coverage; 0.97 → ucsd-ca 97.4 % at 78 %, us-crops 95.7 % at 59 % (2026-12-01 reader).
     * Reader 1.0-step5000+9920+7241, reader alone: 0.97 and 0.99 both give us-crops 82.1 % at
     * 96.9 %, ucsd-ca 94 / 92 % at 100 %; 0.99 also withholds the one wrong state seen on our own
     * synthetic plates (a New York plate of a fixture scene taken for Virginia at 0.989), and a
     * single framing now settles most plates, so nothing else cross-checks its state.
     */
    private readonly minStateConfidence = 0.99,
    private readonly beamWidth = 10,
  ) {}

  /**
   * Reads the plate in each region. Each plate is first read in one framing; only when that read
   * is unsure, neither clearly a plate nor clearly none, is it read in the other three as well and
   * all four fused.
   */
  async read(plates: PlateRegion[]): Promise<PlateTextResult[]> {
    if (!plates.length) return [];
    const { inputWidth: w, inputHeight: h } = this.spec;
    const all = plates.map(({ box }) => this.viewsFor(box));
    // One shrunk patch per plate serves all its framings (reader-input.ts).
    const patches = plates.map((p, i) => patchFor(p.image, all[i]!, w, h));
    const framings = (i: number, which: readonly number[]): Framing[] => which.map((f) => ({ patch: patches[i]!, box: all[i]![f]! }));
    const first = await this.readFramings(plates.map((_, i) => framings(i, FIRST_FRAMINGS)));
    const unsure = first.map((views, i) => (settled(views) || hopeless(views) ? -1 : i)).filter((i) => i >= 0);
    const more = unsure.length ? await this.readFramings(unsure.map((i) => framings(i, OTHER_FRAMINGS))) : [];
    const results: PlateTextResult[] = [];
    for (let i = 0, next = 0; i < plates.length; i++) {
      const reads = unsure[next] === i ? [...first[i]!, ...more[next++]!] : first[i]!;
      const result = fuseViews(reads.map((r) => r.text));
      const state = agreedState(reads.flatMap((r) => (r.state ? [r.state] : [])));
      // A known state's own formats, or none: states issue serials with lone digits inside letter
      // groups (Idaho's county codes), which the grouping rule would undo.
      results.push(state ? preferStateFormat({ ...result, ...state }) : preferGroupedText(result));
    }
    return results;
  }

  /** One batch through the network: groups[i] are the framings of plate i, each decoded. */
  private async readFramings(groups: Framing[][]): Promise<FramingRead[][]> {
    const regions = groups.flat();
    const { inputWidth: w, inputHeight: h } = this.spec;
    const size = 3 * w * h;
    const input = new Float32Array(regions.length * size);
    regions.forEach(({ patch, box }, i) => writePatchInput(patch, box, w, h, input, i * size));
    const out = await this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [regions.length, 3, h, w]) });
    const logits = out['logits']!;
    const [, steps, classes] = logits.dims as [number, number, number];
    const logProbs = logits.data as Float32Array;
    const stateLogits = out['state_logits']?.data as Float32Array | undefined;
    const nStates = this.spec.states.length;
    let b = 0;
    return groups.map((group) =>
      group.map(() => {
        const probs = new Float32Array(steps * classes);
        for (let i = 0; i < probs.length; i++) probs[i] = Math.exp(logProbs[b * steps * classes + i]!);
        const text = decodePlateText(probs, steps, classes, this.spec.charset, this.beamWidth);
        const state = stateLogits && this.stateOf(stateLogits.subarray(b * nStates, (b + 1) * nStates));
        b++;
        return state ? { text, state } : { text };
      }),
    );
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

/** Indexes into VIEW_MARGINS: the framing read first, and those read only for unsure plates. */
const FIRST_FRAMINGS = [1] as const;
const OTHER_FRAMINGS = [0, 2, 3] as const;
/**
 * The first framing reads the plate at least this sure: the other three are skipped. Measured
 * (npm run eval, INT8, 2026-12-02) against reading framings 1 and 2 first and settling when they
 * agree at >= 0.9: top-1 the same on ucsd-ca val and all scenes, openalpr-eu, openalpr-br and
 * openalpr-us-crops, one plate better on ucsd-ca val crops (96 %); state coverage one plate lower
 * on ucsd-ca val scenes (91.8 %), precision unchanged; framings per plate 2.64 -> 2.08 (ucsd-ca),
 * 2.97 -> 2.31 (us-crops), 2.67 -> 1.75 (openalpr-eu). At 0.95: the same reads.
 */
const SETTLED_CONFIDENCE = 0.97;

interface Framing {
  patch: Patch;
  box: Box;
}

interface FramingRead {
  text: PlateTextResult;
  state?: StateGuess;
}

/**
 * The first framing found nothing like a plate: the box is not one (a sign, a grille), and more
 * framings will not make it one. Measured (npm run eval, INT8, 2026-12-02): stopping below 0.05
 * (and 0.15) changed no read, state or false plate on ucsd-ca val/all, openalpr-eu, openalpr-br,
 * us-crops and ucsd-ca crops; on the bench clip, whose signs and bumpers the detector also boxes,
 * framings per box went 3.38 -> 1.40 and reader time per box 8 -> 3-4 ms.
 */
const HOPELESS_CONFIDENCE = 0.05;

function hopeless(reads: FramingRead[]): boolean {
  return reads.every((r) => r.text.confidence < HOPELESS_CONFIDENCE);
}

function settled(reads: FramingRead[]): boolean {
  return reads.every((r) => r.text.text === reads[0]!.text.text && r.text.confidence >= SETTLED_CONFIDENCE);
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
