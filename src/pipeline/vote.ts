import type { TextCandidate } from '../inference/reader.js';

export interface VoteInput {
  candidates: TextCandidate[];
  state?: string;
  stateConfidence?: number;
}

export interface VoteResult {
  text: string;
  /** Average support per frame for the winning text (0..1). */
  confidence: number;
  /** The winner's share of all votes cast (0..1). */
  agreement: number;
  candidates: TextCandidate[];
  state: string | null;
  stateConfidence: number | null;
}

/**
 * Each frame spreads one vote over its candidate texts by their confidences; the text with most
 * support across frames wins. Frames that misread a character still lend weight to the right text
 * through their second candidates, so one blurred frame cannot outvote a clear pass.
 */
export function voteOnTexts(frames: VoteInput[], maxCandidates: number, minStateShare = 0.6, minStateFrameShare = 0.3): VoteResult | undefined {
  const support = new Map<string, number>();
  for (const f of frames) {
    for (const c of f.candidates) support.set(c.text, (support.get(c.text) ?? 0) + c.confidence);
  }
  if (!support.size) return undefined;
  const ranked = [...support.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = ranked.reduce((s, [, v]) => s + v, 0);
  const [text, best] = ranked[0]!;
  const n = frames.length;
  const states = new Map<string, number>();
  const stateFrames = new Map<string, number>();
  let stateVotes = 0;
  for (const f of frames) {
    if (!f.state) continue;
    const w = f.stateConfidence ?? 0.5;
    states.set(f.state, (states.get(f.state) ?? 0) + w);
    stateFrames.set(f.state, (stateFrames.get(f.state) ?? 0) + 1);
    stateVotes += w;
  }
  const topState = [...states.entries()].sort((a, b) => b[1] - a[1])[0];
  const stateShare = topState ? topState[1] / stateVotes : 0;
  // P13: a state the head gives in only a few frames of a pass is a guess, however sure each frame
  // was: on the demo clip a yellow NY plate got NY in 2 and PA in 2 of 21 frames, all at >= 0.97.
  // So the winner must come from at least 2 frames (1 for a one-frame pass) and 30 % of the pass.
  const topFrames = topState ? stateFrames.get(topState[0])! : 0;
  const stateKnown = topState !== undefined && stateShare >= minStateShare && topFrames >= Math.min(2, n) && topFrames >= minStateFrameShare * n;
  return {
    text,
    confidence: Math.min(1, best / n),
    agreement: best / total,
    candidates: ranked.slice(0, maxCandidates).map(([t, v]) => ({ text: t, confidence: Math.min(1, v / n) })),
    state: stateKnown ? topState[0] : null,
    stateConfidence: stateKnown ? Math.min(1, (topState[1] / n) * stateShare) : null,
  };
}
