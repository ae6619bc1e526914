import { readFileSync } from 'node:fs';
import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './session.js';
import { resizeRgb, type RgbImage } from './image.js';
import { decodePlateText } from './ctc.js';
import { PLATE_ALPHABET } from './plate-text.js';
import type { PlateReader, PlateTextResult } from './reader.js';

// PP-OCRv4 recognition (CTC over 6,623 characters) as the interim plate reader. Plates use only
// A–Z and 0–9, so each step's probabilities are folded onto that alphabet before decoding:
// lower-case mass joins its capital, separators and every other glyph count as "no character".
// This turns a general text model into a constrained plate reader without retraining it.

const HEIGHT = 48;
const MIN_WIDTH = 96;
const MAX_WIDTH = 640;

export class PpOcrReader implements PlateReader {
  private readonly fold: Int16Array;

  constructor(
    private readonly session: InferenceSession,
    readonly name: string,
    readonly version: string,
    dictionaryPath: string,
    private readonly beamWidth = 10,
  ) {
    this.fold = buildFold(readFileSync(dictionaryPath, 'utf8').split('\n'));
  }

  async read(crops: RgbImage[]): Promise<PlateTextResult[]> {
    if (!crops.length) return [];
    const widths = crops.map((c) => Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, Math.ceil((HEIGHT * c.width) / Math.max(1, c.height)))));
    const batchWidth = Math.ceil(Math.max(...widths) / 8) * 8;
    const plane = HEIGHT * batchWidth;
    const input = new Float32Array(crops.length * 3 * plane); // zeros = mid-grey after normalisation
    for (let i = 0; i < crops.length; i++) {
      const resized = await resizeRgb(crops[i]!, widths[i]!, HEIGHT);
      writeRecTensor(resized, input, i * 3 * plane, batchWidth);
    }
    const out = await this.session.run({ [this.session.inputNames[0]!]: new ort.Tensor('float32', input, [crops.length, 3, HEIGHT, batchWidth]) });
    const tensor = out[this.session.outputNames[0]!]!;
    const [batch, steps, classes] = tensor.dims as [number, number, number];
    const probs = tensor.data as Float32Array;
    const results: PlateTextResult[] = [];
    for (let b = 0; b < batch; b++) {
      const folded = foldSteps(probs, b * steps * classes, steps, classes, this.fold);
      results.push(decodePlateText(folded, steps, PLATE_ALPHABET.length + 1, PLATE_ALPHABET, this.beamWidth));
    }
    return results;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/** Maps each of the model's classes to plate class (0 = blank/no character, k = PLATE_ALPHABET[k-1]). */
function buildFold(dictionary: string[]): Int16Array {
  const keys = dictionary.filter((_, i) => i < dictionary.length - 1 || dictionary[i] !== '');
  const classes = keys.length + 2; // blank first, the space class last
  const fold = new Int16Array(classes);
  for (let k = 1; k <= keys.length; k++) {
    const idx = PLATE_ALPHABET.indexOf(keys[k - 1]!.toUpperCase());
    fold[k] = idx >= 0 && keys[k - 1]!.length === 1 ? idx + 1 : 0;
  }
  return fold;
}

function foldSteps(probs: Float32Array, offset: number, steps: number, classes: number, fold: Int16Array): Float32Array {
  const out = new Float32Array(steps * (PLATE_ALPHABET.length + 1));
  const width = PLATE_ALPHABET.length + 1;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    for (let k = 0; k < classes; k++) {
      const o = t * width + (fold[k] ?? 0);
      out[o] = out[o]! + probs[row + k]!;
    }
  }
  return out;
}

function writeRecTensor(img: RgbImage, out: Float32Array, offset: number, batchWidth: number): void {
  const plane = HEIGHT * batchWidth;
  const d = img.data;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      const o = offset + y * batchWidth + x;
      // BGR order, (v/255 - 0.5) / 0.5, as PaddleOCR's recogniser was trained.
      out[o] = d[s + 2]! / 127.5 - 1;
      out[o + plane] = d[s + 1]! / 127.5 - 1;
      out[o + 2 * plane] = d[s]! / 127.5 - 1;
    }
  }
}
