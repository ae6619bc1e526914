import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSealedValue, openValue, sealValue, type Sealer, type SealedValue } from '../state/device-keys.js';
import { isPartialPlate, LIST_TYPES, type HotList, type HotListBody, type HotListEntry, type ListType } from './list.js';
import { HotListEntries } from './entry-table.js';
import { normaliseListedPlate } from '../plate/text.js';
import { parseListDate } from './format.js';
import { writeFileAtomic } from './repository.js';
import { AlprError, EX_DATAERR, type ExitCode } from '../errors.js';

export type Role = 'technician' | 'investigator' | 'administrator';

/**
 * Who may approve local entries: the access module's user store implements this (enabled accounts
 * only, with their role and whether their training is current, P8).
 */
export interface UserDirectory {
  findUser(name: string): Promise<{ name: string; role: Role; trainingValid: boolean } | undefined>;
}

/** A local entry refused; `field` names what to fix (P11). */
export class LocalEntryError extends AlprError {
  constructor(field: string, message: string, exitCode: ExitCode = EX_DATAERR) {
    super(`local hot-list entry refused: ${field} ${message}`, field, exitCode);
  }
}

/** One change to hot lists, for the access log (issue 8: every change goes to the access log). */
export interface HotListChange {
  at: string;
  action: 'list-installed' | 'list-refused' | 'list-retired' | 'local-added' | 'local-removed';
  actor: string;
  list: string;
  version?: number;
  detail: Record<string, unknown>;
}

/**
 * Where hot-list changes are recorded: the access module's hash-chained log implements it
 * (`AccessLogHotListChanges`), sealing a local entry's plate (P6, P16).
 */
export interface HotListChangeLog {
  append(change: HotListChange): void;
}

export interface LocalEntryInput {
  plate?: string;
  state?: string | null;
  type?: string;
  reason?: string;
  enteredBy?: string;
  caseNumber?: string;
  synopsis?: string;
  approvedBy?: string;
  expiresAt?: string;
  fuzzy?: boolean;
  vehicle?: string;
}

/**
 * Checks a local entry against P11 (member, case number, synopsis, administrator approval) and P12
 * (partial plates allowed, marked partial), and that it expires within `maxDays`. The member and the
 * approver are users of the directory (P6: named people, not free text); the caller signs both in.
 * `approval: 'pending'` checks a member's proposal before an administrator has seen it: everything
 * but the approver (the entry it returns is not to be installed; its `approvedBy` is empty).
 */
export async function validateLocalEntry(input: LocalEntryInput, users: UserDirectory, maxDays: number, nowMs = Date.now(), approval: 'required' | 'pending' = 'required'): Promise<HotListEntry> {
  const required = approval === 'required' ? (['plate', 'enteredBy', 'caseNumber', 'synopsis', 'approvedBy'] as const) : (['plate', 'enteredBy', 'caseNumber', 'synopsis'] as const);
  for (const f of required) if (!input[f] || !String(input[f]).trim()) throw new LocalEntryError(f, 'is required (P11)');
  const plate = normaliseListedPlate(input.plate!);
  if (!/^[A-Z0-9?*]{1,10}$/.test(plate) || /^[?*]+$/.test(plate)) throw new LocalEntryError('plate', 'must be 1–10 of A–Z, 0–9, ? (one character) and * (any run), with at least one known character');
  const state = input.state ? input.state.trim().toUpperCase() : null;
  if (state !== null && !/^[A-Z]{2}$/.test(state)) throw new LocalEntryError('state', 'must be a two-letter state code');
  const type = (input.type ?? 'BOLO').toUpperCase();
  if (!(LIST_TYPES as readonly string[]).includes(type)) throw new LocalEntryError('type', `must be one of ${LIST_TYPES.join(', ')}`);
  const synopsis = input.synopsis!.trim();
  if (synopsis.length > 500) throw new LocalEntryError('synopsis', 'must be at most 500 characters');
  const member = await users.findUser(input.enteredBy!.trim());
  if (!member) throw new LocalEntryError('enteredBy', `"${input.enteredBy}" is not a known member (a user of \`alpr-edge user\`)`);
  // P8: technicians manage the device but take no part in investigations.
  if (member.role === 'technician') throw new LocalEntryError('enteredBy', `"${member.name}" has role technician; an investigator or administrator enters local entries (P8)`);
  if (!member.trainingValid) throw new LocalEntryError('enteredBy', `"${member.name}"'s training has expired (P8); renew it before entering`);
  const approver = approval === 'required' ? await users.findUser(input.approvedBy!.trim()) : { name: '', role: 'administrator' as const, trainingValid: true };
  if (!approver) throw new LocalEntryError('approvedBy', `"${input.approvedBy}" is not a known member`);
  // P11: only an administrator approves local entries.
  if (approver.role !== 'administrator') throw new LocalEntryError('approvedBy', `"${approver.name}" has role ${approver.role}; an administrator must approve`);
  if (!approver.trainingValid) throw new LocalEntryError('approvedBy', `"${approver.name}"'s training has expired (P8); renew it before approving`);
  const latest = nowMs + maxDays * 86_400_000;
  let expiresAt = new Date(latest).toISOString();
  if (input.expiresAt) {
    try {
      expiresAt = parseListDate(input.expiresAt, 0, 'expiresAt');
    } catch {
      throw new LocalEntryError('expiresAt', 'must be a date (YYYY-MM-DD or ISO 8601)');
    }
    if (Date.parse(expiresAt) <= nowMs) throw new LocalEntryError('expiresAt', 'is in the past');
    if (Date.parse(expiresAt) > latest) throw new LocalEntryError('expiresAt', `is more than ${maxDays} days ahead (hotlists.localEntryMaxDays)`);
  }
  const entry: HotListEntry = {
    plate,
    state,
    type: type as ListType,
    reason: synopsis,
    recordNumber: input.caseNumber!.trim().slice(0, 64),
    enteredAt: new Date(nowMs).toISOString(),
    expiresAt,
    partial: isPartialPlate(plate),
    fuzzy: input.fuzzy ?? false,
    local: { enteredBy: member.name, caseNumber: input.caseNumber!.trim(), synopsis, approvedBy: approver.name },
  };
  if (input.vehicle) entry.vehicle = input.vehicle.slice(0, 200);
  return entry;
}

/** `local.json` cannot be read, is not a list, or does not open with the device keys; names the file. */
export class LocalEntriesFileError extends AlprError {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file} ${problem}`, file, EX_DATAERR);
  }
}

type LocalListBody = HotListBody & { signedBy: string };

/**
 * `local.json` as it lies on disk: the version in the clear, so a change is noticed without opening
 * the list, and the list (plates, case numbers, synopses) sealed with the device key, bound to that
 * version (P16).
 */
interface SealedLocalFile {
  version: number;
  list: SealedValue;
}

const localAad = (version: number) => `hotlist-local:v${version}`;

/**
 * The device's own list of local entries (`<stateDir>/hotlists/local.json`), replaced atomically and
 * sealed with the device keys, as reads are in the store (P16). A file written in the clear before
 * sealing is still read, and rewritten sealed the first time it is.
 */
export class LocalEntryStore {
  private readonly file: string;

  constructor(
    stateDir: string,
    private readonly keys: Sealer,
  ) {
    const dir = join(stateDir, 'hotlists');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = join(dir, 'local.json');
  }

  load(): HotList {
    const raw = this.read();
    return { ...raw, entries: HotListEntries.from(raw.entries) };
  }

  private parse(): SealedLocalFile | LocalListBody | undefined {
    if (!existsSync(this.file)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LocalEntriesFileError(this.file, code ? `cannot be read (${code})` : `is not JSON (${(err as Error).message})`);
    }
    if (typeof parsed !== 'object' || parsed === null || !Number.isSafeInteger((parsed as { version?: unknown }).version)) throw new LocalEntriesFileError(this.file, 'is not a local hot list (no version)');
    return parsed as SealedLocalFile | LocalListBody;
  }

  private read(): LocalListBody {
    const parsed = this.parse();
    if (!parsed) return { name: 'local', source: 'local entries', version: 0, issuedAt: new Date(0).toISOString(), entries: [], signedBy: 'local' };
    if ('list' in parsed && isSealedValue(parsed.list)) {
      try {
        return openValue(this.keys, parsed.list, localAad(parsed.version)) as LocalListBody;
      } catch (err) {
        throw new LocalEntriesFileError(this.file, `does not open with the device keys (${(err as Error).message}); restore the keys or the file`);
      }
    }
    // P16: a list written in the clear before sealing: sealed now, its version unchanged.
    const clear = parsed as LocalListBody;
    this.write(clear);
    return clear;
  }

  private write(list: LocalListBody): void {
    const file: SealedLocalFile = { version: list.version, list: sealValue(this.keys, list, localAad(list.version)) };
    writeFileAtomic(this.file, JSON.stringify(file));
  }

  add(entry: HotListEntry, nowMs = Date.now()): HotList {
    const list = this.read();
    const next = { ...list, version: list.version + 1, issuedAt: new Date(nowMs).toISOString(), entries: [...list.entries, entry] };
    this.write(next);
    return { ...next, entries: HotListEntries.from(next.entries) };
  }

  /** Removes entries for a plate (and case number, when given); returns how many went. */
  remove(plate: string, caseNumber: string | undefined, nowMs = Date.now()): number {
    const list = this.read();
    const p = normaliseListedPlate(plate);
    const keep = list.entries.filter((e) => !(e.plate === p && (caseNumber === undefined || e.recordNumber === caseNumber)));
    const removed = list.entries.length - keep.length;
    if (removed > 0) this.write({ ...list, version: list.version + 1, issuedAt: new Date(nowMs).toISOString(), entries: keep });
    return removed;
  }

  /** The version on disk, read without opening the list (the daemon checks it every checkIntervalS). */
  fingerprint(): string {
    return String(this.parse()?.version ?? 0);
  }
}
