// What plate text looks like, independent of any model: used to tell plates from other text a
// general-purpose text model finds (state banners, slogans, dealer frames).

export const PLATE_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Uppercases and removes spaces, dashes and dots that plates print between groups. */
export function normalisePlateText(text: string): string {
  return text.toUpperCase().replace(/[^0-9A-Z]/g, '');
}

/**
 * A plausible US/EU/BR plate: 2–8 characters of A–Z/0–9 with at least one digit. Vanity plates
 * without digits exist; the interim reader cannot tell them from slogans, so they are not read yet.
 */
export function isPlausiblePlate(text: string): boolean {
  return /^[0-9A-Z]{2,8}$/.test(text) && /[0-9]/.test(text);
}

export const US_STATES: Record<string, string> = {
  AL: 'ALABAMA', AK: 'ALASKA', AZ: 'ARIZONA', AR: 'ARKANSAS', CA: 'CALIFORNIA', CO: 'COLORADO',
  CT: 'CONNECTICUT', DE: 'DELAWARE', DC: 'DISTRICTOFCOLUMBIA', FL: 'FLORIDA', GA: 'GEORGIA', HI: 'HAWAII',
  ID: 'IDAHO', IL: 'ILLINOIS', IN: 'INDIANA', IA: 'IOWA', KS: 'KANSAS', KY: 'KENTUCKY', LA: 'LOUISIANA',
  ME: 'MAINE', MD: 'MARYLAND', MA: 'MASSACHUSETTS', MI: 'MICHIGAN', MN: 'MINNESOTA', MS: 'MISSISSIPPI',
  MO: 'MISSOURI', MT: 'MONTANA', NE: 'NEBRASKA', NV: 'NEVADA', NH: 'NEWHAMPSHIRE', NJ: 'NEWJERSEY',
  NM: 'NEWMEXICO', NY: 'NEWYORK', NC: 'NORTHCAROLINA', ND: 'NORTHDAKOTA', OH: 'OHIO', OK: 'OKLAHOMA',
  OR: 'OREGON', PA: 'PENNSYLVANIA', RI: 'RHODEISLAND', SC: 'SOUTHCAROLINA', SD: 'SOUTHDAKOTA',
  TN: 'TENNESSEE', TX: 'TEXAS', UT: 'UTAH', VT: 'VERMONT', VA: 'VIRGINIA', WA: 'WASHINGTON',
  WV: 'WESTVIRGINIA', WI: 'WISCONSIN', WY: 'WYOMING',
};

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

/**
 * Maps banner text ("California", "TEXAS", "New York") to a state code. Longer names tolerate one
 * misread letter per five; short ones must match exactly. Returns undefined when unsure (P13: a
 * wrong state misleads; no state is better).
 */
export function stateFromBanner(text: string): { state: string; confidence: number } | undefined {
  const t = text.toUpperCase().replace(/[^A-Z]/g, '');
  if (t.length < 4) return undefined;
  let best: { state: string; d: number } | undefined;
  for (const [code, name] of Object.entries(US_STATES)) {
    const d = t.includes(name) ? 0 : editDistance(t, name);
    if (!best || d < best.d) best = { state: code, d };
  }
  if (!best) return undefined;
  const name = US_STATES[best.state]!;
  const allowed = name.length >= 6 ? Math.floor(name.length / 5) : 0;
  if (best.d > allowed) return undefined;
  return { state: best.state, confidence: 1 - best.d / US_STATES[best.state]!.length };
}
