// CTC decoding over a small class set (blank = class 0). Pure functions: the readers hand in
// per-step probabilities already reduced to the plate alphabet.

export interface DecodedText {
  text: string;
  /** Probability-like score of the whole string (0..1). */
  confidence: number;
  /** One value per character of `text`: the best step probability of that character. */
  charConfidences: number[];
}

/**
 * Greedy best-path decode: argmax per step, collapse repeats, drop blanks.
 * `probs` is steps × classes, row-major; `alphabet[k-1]` is class k.
 */
export function decodeBestPath(probs: Float32Array, steps: number, classes: number, alphabet: string): DecodedText {
  let text = '';
  const charConfidences: number[] = [];
  let prev = 0;
  for (let t = 0; t < steps; t++) {
    let best = 0;
    let bestP = -1;
    const row = t * classes;
    for (let k = 0; k < classes; k++) {
      const p = probs[row + k]!;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    if (best !== 0 && best !== prev) {
      text += alphabet[best - 1];
      charConfidences.push(bestP);
    } else if (best !== 0 && best === prev && charConfidences.length) {
      charConfidences[charConfidences.length - 1] = Math.max(charConfidences[charConfidences.length - 1]!, bestP);
    }
    prev = best;
  }
  return { text, confidence: geometricMean(charConfidences), charConfidences };
}

export function geometricMean(values: number[]): number {
  if (!values.length) return 0;
  let s = 0;
  for (const v of values) s += Math.log(Math.max(v, 1e-9));
  return Math.exp(s / values.length);
}

/**
 * A reader's text for one crop: the beam's best string (best path and beam can disagree on near
 * ties; the beam sums over alignments), its confidence, per-character confidences when best path
 * agrees, and up to `topN` candidates.
 */
export function decodePlateText(probs: Float32Array, steps: number, classes: number, alphabet: string, beamWidth = 10, topN = 10) {
  const best = decodeBestPath(probs, steps, classes, alphabet);
  const beams = decodeBeam(probs, steps, classes, alphabet, beamWidth, topN);
  const candidates = beams.length ? beams : best.text ? [{ text: best.text, confidence: best.confidence }] : [];
  const top = candidates[0];
  const text = top?.text ?? '';
  const confidence = top && top.text === best.text ? Math.min(best.confidence, top.confidence) : (top?.confidence ?? 0) * best.confidence;
  return { text, confidence, charConfidences: text === best.text ? best.charConfidences : [], candidates };
}

interface Beam {
  pBlank: number;
  pNonBlank: number;
}

/**
 * CTC prefix beam search. Returns up to `topN` distinct strings with their probability mass
 * normalised over the beams kept, so candidates' confidences are comparable and sum to ≤ 1.
 */
export function decodeBeam(probs: Float32Array, steps: number, classes: number, alphabet: string, beamWidth = 10, topN = 10): { text: string; confidence: number }[] {
  let beams = new Map<string, Beam>([['', { pBlank: 1, pNonBlank: 0 }]]);
  for (let t = 0; t < steps; t++) {
    const row = t * classes;
    // Skip classes with negligible mass at this step: keeps the search linear in practice.
    const active: number[] = [];
    for (let k = 1; k < classes; k++) if (probs[row + k]! > 1e-3) active.push(k);
    const next = new Map<string, Beam>();
    const get = (prefix: string): Beam => {
      let b = next.get(prefix);
      if (!b) next.set(prefix, (b = { pBlank: 0, pNonBlank: 0 }));
      return b;
    };
    const pBlankStep = probs[row]!;
    for (const [prefix, beam] of beams) {
      const total = beam.pBlank + beam.pNonBlank;
      get(prefix).pBlank += total * pBlankStep;
      const last = prefix.length ? prefix[prefix.length - 1] : undefined;
      for (const k of active) {
        const c = alphabet[k - 1]!;
        const p = probs[row + k]!;
        if (c === last) {
          // Repeat without a blank in between collapses; with a blank it extends.
          get(prefix).pNonBlank += beam.pNonBlank * p;
          get(prefix + c).pNonBlank += beam.pBlank * p;
        } else {
          get(prefix + c).pNonBlank += total * p;
        }
      }
    }
    beams = new Map([...next.entries()].sort((a, b) => b[1].pBlank + b[1].pNonBlank - (a[1].pBlank + a[1].pNonBlank)).slice(0, beamWidth));
  }
  const ranked = [...beams.entries()]
    .map(([text, b]) => ({ text, p: b.pBlank + b.pNonBlank }))
    .filter((c) => c.text.length > 0)
    .sort((a, b) => b.p - a.p);
  const mass = ranked.reduce((s, c) => s + c.p, 0) || 1;
  return ranked.slice(0, topN).map((c) => ({ text: c.text, confidence: c.p / mass }));
}
