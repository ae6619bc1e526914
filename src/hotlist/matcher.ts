import type { HotList, HotListEntry } from './list.js';
import { plateCode, plateFromCode, stateCode, type HotListEntries } from './entry-table.js';
import { withinOneEdit } from '../plate/edit-distance.js';
import { foldLookAlikes } from '../plate/look-alike.js';


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

function deletions(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.slice(0, i) + s.slice(i + 1));
  return out;
}

/** A one-character deletion's key: a one-character plate leaves the empty string (code 0). */
function deletionKey(s: string): number {
  return s === '' ? 0 : plateCode(s);
}

/**
 * Plate codes → entry numbers: an open-addressing hash table of entry numbers in one Uint32Array
 * (load ≤ ½, linear probing). It stores no keys: whoever looks up checks each entry it yields
 * against the key (the matcher's checks are the real test anyway), so a 1M-entry list costs 8 MB.
 */
class CodeTable {
  private readonly slots: Uint32Array;
  private readonly mask: number;
  size = 0;

  constructor(capacity: number) {
    let n = 16;
    while (n < capacity * 2) n *= 2;
    this.slots = new Uint32Array(n);
    this.mask = n - 1;
  }

  add(key: number, idx: number): void {
    let s = hashCode(key) & this.mask;
    while (this.slots[s] !== 0) s = (s + 1) & this.mask;
    this.slots[s] = idx + 1;
    this.size++;
  }

  /** Every entry stored under `key`, and possibly others sharing its probe run. */
  *candidates(key: number): Generator<number> {
    for (let s = hashCode(key) & this.mask; this.slots[s] !== 0; s = (s + 1) & this.mask) yield this.slots[s]! - 1;
  }
}

/** Mixes a plate code (an integer < 2^53) into 32 bits (murmur3 finaliser over both halves). */
function hashCode(key: number): number {
  let h = (key >>> 0) ^ Math.imul(Math.floor(key / 4294967296), 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * One list's index. Full plates are keyed by the code of their look-alike fold, so one binary
 * search per text finds exact and look-alike matches (an exact match is one whose own plate code
 * equals the text's). Entries that allow one edit are also keyed by every one-character deletion
 * of their fold (symmetric delete), so edit distance 1 costs a few lookups, not a scan. Partial
 * entries are few and matched by anchored regular expressions. Typed arrays throughout: a 1M-entry
 * list indexes in a fraction of a second and a few tens of MB (docs/hotlists.md).
 */
class ListIndex {
  private readonly folded: CodeTable;
  private readonly fuzzy: CodeTable;
  /** Partial entries: the literal start before the first wildcard is a cheap test before the pattern. */
  private readonly partials: { idx: number; prefix: string; re: RegExp }[] = [];

  constructor(private readonly entries: HotListEntries) {
    let fuzzyKeys = 0;
    for (let i = 0; i < entries.length; i++) if (entries.isFuzzy(i) && !entries.isPartial(i)) fuzzyKeys += 1 + plateFromCode(entries.plateCodeAt(i)).length;
    this.folded = new CodeTable(entries.length);
    this.fuzzy = new CodeTable(fuzzyKeys);
    for (let i = 0; i < entries.length; i++) {
      if (entries.isPartial(i)) {
        const folded = foldLookAlikes(entries.plateAt(i));
        const pattern = [...folded].map((c) => (c === '?' ? '.' : c === '*' ? '.*' : c)).join('');
        this.partials.push({ idx: i, prefix: folded.slice(0, folded.search(/[?*]/)), re: new RegExp(`^${pattern}$`) });
        continue;
      }
      const f = entries.foldedCodeAt(i);
      this.folded.add(f, i);
      if (entries.isFuzzy(i)) {
        const fs = plateFromCode(f);
        this.fuzzy.add(f, i);
        for (const d of deletions(fs)) this.fuzzy.add(deletionKey(d), i);
      }
    }
  }

  match(read: MatchableRead, readState: number, nowMs: number, consider: (idx: number, kind: MatchKind, text: string) => void): void {
    const e = this.entries;
    const check = (idx: number, kind: MatchKind, text: string) => {
      if (e.expiresAtMs(idx) <= nowMs) return;
      // P13: a state on both sides must agree; an unknown state on either side does not veto.
      const s = e.stateCodeAt(idx);
      if (s !== 0 && readState !== 0 && s !== readState) return;
      consider(idx, kind, text);
    };
    const texts = [read.plate, ...read.candidates.map((c) => c.text).filter((t) => t !== read.plate)];
    texts.forEach((text, ti) => {
      const f = foldLookAlikes(text);
      const key = plateCode(f);
      if (key >= 0) {
        const own = plateCode(text);
        for (const idx of this.folded.candidates(key)) {
          if (e.foldedCodeAt(idx) === key) check(idx, ti > 0 ? 'candidate' : e.plateCodeAt(idx) === own ? 'exact' : 'look-alike', text);
        }
      }
      for (const p of this.partials) if (f.startsWith(p.prefix) && p.re.test(f)) check(p.idx, 'partial', text);
    });
    // One edit only against the read's own text: candidates are already one guess away from it.
    if (this.fuzzy.size > 0) {
      const f = foldLookAlikes(read.plate);
      for (const k of [f, ...deletions(f)]) {
        const key = deletionKey(k);
        if (key < 0) continue;
        // The edit check below is the real test; entries that merely share a probe run fail it.
        for (const idx of this.fuzzy.candidates(key)) {
          if (withinOneEdit(f, foldLookAlikes(e.plateAt(idx)))) check(idx, 'edit-distance-1', read.plate);
        }
      }
    }
  }
}

/** Indexes are built once per list version and shared by every matcher that holds it. */
const INDEXES = new WeakMap<HotListEntries, ListIndex>();

function indexOf(list: HotList): ListIndex {
  let index = INDEXES.get(list.entries);
  if (!index) {
    index = new ListIndex(list.entries);
    INDEXES.set(list.entries, index);
  }
  return index;
}

const ENTRY_BITS = 2 ** 22;

/** Matches reads against every loaded list. Immutable: a new list version builds a new matcher. */
export class HotListMatcher {
  private readonly indexes: ListIndex[];

  constructor(private readonly lists: HotList[]) {
    this.indexes = lists.map(indexOf);
  }

  match(read: MatchableRead, nowMs = Date.now()): PlateMatch[] {
    const readState = read.state === null ? 0 : /^[A-Z]{2}$/.test(read.state) ? stateCode(read.state) : -1;
    const found = new Map<number, { li: number; idx: number; kind: MatchKind; text: string }>();
    this.indexes.forEach((index, li) => {
      index.match(read, readState, nowMs, (idx, kind, text) => {
        const id = li * ENTRY_BITS + idx;
        const prev = found.get(id);
        if (!prev || KIND_RANK[kind] < KIND_RANK[prev.kind]) found.set(id, { li, idx, kind, text });
      });
    });
    return [...found.values()]
      .sort((a, b) => KIND_RANK[a.kind] - KIND_RANK[b.kind])
      .map(({ li, idx, kind, text }) => ({ list: this.lists[li]!, entry: this.lists[li]!.entries.at(idx)!, entryIndex: idx, kind, matchedText: text }));
  }
}
