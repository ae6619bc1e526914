// What plate text looks like, independent of any model: a read that does not look like a plate
// (a slogan, a dealer frame, a sign the detector took for a plate) is never reported.

/**
 * Plate text as the reader, the store and searches compare it: upper case, A–Z and 0–9 only (the
 * spaces, dashes and dots plates print between groups, and anything else, dropped).
 */
export function normalisePlateText(text: string): string {
  return text.toUpperCase().replace(/[^0-9A-Z]/g, '');
}

/**
 * A plate as a list (hot list, local entry) gives it: upper case without the separators plates print
 * between groups (spaces, dots, dashes, middle dots). Anything else stays, so the list's check can
 * refuse the line instead of silently reading another plate; wildcards (? *) stay for partial entries.
 */
export function normaliseListedPlate(raw: string): string {
  return raw.toUpperCase().replace(/[\s.\-·]/g, '');
}

/**
 * Words printed on plates and frames that a reader can take for the number: every state name short
 * enough to pass the length rule (one word, spaces dropped), the DMV's web address and common
 * frame and banner texts.
 */
const BANNER_WORDS = new Set([
  'ALABAMA', 'ALASKA', 'ARIZONA', 'ARKANSAS', 'COLORADO', 'DELAWARE', 'FLORIDA', 'GEORGIA', 'HAWAII', 'IDAHO', 'ILLINOIS', 'INDIANA',
  'IOWA', 'KANSAS', 'KENTUCKY', 'MAINE', 'MARYLAND', 'MICHIGAN', 'MISSOURI', 'MONTANA', 'NEBRASKA', 'NEVADA', 'NEWYORK', 'OHIO',
  'OKLAHOMA', 'OREGON', 'TEXAS', 'UTAH', 'VERMONT', 'VIRGINIA', 'WYOMING', 'NEWJERSEY', 'CALIF', 'USA', 'DMVCAGOV',
  'DEALER', 'FORD', 'TOYOTA', 'HONDA', 'NISSAN', 'CHEVROLET', 'MOTORS', 'AUTO',
]);

/** Reader confidence above which a digit-free text is taken as a vanity plate. */
export const VANITY_MIN_CONFIDENCE = 0.9;

/**
 * A plausible US/EU/BR plate: 2–8 characters of A–Z/0–9 with at least one digit. Vanity plates
 * without digits exist (5 of the 246 ucsd-ca plates; several states issue 8), but a digit-free read
 * is more often a slogan or sign: one is reported only when the reader is sure of it and it is not
 * a state name or frame word.
 */
export function isPlausiblePlate(text: string, confidence = 0): boolean {
  if (!/^[0-9A-Z]{2,8}$/.test(text)) return false;
  if (/[0-9]/.test(text)) return true;
  return confidence >= VANITY_MIN_CONFIDENCE && !BANNER_WORDS.has(text);
}
