import { normalisePlateText } from './text.js';

/**
 * Characters readers, witnesses and list keepers confuse on plates, each folded onto one
 * representative (0/O/Q/D, 1/I/L, 2/Z, 5/S, 6/G, 8/B), so a look-alike search or hot-list match for
 * "8ABC123" also finds "BABC123" and "8A8C1Z3" (and not "8ABC124"). Deliberately coarse: a hit is a
 * candidate an investigator verifies against the image (P13). The store's look-alike index holds
 * keyed tags of this fold: a change to the table needs a re-index of stored reads.
 */
const LOOK_ALIKE: Readonly<Record<string, string>> = {
  O: '0', Q: '0', D: '0',
  I: '1', L: '1',
  Z: '2',
  S: '5',
  G: '6',
  B: '8',
};

/**
 * Letter/digit pairs the reader weighs when it breaks a near tie (inference/plate-formats): the
 * folded pairs and two more its strokes mix up, T/1 and A/4. Those two are not folded: searches and
 * hot-list matches would then find too many plates that merely share a 1 or a 4.
 */
export const READER_LOOK_ALIKE_PAIRS: ReadonlySet<string> = new Set([...Object.entries(LOOK_ALIKE).map(([letter, digit]) => letter + digit), 'T1', 'A4']);

/** Folds look-alike characters onto their representative; every other character (wildcards too) passes through. */
export function foldLookAlikes(text: string): string {
  let out = '';
  for (const c of text) out += LOOK_ALIKE[c] ?? c;
  return out;
}

/** The look-alike key of a plate as typed or read: normalised, then folded. */
export function lookAlikeKey(plate: string): string {
  return foldLookAlikes(normalisePlateText(plate));
}
