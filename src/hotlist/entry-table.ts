import { foldLookAlikes } from '../plate/look-alike.js';
import { LIST_TYPES, type HotListEntry, type ListType, type LocalApprovalFields } from './list.js';

// A hot list's entries in columns of typed arrays instead of one object per entry: a 1M-entry
// NCIC list then costs tens of MB and no garbage-collector work, and an entry object is made only
// for a hit (issue 8: 1M entries in ≤ 100 MB). Plates are A–Z/0–9 plus the wildcards, at most 10
// characters, so each fits a double exactly (39^10 < 2^53) and compares as a number.

const PLATE_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ?*';
/** Byte (ASCII) → plate digit 1–38, or -1 when the byte is not a plate character. */
export const PLATE_DIGIT = new Int8Array(256).fill(-1);
for (let i = 0; i < PLATE_ALPHABET.length; i++) PLATE_DIGIT[PLATE_ALPHABET.charCodeAt(i)] = i + 1;
/** Byte → the plate digit of its look-alike representative (-1 when not a plate character). */
export const FOLDED_DIGIT = new Int8Array(256).fill(-1);
for (let i = 0; i < PLATE_ALPHABET.length; i++) FOLDED_DIGIT[PLATE_ALPHABET.charCodeAt(i)] = PLATE_DIGIT[foldLookAlikes(PLATE_ALPHABET[i]!).charCodeAt(0)]!;
export const PLATE_BASE = PLATE_ALPHABET.length + 1;
export const MAX_PLATE_CHARS = 10;

/** A plate (A–Z, 0–9, `?`, `*`; ≤ 10 characters) as a unique number; -1 when it is not one. */
export function plateCode(text: string): number {
  if (text.length === 0 || text.length > MAX_PLATE_CHARS) return -1;
  let code = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const d = c < 256 ? PLATE_DIGIT[c]! : -1;
    if (d < 0) return -1;
    code = code * PLATE_BASE + d;
  }
  return code;
}

export function plateFromCode(code: number): string {
  let out = '';
  while (code > 0) {
    const d = code % PLATE_BASE;
    out = PLATE_ALPHABET[d - 1]! + out;
    code = (code - d) / PLATE_BASE;
  }
  return out;
}

const FLAG_PARTIAL = 1;
const FLAG_FUZZY = 2;
const NO_TEXT = 0xffffffff;

/** Strings many entries share (reasons, vehicles): stored once, referenced by number. */
class InternTable {
  readonly values: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly bytesOf: Buffer[] = [];
  private readonly byHash = new Map<number, number[]>();

  /** The id of the UTF-8 text in from[start, end), without making a string unless it is new. */
  idBytes(from: Buffer, start: number, end: number): number {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ from[i]!, 0x01000193);
    const bucket = this.byHash.get(h);
    if (bucket) {
      for (const id of bucket) {
        const v = this.bytesOf[id]!;
        if (v.length !== end - start) continue;
        let same = true;
        for (let i = 0; i < v.length && same; i++) same = v[i] === from[start + i];
        if (same) return id;
      }
    }
    const id = this.id(from.toString('utf8', start, end));
    if (bucket) bucket.push(id);
    else this.byHash.set(h, [id]);
    return id;
  }

  id(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.values.length;
      // A fresh copy: a slice of a list body's text would keep the whole body alive.
      const copy = Buffer.from(value, 'utf8').toString('utf8');
      this.values.push(copy);
      this.bytesOf.push(Buffer.from(copy, 'utf8'));
      this.ids.set(copy, id);
    }
    return id;
  }
}

/** Strings every entry has its own of (record numbers): UTF-8 bytes end to end, with offsets. */
class PackedStrings {
  private bytes: Buffer;
  private readonly ends: Uint32Array;
  private used = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.alloc(Math.max(64, capacity * 12));
    this.ends = new Uint32Array(capacity);
  }

  set(i: number, value: string): void {
    const need = this.used + value.length * 3;
    if (need > this.bytes.length) {
      const next = Buffer.alloc(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(next, 0, 0, this.used);
      this.bytes = next;
    }
    this.used += this.bytes.write(value, this.used, 'utf8');
    this.ends[i] = this.used;
  }

  /** Copies bytes straight from a list body: no string made. */
  setBytes(i: number, from: Buffer, start: number, end: number): void {
    const need = this.used + (end - start);
    if (need > this.bytes.length) {
      const next = Buffer.alloc(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(next, 0, 0, this.used);
      this.bytes = next;
    }
    // Record numbers are a few bytes: a loop beats a native call per entry.
    const to = this.bytes;
    let u = this.used;
    for (let k = start; k < end; k++) to[u++] = from[k]!;
    this.used = u;
    this.ends[i] = u;
  }

  get(i: number): string {
    return this.bytes.toString('utf8', i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!);
  }

  /** Drops the spare capacity once every entry is in. */
  trim(): void {
    this.bytes = Buffer.from(this.bytes.subarray(0, this.used));
  }
}

/** One entry's fields as the builder takes them (already validated by the caller). */
export interface EntryFields {
  /** plateCode() of the plate. */
  plate: number;
  /** plateCode() of its look-alike fold (src/plate/look-alike.ts foldLookAlikes). */
  folded: number;
  partial: boolean;
  /** stateCode() of the state. */
  state: number;
  type: ListType;
  /** A string, or the id of one already interned by `internBytes`. */
  reason: string | number;
  /** A string, or a byte range of a list body holding it (UTF-8, no escapes). */
  recordNumber: string | { from: Buffer; start: number; end: number };
  enteredAtMs: number;
  /** Infinity: never expires. */
  expiresAtMs: number;
  fuzzy: boolean;
  vehicle: string | number | undefined;
  local: LocalApprovalFields | undefined;
}

/** A list's entries, read-only once built. Iterable and indexable like an array of entries. */
export class HotListEntries implements Iterable<HotListEntry> {
  readonly length: number;
  private readonly plates: Float64Array;
  private readonly foldedPlates: Float64Array;
  private readonly states: Uint16Array;
  private readonly types: Uint8Array;
  private readonly flags: Uint8Array;
  private readonly enteredAt: Float64Array;
  private readonly expiresAt: Float64Array;
  private readonly reasons: Uint32Array;
  private readonly vehicles: Uint32Array;
  private readonly records: PackedStrings;
  private readonly texts: string[];
  private readonly locals: Map<number, LocalApprovalFields>;

  private constructor(b: HotListEntriesBuilder) {
    this.length = b.count;
    this.plates = b.plates;
    this.foldedPlates = b.foldedPlates;
    this.states = b.states;
    this.types = b.types;
    this.flags = b.flags;
    this.enteredAt = b.enteredAt;
    this.expiresAt = b.expiresAt;
    this.reasons = b.reasons;
    this.vehicles = b.vehicles;
    this.records = b.records;
    this.texts = b.texts.values;
    this.locals = b.locals;
  }

  /** @internal the builder's only way in. */
  static fromBuilder(b: HotListEntriesBuilder): HotListEntries {
    return new HotListEntries(b);
  }

  static from(entries: readonly HotListEntry[]): HotListEntries {
    const b = new HotListEntriesBuilder(entries.length);
    for (const e of entries) {
      b.add({
        plate: plateCode(e.plate),
        folded: plateCode(foldLookAlikes(e.plate)),
        partial: /[?*]/.test(e.plate),
        state: stateCode(e.state),
        type: e.type,
        reason: e.reason,
        recordNumber: e.recordNumber,
        enteredAtMs: Date.parse(e.enteredAt),
        expiresAtMs: e.expiresAt === null ? Infinity : Date.parse(e.expiresAt),
        fuzzy: e.fuzzy,
        vehicle: e.vehicle,
        local: e.local,
      });
    }
    return b.build();
  }

  plateCodeAt(i: number): number {
    return this.plates[i]!;
  }

  /** The code of the plate's look-alike fold: the matcher's index key. */
  foldedCodeAt(i: number): number {
    return this.foldedPlates[i]!;
  }

  plateAt(i: number): string {
    return plateFromCode(this.plates[i]!);
  }

  /** 0 when the entry's state is unknown. */
  stateCodeAt(i: number): number {
    return this.states[i]!;
  }

  expiresAtMs(i: number): number {
    return this.expiresAt[i]!;
  }

  isPartial(i: number): boolean {
    return (this.flags[i]! & FLAG_PARTIAL) !== 0;
  }

  isFuzzy(i: number): boolean {
    return (this.flags[i]! & FLAG_FUZZY) !== 0;
  }

  /** The entry as an object (made on demand: for a hit, an export, a test). */
  at(i: number): HotListEntry | undefined {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) return undefined;
    const expires = this.expiresAt[i]!;
    const entry: HotListEntry = {
      plate: this.plateAt(i),
      state: stateFromCode(this.states[i]!),
      type: LIST_TYPES[this.types[i]!]!,
      reason: this.texts[this.reasons[i]!]!,
      recordNumber: this.records.get(i),
      enteredAt: new Date(this.enteredAt[i]!).toISOString(),
      expiresAt: expires === Infinity ? null : new Date(expires).toISOString(),
      partial: this.isPartial(i),
      fuzzy: this.isFuzzy(i),
    };
    if (this.vehicles[i] !== NO_TEXT) entry.vehicle = this.texts[this.vehicles[i]!]!;
    const local = this.locals.get(i);
    if (local) entry.local = { ...local };
    return entry;
  }

  *[Symbol.iterator](): Iterator<HotListEntry> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  toJSON(): HotListEntry[] {
    return [...this];
  }
}

export function stateCode(state: string | null): number {
  if (state === null) return 0;
  return 1 + (state.charCodeAt(0) - 65) * 26 + (state.charCodeAt(1) - 65);
}

function stateFromCode(code: number): string | null {
  if (code === 0) return null;
  const c = code - 1;
  return String.fromCharCode(65 + Math.floor(c / 26), 65 + (c % 26));
}

/** Fills the columns entry by entry; the count is known up front (the list header says it). */
export class HotListEntriesBuilder {
  count = 0;
  readonly plates: Float64Array;
  readonly foldedPlates: Float64Array;
  readonly states: Uint16Array;
  readonly types: Uint8Array;
  readonly flags: Uint8Array;
  readonly enteredAt: Float64Array;
  readonly expiresAt: Float64Array;
  readonly reasons: Uint32Array;
  readonly vehicles: Uint32Array;
  readonly records: PackedStrings;
  readonly texts = new InternTable();
  readonly locals = new Map<number, LocalApprovalFields>();

  constructor(readonly capacity: number) {
    this.plates = new Float64Array(capacity);
    this.foldedPlates = new Float64Array(capacity);
    this.states = new Uint16Array(capacity);
    this.types = new Uint8Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.enteredAt = new Float64Array(capacity);
    this.expiresAt = new Float64Array(capacity);
    this.reasons = new Uint32Array(capacity);
    this.vehicles = new Uint32Array(capacity);
    this.records = new PackedStrings(capacity);
  }

  /** Interns text straight from a list body (no escapes in it); the id goes in `reason`/`vehicle`. */
  internBytes(from: Buffer, start: number, end: number): number {
    return this.texts.idBytes(from, start, end);
  }

  /** The caller has checked the fields (plate pattern, state, type, lengths, dates). */
  add(e: EntryFields): void {
    if (this.count >= this.capacity) throw new RangeError(`more than the ${this.capacity} entries announced`);
    if (e.plate <= 0) throw new RangeError('not a plate');
    const i = this.count++;
    this.plates[i] = e.plate;
    this.foldedPlates[i] = e.folded;
    this.states[i] = e.state;
    this.types[i] = LIST_TYPES.indexOf(e.type);
    this.flags[i] = (e.partial ? FLAG_PARTIAL : 0) | (e.fuzzy ? FLAG_FUZZY : 0);
    this.enteredAt[i] = e.enteredAtMs;
    this.expiresAt[i] = e.expiresAtMs;
    this.reasons[i] = typeof e.reason === 'number' ? e.reason : this.texts.id(e.reason);
    this.vehicles[i] = e.vehicle === undefined ? NO_TEXT : typeof e.vehicle === 'number' ? e.vehicle : this.texts.id(e.vehicle);
    if (typeof e.recordNumber === 'string') this.records.set(i, e.recordNumber);
    else this.records.setBytes(i, e.recordNumber.from, e.recordNumber.start, e.recordNumber.end);
    if (e.local) this.locals.set(i, e.local);
  }

  build(): HotListEntries {
    if (this.count !== this.capacity) throw new RangeError(`${this.count} entries, ${this.capacity} announced`);
    this.records.trim();
    return HotListEntries.fromBuilder(this);
  }
}
