// What plate text looks like, independent of any model: a read that does not look like a plate
// (a slogan, a dealer frame, a sign the detector took for a plate) is never reported.

/** Uppercases and removes spaces, dashes and dots that plates print between groups. */
export function normalisePlateText(text: string): string {
  return text.toUpperCase().replace(/[^0-9A-Z]/g, '');
}

/**
 * A plausible US/EU/BR plate: 2–8 characters of A–Z/0–9 with at least one digit. Vanity plates
 * without digits exist, but a digit-free read is far more often a slogan or sign, so they are not reported.
 */
export function isPlausiblePlate(text: string): boolean {
  return /^[0-9A-Z]{2,8}$/.test(text) && /[0-9]/.test(text);
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
