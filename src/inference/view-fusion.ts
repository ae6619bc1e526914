import type { PlateTextResult, TextCandidate } from './reader.js';

/**
 * The text of one plate read from several framings of its box (tighter and looser margins): the text whose
 * candidate probabilities summed over the framings are highest wins. A detector box can be the
 * number band or the whole plate, and no single margin reads both well; measured end to end on
 * ucsd-ca val (npm run eval, INT8): one margin chosen by aspect 80 % top-1, best-confidence of two
 * margins 88 %, this sum over four 88–90 % (see docs/models.md).
 */
export function fuseViews(views: PlateTextResult[], topN = 10): PlateTextResult {
  if (views.length === 1) return views[0]!;
  const score = new Map<string, number>();
  for (const v of views) {
    const seen = new Set<string>();
    for (const c of v.candidates) {
      if (seen.has(c.text)) continue;
      seen.add(c.text);
      score.set(c.text, (score.get(c.text) ?? 0) + c.confidence);
    }
  }
  const ranked = [...score.entries()].sort((a, b) => b[1] - a[1]);
  const winner = ranked[0]?.[0];
  const byConfidence = views.slice().sort((a, b) => b.confidence - a.confidence);
  // The framing that read the winning text best carries the per-character confidences. When no
  // framing's best text is the winner, it is still the winner (the rule), with its best probability
  // in any framing as confidence.
  const chosen = byConfidence.find((v) => v.text === winner);
  const candidates: TextCandidate[] = ranked.slice(0, topN).map(([text, s]) => ({ text, confidence: s / views.length }));
  if (!chosen) {
    const confidence = Math.max(...views.map((v) => v.candidates.find((c) => c.text === winner)?.confidence ?? 0));
    return { text: winner ?? '', confidence, charConfidences: [...(winner ?? '')].map(() => confidence), candidates };
  }
  return { text: chosen.text, confidence: chosen.confidence, charConfidences: chosen.charConfidences, candidates };
}
