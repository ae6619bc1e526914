import { foldedReadings, type FoldedWords } from './text-fold.js';

// P14, California Values Act (Gov. Code §7284.6): no ALPR data for immigration enforcement. The
// federal agencies and offices that do it, with their names, aliases and abbreviations, and the
// words of an immigration-enforcement purpose. Maintained here and nowhere else: add an office when
// it appears (a reorganisation, a new task force name), and say where it came from. A request whose
// agency, requester or purpose matches is refused; text is folded first (src/access/text-fold.ts),
// so look-alike letters, accents, full-width forms, zero-width characters and "I.C.E." still match.
export const IMMIGRATION_LIST_REVIEWED = '2026-12-06';

export interface ImmigrationAgency {
  /** The agency or office, as it names itself. */
  name: string;
  /** Where it sits: the component and department (for the refusal and the audit). */
  partOf?: string;
  /** Other names it goes by; matched as phrases, ignoring case, spacing and punctuation. */
  aliases: readonly string[];
  /** Abbreviations; matched as whole words. */
  abbreviations: readonly string[];
}

/**
 * Sources: dhs.gov/operational-and-support-components, ice.gov/about-ice (ERO, HSI, OPLA, LESC, SEVP),
 * cbp.gov/about (USBP, AMO, NTC, BORTAC, BORSTAR), uscis.gov (FDNS), justice.gov/eoir; INS is the
 * pre-2003 name of the functions now in ICE, CBP and USCIS.
 */
export const FEDERAL_IMMIGRATION_AGENCIES: readonly ImmigrationAgency[] = [
  { name: 'U.S. Immigration and Customs Enforcement', partOf: 'DHS', aliases: ['immigration and customs enforcement', 'immigration customs enforcement', 'ice air'], abbreviations: ['ice', 'usice'] },
  { name: 'Enforcement and Removal Operations', partOf: 'ICE, DHS', aliases: ['enforcement and removal operations', 'enforcement removal operations', 'national fugitive operations program', 'fugitive operations team'], abbreviations: ['ero'] },
  { name: 'Homeland Security Investigations', partOf: 'ICE, DHS', aliases: ['homeland security investigations'], abbreviations: ['hsi'] },
  { name: 'Office of the Principal Legal Advisor', partOf: 'ICE, DHS', aliases: ['office of the principal legal advisor', 'principal legal advisor'], abbreviations: ['opla'] },
  { name: 'Law Enforcement Support Center', partOf: 'ICE, DHS', aliases: ['law enforcement support center'], abbreviations: ['lesc'] },
  { name: 'Student and Exchange Visitor Program', partOf: 'ICE, DHS', aliases: ['student and exchange visitor program'], abbreviations: ['sevp'] },
  { name: 'U.S. Customs and Border Protection', partOf: 'DHS', aliases: ['customs and border protection', 'customs border protection', 'national targeting center', 'air and marine operations'], abbreviations: ['cbp', 'uscbp'] },
  { name: 'U.S. Border Patrol', partOf: 'CBP, DHS', aliases: ['border patrol', 'border patrol tactical unit', 'border patrol search trauma and rescue'], abbreviations: ['usbp', 'bortac', 'borstar'] },
  { name: 'U.S. Citizenship and Immigration Services', partOf: 'DHS', aliases: ['citizenship and immigration services', 'fraud detection and national security'], abbreviations: ['uscis', 'fdns'] },
  { name: 'Executive Office for Immigration Review', partOf: 'Department of Justice', aliases: ['executive office for immigration review', 'immigration court'], abbreviations: ['eoir'] },
  { name: 'Immigration and Naturalization Service (former)', aliases: ['immigration and naturalization service', 'immigration naturalization service'], abbreviations: [] },
  // Last, so that a request naming one of its components is refused naming the component.
  { name: 'Department of Homeland Security', aliases: ['department of homeland security', 'dept of homeland security', 'homeland security', 'office of biometric identity management'], abbreviations: ['dhs', 'usdhs', 'obim'] },
];

/** Abbreviations that are also English words: in a purpose they count only when written in capitals ("ICE", not "ice"). */
const ENGLISH_WORDS = new Set(['ice']);

/**
 * Words of an immigration-enforcement purpose (or of an agency's name for it). A phrase matches its
 * words in order; its last word may be the start of a longer one ("immigra" → "immigration",
 * "deport" → "deportation"); `=` at the end asks for the whole word.
 */
export const IMMIGRATION_PURPOSE_TERMS: readonly string[] = [
  'immigra', 'imigra', 'inmigra', 'migratori', 'migra=', 'deport', 'undocumented', 'inadmissib',
  'removal proceeding', 'removal order', 'order of removal', 'expedited removal', 'removable alien', 'removable noncitizen',
  'illegal alien', 'criminal alien', 'alien registration', 'illegal entry', 'illegal reentry', 'improper entry', 'unlawful entry',
  'unlawful presence', 'unlawfully present', 'illegally present', 'visa overstay', 'overstayed visa',
  'citizenship status', 'border patrol', 'customs and border', 'ice detainer', 'i 247', 'i247', 'i 200', 'i200', 'i 205', 'i205', '287 g', '287g', '8 u s c', '8 usc',
];

/** What matched: the agency (or "purpose") and the words that matched, for the refusal and the audit. */
export interface ImmigrationMatch {
  agency?: string;
  matched: string;
}

function phraseWords(phrase: string): { words: string[]; whole: boolean } {
  const whole = phrase.endsWith('=');
  return { words: (whole ? phrase.slice(0, -1) : phrase).split(' '), whole };
}

/** The phrase's words in order in `w`; the last may be a prefix unless `whole`. */
function hasPhrase(w: FoldedWords, phrase: string): boolean {
  const { words, whole } = phraseWords(phrase);
  for (let i = 0; i + words.length <= w.words.length; i++) {
    let ok = true;
    for (let k = 0; k < words.length && ok; k++) {
      const t = w.words[i + k]!;
      ok = k === words.length - 1 && !whole ? t.startsWith(words[k]!) : t === words[k];
    }
    if (ok) return true;
  }
  // Broken up ("Immi gration", "Border-Patrol", "Cus toms and Bor der"): long phrases also match run together.
  const compact = words.join('');
  return compact.length >= 10 && w.compact.includes(compact);
}

/**
 * Does this text (an agency name, a requester, a purpose) point to federal immigration enforcement?
 * `purpose` text counts an abbreviation that is also an English word only in capitals.
 */
export function matchImmigration(text: string, kind: 'agency' | 'purpose'): ImmigrationMatch | undefined {
  for (const reading of foldedReadings(text)) {
    for (const a of FEDERAL_IMMIGRATION_AGENCIES) {
      for (const abbr of a.abbreviations) {
        if (!reading.words.includes(abbr)) continue;
        if (kind === 'purpose' && ENGLISH_WORDS.has(abbr) && !reading.capitalised.has(abbr)) continue;
        return { agency: a.name, matched: abbr.toUpperCase() };
      }
      const alias = a.aliases.find((p) => hasPhrase(reading, p));
      if (alias) return { agency: a.name, matched: alias };
    }
    const term = IMMIGRATION_PURPOSE_TERMS.find((p) => hasPhrase(reading, p));
    if (term) return { matched: phraseWords(term).words.join(' ') };
  }
  return undefined;
}
