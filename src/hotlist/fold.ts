// Characters OCR and people confuse on plates, folded onto one representative each.
const LOOK_ALIKE: Record<string, string> = { O: '0', Q: '0', D: '0', I: '1', L: '1', B: '8', S: '5', Z: '2', G: '6' };

/** Folds look-alike characters (0/O/Q/D, 1/I/L, 8/B, 5/S, 2/Z, 6/G); wildcards pass through. */
export function foldLookAlikes(text: string): string {
  let out = '';
  for (const c of text) out += LOOK_ALIKE[c] ?? c;
  return out;
}
