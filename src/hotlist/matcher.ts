import type { HotList, HotListEntry } from './list.js';

/** How a read matched an entry; every hit says which (P13: the officer knows how strong it is). */
export type MatchKind = 'exact' | 'look-alike' | 'candidate' | 'edit-distance-1' | 'partial';

/** Best first: when a read matches one entry several ways, the hit reports the strongest. */
const KIND_RANK: Record<MatchKind, number> = { exact: 0, 'look-alike': 1, candidate: 2, 'edit-distance-1': 3, partial: 4 };

export interface PlateMatch {
  list: HotList;
  entry: HotListEntry;
  /** Position of the entry in its list (stable id of the entry within one list version). */
  entryIndex: number;
  kind: MatchKind;
  /** The text that matched: the read plate or one of its OCR candidates. */
  matchedText: string;
}

/** What the matcher needs of a read (a `Read` satisfies it). */
export interface MatchableRead {
  plate: string;
  state: string | null;
  candidates: { text: string }[];
}

// Characters OCR and people confuse on plates, folded onto one representative each.
const LOOK_ALIKE: Record<string, string> = { O: '0', Q: '0', D: '0', I: '1', L: '1', B: '8', S: '5', Z: '2', G: '6' };

/** Folds look-alike characters (0/O/Q/D, 1/I/L, 8/B, 5/S, 2/Z, 6/G); wildcards pass through. */
export function foldLookAlikes(text: string): string {
  let out = '';
  for (const c of text) out += LOOK_ALIKE[c] ?? c;
  return out;
}

/** True when a and b differ by at most one insertion, deletion or substitution. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) return a.slice(i + 1) === b.slice(i + 1);
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

function deletions(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.slice(0, i) + s.slice(i + 1));
  return out;
}

type Bucket = number | number[];

function addTo(map: Map<string, Bucket>, key: string, idx: number): void {
  const b = map.get(key);
  if (b === undefined) map.set(key, idx);
  else if (typeof b === 'number') {
    if (b !== idx) map.set(key, [b, idx]);
  } else if (b[b.length - 1] !== idx) b.push(idx);
}

function* bucketItems(b: Bucket | undefined): Generator<number> {
  if (b === undefined) return;
  if (typeof b === 'number') yield b;
  else yield* b;
}

/**
 * One list's index. Full plates are keyed by their look-alike fold, so one Map lookup per text
 * finds exact and look-alike matches (an exact match is a bucket entry whose plate equals the text).
 * Entries that allow one edit are also keyed by every one-character deletion of their fold
 * (symmetric-delete), so edit distance 1 costs a few lookups, not a scan. Partial entries are few
 * and matched by anchored regular expressions.
 */
class ListIndex {
  private readonly folded = new Map<string, Bucket>();
  private readonly fuzzy = new Map<string, Bucket>();
  private readonly partials: { idx: number; re: RegExp }[] = [];
  private readonly expiresAtMs: Float64Array;

  constructor(readonly list: HotList) {
    this.expiresAtMs = new Float64Array(list.entries.length);
    list.entries.forEach((e, i) => {
      this.expiresAtMs[i] = e.expiresAt ? Date.parse(e.expiresAt) : Infinity;
      const f = foldLookAlikes(e.plate);
      if (e.partial) {
        const pattern = [...f].map((c) => (c === '?' ? '.' : c === '*' ? '.*' : c)).join('');
        this.partials.push({ idx: i, re: new RegExp(`^${pattern}$`) });
        return;
      }
      addTo(this.folded, f, i);
      if (e.fuzzy) {
        addTo(this.fuzzy, f, i);
        for (const d of deletions(f)) addTo(this.fuzzy, d, i);
      }
    });
  }

  match(read: MatchableRead, nowMs: number, found: Map<HotListEntry, PlateMatch>): void {
    const texts = [read.plate, ...read.candidates.map((c) => c.text).filter((t) => t !== read.plate)];
    const consider = (idx: number, kind: MatchKind, text: string) => {
      const entry = this.list.entries[idx]!;
      if (this.expiresAtMs[idx]! <= nowMs) return;
      // P13: a state on both sides must agree; an unknown state on either side does not veto.
      if (entry.state !== null && read.state !== null && entry.state !== read.state) return;
      const prev = found.get(entry);
      if (!prev || KIND_RANK[kind] < KIND_RANK[prev.kind]) found.set(entry, { list: this.list, entry, entryIndex: idx, kind, matchedText: text });
    };
    texts.forEach((text, ti) => {
      const f = foldLookAlikes(text);
      for (const idx of bucketItems(this.folded.get(f))) {
        const exact = this.list.entries[idx]!.plate === text;
        consider(idx, ti > 0 ? 'candidate' : exact ? 'exact' : 'look-alike', text);
      }
      for (const p of this.partials) if (p.re.test(f)) consider(p.idx, 'partial', text);
    });
    // One edit only against the read's own text: candidates are already one guess away from it.
    if (this.fuzzy.size > 0) {
      const f = foldLookAlikes(read.plate);
      for (const key of [f, ...deletions(f)]) {
        for (const idx of bucketItems(this.fuzzy.get(key))) {
          if (withinOneEdit(f, foldLookAlikes(this.list.entries[idx]!.plate))) consider(idx, 'edit-distance-1', read.plate);
        }
      }
    }
  }
}

/** Matches reads against every loaded list. Immutable: a new list version builds a new matcher. */
export class HotListMatcher {
  private readonly indexes: ListIndex[];

  constructor(lists: HotList[]) {
    this.indexes = lists.map((l) => new ListIndex(l));
  }

  match(read: MatchableRead, nowMs = Date.now()): PlateMatch[] {
    const found = new Map<HotListEntry, PlateMatch>();
    for (const index of this.indexes) index.match(read, nowMs, found);
    return [...found.values()].sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind]);
  }
}
