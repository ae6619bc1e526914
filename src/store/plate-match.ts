import { normalisePlateText } from '../inference/plate-text.js';

/**
 * Characters a reader (or a witness) confuses on plates, folded onto one representative so that a
 * look-alike search for "8ABC123" also finds "BABC123" and "8A8C1Z3" (and not "8ABC124"). Deliberately coarse: a search
 * returns candidates that an investigator verifies against the image (P13).
 */
const LOOK_ALIKE: Record<string, string> = {
  O: '0', Q: '0', D: '0',
  I: '1', L: '1',
  Z: '2',
  S: '5',
  G: '6',
  B: '8',
};

export function lookAlikeKey(plate: string): string {
  let out = '';
  for (const c of normalisePlateText(plate)) out += LOOK_ALIKE[c] ?? c;
  return out;
}

/** A partial plate pattern: `*` any run of characters, `?` or `_` exactly one. */
export function isWildcardPattern(pattern: string): boolean {
  return /[*?_]/.test(pattern);
}

export function wildcardMatcher(pattern: string): (plate: string) => boolean {
  const body = pattern
    .toUpperCase()
    .replace(/[^0-9A-Z*?_]/g, '')
    .split('')
    .map((c) => (c === '*' ? '[0-9A-Z]*' : c === '?' || c === '_' ? '[0-9A-Z]' : c))
    .join('');
  const re = new RegExp(`^${body}$`);
  return (plate) => re.test(plate);
}
