// Text as a person reads it, for checks a requester might try to slip past with look-alike
// characters (P14): "ІСЕ" in Cyrillic, "ｉｍｍｉｇｒａｔｉｏｎ" in full width, "i\u200Bmmigration" with a
// zero-width space, "imm1gration", "I.C.E.". Unicode NFKC first (compatibility forms), then format
// characters and accents removed and the confusable letters of other scripts folded to Latin, after
// Unicode's confusables data (https://www.unicode.org/Public/security/latest/confusables.txt) for the
// letters that matter here. Case is kept: `tokens` says which words were written in capitals.

const CONFUSABLE_LETTERS: Record<string, string> = {
  // Cyrillic
  А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', Х: 'X', У: 'Y', Ү: 'Y', І: 'I', Ӏ: 'I', Ј: 'J', Ѕ: 'S', Ԁ: 'D', Ԍ: 'G', Ԛ: 'Q', Ԝ: 'W', Һ: 'H', Ꙇ: 'I',
  а: 'a', в: 'B', е: 'e', ё: 'e', к: 'K', м: 'M', н: 'H', о: 'o', р: 'p', с: 'c', т: 'T', х: 'x', у: 'y', ү: 'y', і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ɡ: 'g',
  // Greek
  Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Υ: 'Y', Χ: 'X', Ϲ: 'C', Ϳ: 'J',
  α: 'a', ο: 'o', ι: 'i', κ: 'k', ν: 'v', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ϲ: 'c', ϳ: 'j', ε: 'e',
  // Armenian
  օ: 'o', ս: 'u', ց: 'g', ո: 'n', հ: 'h', Ս: 'U', Օ: 'O',
  // Latin look-alikes: dotless i and j, IPA letters, small capitals
  ı: 'i', ȷ: 'j', ɑ: 'a', ɩ: 'i', ɪ: 'I', ᴀ: 'A', ʙ: 'B', ᴄ: 'C', ᴅ: 'D', ᴇ: 'E', ɢ: 'G', ʜ: 'H', ᴊ: 'J', ᴋ: 'K', ʟ: 'L', ᴍ: 'M', ɴ: 'N', ᴏ: 'O', ᴘ: 'P', ʀ: 'R', ꜱ: 'S', ᴛ: 'T', ᴜ: 'U', ᴠ: 'V', ᴡ: 'W', ʏ: 'Y', ᴢ: 'Z',
  // Cherokee capitals that are Latin capitals to the eye
  Ꭺ: 'A', Ᏼ: 'B', Ꮯ: 'C', Ꭼ: 'E', Ꮋ: 'H', Ꮖ: 'I', Ꭻ: 'J', Ꮶ: 'K', Ꮇ: 'M', Ꮻ: 'O', Ꮲ: 'P', Ꮪ: 'S', Ꭲ: 'T', Ꮃ: 'W', Ꮓ: 'Z',
};

/** Digits and symbols written for letters inside a word ("imm1gration", "dep0rt", "$ecurity"). */
const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '|': 'l' };

/** NFKC, format characters and accents removed, confusable letters folded to Latin; case kept. */
export function foldConfusables(text: string): string {
  const nfkc = text.normalize('NFKC').replace(/\p{Cf}/gu, '');
  const bare = nfkc.normalize('NFD').replace(/\p{M}/gu, '').normalize('NFC');
  let out = '';
  for (const c of bare) out += CONFUSABLE_LETTERS[c] ?? c;
  return out;
}

export interface FoldedWords {
  /** Lower-case words; runs of single letters joined ("I.C.E." → "ice", "U.S." → "us"). */
  words: string[];
  /** The words written in capitals (after folding), lower-cased: "ICE" but not "ice". */
  capitalised: Set<string>;
  /** Every letter and digit run together, lower case: catches "Immi gration" and "Border-Patrol". */
  compact: string;
}

function wordsOf(folded: string): { words: string[]; capitalised: Set<string> } {
  const raw = folded.replace(/&/g, ' and ').split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  const words: string[] = [];
  const capitalised = new Set<string>();
  for (let i = 0; i < raw.length; ) {
    let j = i;
    while (j < raw.length && /^[A-Za-z]$/.test(raw[j]!)) j++;
    const run = j - i >= 2 ? [raw.slice(i, j).join('')] : [raw[i]!];
    for (const w of run) {
      words.push(w.toLowerCase());
      if (/[A-Z]/.test(w) && !/[a-z]/.test(w)) capitalised.add(w.toLowerCase());
    }
    i = j - i >= 2 ? j : i + 1;
  }
  return { words, capitalised };
}

/**
 * The words of a text as a check should see them, in two readings: as written (after folding), and
 * with digits and symbols inside words read as the letters they stand for. A check matches either.
 */
export function foldedReadings(text: string): FoldedWords[] {
  const folded = foldConfusables(text);
  const leet = folded.replace(/[0-9@$|]/g, (c, at: number) => {
    const next = [folded[at - 1] ?? '', folded[at + 1] ?? ''].find((n) => /[A-Za-z]/.test(n));
    if (next === undefined || LEET[c] === undefined) return c;
    return /[A-Z]/.test(next) ? LEET[c]!.toUpperCase() : LEET[c]!;
  });
  return [folded, ...(leet !== folded ? [leet] : [])].map((f) => {
    const { words, capitalised } = wordsOf(f);
    return { words, capitalised, compact: words.join('') };
  });
}
