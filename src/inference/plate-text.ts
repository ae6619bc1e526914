// What plate text looks like, independent of any model: a read that does not look like a plate
// (a slogan, a dealer frame, a sign the detector took for a plate) is never reported.

/** Uppercases and removes spaces, dashes and dots that plates print between groups. */
export function normalisePlateText(text: string): string {
  return text.toUpperCase().replace(/[^0-9A-Z]/g, '');
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

export function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
