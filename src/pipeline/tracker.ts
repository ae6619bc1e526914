import { iou, type Box } from '../inference/image.js';
import type { PlateObservation } from '../inference/engine.js';
import { editDistance } from '../plate/edit-distance.js';
import { voteOnTexts, type VoteResult } from './vote.js';

export interface TrackerOptions {
  minFrames: number;
  minAgreement: number;
  trackTimeoutMs: number;
  maxCandidates: number;
  /** The same text from the same camera within this time is the same pass (a car stopped at a light). */
  repeatSuppressMs: number;
}

/** A plate's observation together with what it was seen in: the caller's frame (kept only for the best). */
export interface TrackedObservation<F> {
  obs: PlateObservation;
  atMs: number;
  frame: F;
}

export interface FinishedPass<F> {
  vote: VoteResult;
  best: TrackedObservation<F>;
  firstSeenMs: number;
  lastSeenMs: number;
  frames: number;
}

interface Track<F> {
  id: number;
  /** Frames seen; `votes` holds an evenly thinned sample of them once a pass grows long (a parked car). */
  frames: number;
  votes: { candidates: PlateObservation['candidates']; state?: string; stateConfidence?: number }[];
  lastBox: Box;
  velocity: [number, number];
  lastSeenMs: number;
  firstSeenMs: number;
  best: TrackedObservation<F>;
  topText: string;
  /** Running support per text (the vote so far), so a match is judged against the pass's text, not one frame's. */
  support: Map<string, number>;
  leader: string;
}

export interface TrackerCounters {
  passesEmitted: number;
  passesDiscarded: number;
  repeatsSuppressed: number;
}

/**
 * Groups one camera's plate observations over consecutive frames into vehicle passes: by box
 * overlap (after moving the last box by its velocity) and text similarity, so one pass gives one
 * read. Pure logic on timestamps; holds at most one frame per live track (the best one).
 */
export class PlateTracker<F> {
  private tracks: Track<F>[] = [];
  private nextId = 1;
  private recent = new Map<string, number>();
  readonly counters: TrackerCounters = { passesEmitted: 0, passesDiscarded: 0, repeatsSuppressed: 0 };

  constructor(private readonly opts: TrackerOptions) {}

  get activeTracks(): number {
    return this.tracks.length;
  }

  /** Frame votes held over all live passes (bounded by MAX_VOTES per pass). */
  get heldVotes(): number {
    return this.tracks.reduce((n, t) => n + t.votes.length, 0);
  }

  /** Adds one frame's plates; returns the passes that ended before this frame. */
  update(atMs: number, plates: PlateObservation[], frame: F): FinishedPass<F>[] {
    const finished = this.expire(atMs);
    const unmatched = new Set(this.tracks);
    const byConfidence = [...plates].sort((a, b) => b.confidence - a.confidence);
    for (const obs of byConfidence) {
      let bestTrack: Track<F> | undefined;
      let bestScore = 0;
      for (const t of unmatched) {
        const s = this.matchScore(t, obs, atMs);
        if (s > bestScore) {
          bestScore = s;
          bestTrack = t;
        }
      }
      if (bestTrack) {
        unmatched.delete(bestTrack);
        this.extend(bestTrack, obs, atMs, frame);
      } else {
        this.tracks.push(this.start(obs, atMs, frame));
      }
    }
    return finished;
  }

  /** Ends every track (end of a file, shutdown). */
  flush(): FinishedPass<F>[] {
    return this.expire(Number.POSITIVE_INFINITY);
  }

  private start(obs: PlateObservation, atMs: number, frame: F): Track<F> {
    const track: Track<F> = {
      id: this.nextId++,
      frames: 1,
      votes: [{ candidates: obs.candidates.length ? obs.candidates : [{ text: obs.text, confidence: obs.confidence }], state: obs.state, stateConfidence: obs.stateConfidence }],
      lastBox: obs.box,
      velocity: [0, 0],
      lastSeenMs: atMs,
      firstSeenMs: atMs,
      best: { obs, atMs, frame },
      topText: obs.text,
      support: new Map(),
      leader: obs.text,
    };
    addSupport(track, obs);
    return track;
  }

  private extend(t: Track<F>, obs: PlateObservation, atMs: number, frame: F): void {
    const dt = Math.max(1, atMs - t.lastSeenMs);
    const [cx0, cy0] = centre(t.lastBox);
    const [cx1, cy1] = centre(obs.box);
    // Smoothed so one jittery box doesn't throw the prediction off.
    t.velocity = [0.5 * t.velocity[0] + 0.5 * ((cx1 - cx0) / dt), 0.5 * t.velocity[1] + 0.5 * ((cy1 - cy0) / dt)];
    t.lastBox = obs.box;
    t.lastSeenMs = atMs;
    t.topText = obs.text;
    addSupport(t, obs);
    t.frames++;
    // Every 2^k-th frame once the pass is long: the sample keeps the texts' and states' shares, and
    // a car parked in view for hours holds MAX_VOTES entries, not one per frame.
    const stride = voteStride(t.frames);
    if ((t.frames - 1) % stride === 0) {
      t.votes.push({ candidates: obs.candidates.length ? obs.candidates : [{ text: obs.text, confidence: obs.confidence }], state: obs.state, stateConfidence: obs.stateConfidence });
      if (t.votes.length > MAX_VOTES) t.votes = t.votes.filter((_, i) => i % 2 === 0);
    }
    if (evidenceScore(obs) > evidenceScore(t.best.obs)) t.best = { obs, atMs, frame };
  }

  private matchScore(t: Track<F>, obs: PlateObservation, atMs: number): number {
    const dt = atMs - t.lastSeenMs;
    const predicted: Box = [t.lastBox[0] + t.velocity[0] * dt, t.lastBox[1] + t.velocity[1] * dt, t.lastBox[2], t.lastBox[3]];
    const overlap = Math.max(iou(predicted, obs.box), iou(t.lastBox, obs.box));
    const [px, py] = centre(predicted);
    const [ox, oy] = centre(obs.box);
    const size = Math.max(t.lastBox[2], obs.box[2]);
    const near = Math.hypot(px - ox, py - oy) < 1.5 * size;
    const similarity = Math.max(textSimilarity(t.topText, obs.text), textSimilarity(t.leader, obs.text));
    // Another plate in the same place: the next car at a stop line, or a cut in the video. A sure
    // read that shares little with what the pass has read so far starts a pass of its own; an
    // unsure misread of the same plate stays with its pass.
    if (similarity < MIN_SAME_PLATE_SIMILARITY && obs.confidence >= SURE_READ) return 0;
    if (overlap >= 0.3) return 1 + overlap + similarity;
    if ((overlap > 0.02 || near) && similarity >= 0.5) return overlap + similarity;
    return 0;
  }

  private expire(nowMs: number): FinishedPass<F>[] {
    const done: FinishedPass<F>[] = [];
    this.tracks = this.tracks.filter((t) => {
      if (nowMs - t.lastSeenMs < this.opts.trackTimeoutMs) return true;
      const pass = this.finish(t);
      if (pass) done.push(pass);
      return false;
    });
    for (const [text, at] of this.recent) if (nowMs !== Number.POSITIVE_INFINITY && nowMs - at > this.opts.repeatSuppressMs) this.recent.delete(text);
    return done;
  }

  private finish(t: Track<F>): FinishedPass<F> | undefined {
    const vote = voteOnTexts(t.votes, this.opts.maxCandidates);
    if (!vote || t.frames < this.opts.minFrames || vote.agreement < this.opts.minAgreement) {
      this.counters.passesDiscarded++;
      return undefined;
    }
    const last = this.recent.get(vote.text);
    this.recent.set(vote.text, t.lastSeenMs);
    if (last !== undefined && t.firstSeenMs - last < this.opts.repeatSuppressMs) {
      this.counters.repeatsSuppressed++;
      return undefined;
    }
    this.counters.passesEmitted++;
    return { vote, best: t.best, firstSeenMs: t.firstSeenMs, lastSeenMs: t.lastSeenMs, frames: t.frames };
  }
}

/** Below this text similarity (1 - edit distance / length) two sure reads are different plates: 7 characters with 4 or more changed. */
const MIN_SAME_PLATE_SIMILARITY = 0.45;
/** A read this sure is trusted to tell plates apart. */
const SURE_READ = 0.6;
/** Votes kept per pass: 512 frames is 34 s at 15 fps, far more than a moving vehicle gives. */
export const MAX_VOTES = 512;

/** Which frames of a pass are sampled once it has outgrown MAX_VOTES: every stride-th (a power of two). */
function voteStride(frames: number): number {
  let stride = 1;
  while ((frames - 1) / stride >= MAX_VOTES) stride *= 2;
  return stride;
}

function addSupport<F>(t: Track<F>, obs: PlateObservation): void {
  const candidates = obs.candidates.length ? obs.candidates : [{ text: obs.text, confidence: obs.confidence }];
  for (const c of candidates) t.support.set(c.text, (t.support.get(c.text) ?? 0) + c.confidence);
  // A car parked in view for hours must not grow the map: keep the texts with most support.
  if (t.support.size > 64) t.support = new Map([...t.support].sort((a, b) => b[1] - a[1]).slice(0, 32));
  let best = -1;
  for (const [text, v] of t.support) {
    if (v > best) {
      best = v;
      t.leader = text;
    }
  }
}

function evidenceScore(o: PlateObservation): number {
  // A sharp read of a larger plate is better evidence for an officer to verify (P13).
  return o.confidence * Math.sqrt(o.box[2]);
}

function centre(b: Box): [number, number] {
  return [b[0] + b[2] / 2, b[1] + b[3] / 2];
}

export function textSimilarity(a: string, b: string): number {
  const n = Math.max(a.length, b.length);
  return n === 0 ? 1 : 1 - editDistance(a, b) / n;
}
