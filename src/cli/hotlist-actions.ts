import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { parseHotListCsv, parseNcicExtract, HotListFormatError } from '../hotlist/format.js';
import { generatePublisherKeys, HotListRejectedError, signHotList } from '../hotlist/signed-list.js';
import { HotListRepository } from '../hotlist/repository.js';
import { loadPublisherKeys } from '../hotlist/extension.js';
import { LocalEntryError, LocalEntryStore, validateLocalEntry, type HotListChange, type HotListChangeLog, type LocalEntryInput } from '../hotlist/local-entries.js';
import { ShellChangeQueue } from '../hotlist/shell-changes.js';
import type { Config } from '../config/schema.js';
import { AccessLogHotListChanges } from '../access/hotlist-changes.js';
import { maySeeReads, UserDirectory } from '../access/users.js';
import { openStateDatabaseFor, type StateDatabase } from '../state/database.js';
import { openDeviceKeys } from '../state/device-keys.js';
import { appendAccessLog } from '../access/access-log.js';
import { readSecret } from './store-commands.js';
import { summarise } from '../hotlist/list.js';
import { runningDaemonTrust } from '../hotlist/publisher-keys.js';
import { AlprError, EX_DATAERR, EX_NOPERM, PermissionError } from '../errors.js';

/** A file the command was pointed at (input list, key, output): one line naming it, exit 65, no stack. */
class HotListFileError extends AlprError {
  constructor(flag: string, path: string, err: unknown) {
    super(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, flag, EX_DATAERR, { cause: err });
  }
}

function fileOp<T>(flag: string, path: string, op: () => T): T {
  try {
    return op();
  } catch (err) {
    throw new HotListFileError(flag, path, err);
  }
}

/** Who the log names for a shell action before anyone has signed in. */
function shellUser(): string {
  return `cli:${userInfo().username}`;
}

/**
 * P6/P11: an administrator with current training signs in with their own password (stdin, logged
 * as a login) for a change to local entries; a refusal is logged like an allowed change.
 */
async function signInAdministrator(config: Config, db: StateDatabase, username: string, what: string, asked: Record<string, unknown>): Promise<string> {
  const users = new UserDirectory(db, config.access);
  const login = await users.login(username, await readSecret(`password for ${username}: `), 'cli');
  if (!login.ok) throw new PermissionError(`${what}: invalid username or password`, '--as');
  const why = login.user.role !== 'administrator' ? `needs an administrator; ${login.user.username} is ${login.user.role}` : !maySeeReads(login.user) ? `${login.user.username}'s training expired on ${login.user.trainingValidUntil} (P8)` : undefined;
  if (why) {
    appendAccessLog(db, { user: login.user.username, action: 'cli.denied', parameters: { what, why, ...asked }, result: 'denied' }, openDeviceKeys(config.stateDir));
    throw new PermissionError(`${what} ${why}`, '--as');
  }
  return login.user.username;
}

/** The device's state database (users, access log), as the daemon and the store commands open it. */
function stateDatabase(config: Config): StateDatabase {
  return openStateDatabaseFor(config);
}

/**
 * P6: hot-list changes made from the shell go into the access log, like the daemon's own, and to
 * the running daemon, which publishes them on MQTT `audit` at its next hot-list check.
 */
function changeLog(config: Config, db: StateDatabase): HotListChangeLog {
  const keys = openDeviceKeys(config.stateDir);
  const accessLog = new AccessLogHotListChanges(() => ({ db, keys }));
  const toDaemon = new ShellChangeQueue(config.stateDir, keys);
  return {
    append(change: HotListChange): void {
      accessLog.append(change);
      toDaemon.append(change);
    },
  };
}

/**
 * P6: a refused local entry is on the record like an added one: who asked, the case number and
 * synopsis they gave, the approver they named, and why it was refused (the plate sealed, P16).
 */
function logRefusedEntry(config: Config, db: StateDatabase, user: string, input: LocalEntryInput, err: LocalEntryError): void {
  const given = (v: string | null | undefined) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, 500) : null);
  appendAccessLog(db, {
    user,
    action: 'hotlist.change',
    parameters: { change: 'local-refused', list: 'local', plate: given(input.plate), enteredBy: given(input.enteredBy), caseNumber: given(input.caseNumber), synopsis: given(input.synopsis), approvedBy: given(input.approvedBy), problem: err.message, field: err.field, via: 'cli' },
    result: 'refused',
  }, openDeviceKeys(config.stateDir));
}

/** The list is installed, but a daemon running with older keys would not load it: say so, and how to fix it. */
function warnIfDaemonDistrusts(config: Config, keyId: string): void {
  const trust = runningDaemonTrust(config.stateDir);
  if (!trust || trust.keyIds.includes(keyId)) return;
  process.stderr.write(`alpr-edge: warning: the running daemon (pid ${trust.pid}) does not trust key "${keyId}" yet and will not load this list: sudo systemctl reload alpr-edge (or kill -HUP ${trust.pid})\n`);
}

export interface KeygenFlags { private: string; public: string }

/** Publisher: an Ed25519 key pair for signing lists. */
export function keygen(o: KeygenFlags): void {
  const k = generatePublisherKeys();
  writeFileSync(o.private, k.privateKeyPem, { mode: 0o600 });
  writeFileSync(o.public, k.publicKeyPem);
  process.stdout.write(`wrote ${o.private} and ${o.public}\n`);
}

export interface SignFlags { format: string; name: string; source: string; issuedAt?: string; listVersion?: string; key: string; keyId: string; out: string }

/** Publisher: a CSV list or an NCIC/CA DOJ extract to a signed, versioned list file. */
export function sign(input: string, o: SignFlags): void {
  const text = fileOp('input', input, () => readFileSync(input, 'utf8'));
  if (o.format !== 'csv' && o.format !== 'ncic') throw new HotListFormatError(`--format must be csv or ncic, not ${o.format}`, 0, 'format');
  const entries = o.format === 'csv' ? parseHotListCsv(text) : parseNcicExtract(text);
  if (o.issuedAt && Number.isNaN(Date.parse(o.issuedAt))) throw new HotListFormatError(`--issued-at must be an ISO 8601 time, not ${o.issuedAt}`, 0, 'issuedAt');
  const issuedAt = o.issuedAt ? new Date(o.issuedAt).toISOString() : new Date().toISOString();
  const version = o.listVersion ? Number(o.listVersion) : Math.floor(Date.parse(issuedAt) / 1000);
  if (!Number.isInteger(version) || version < 1) throw new HotListFormatError('--list-version must be a positive integer', 0, 'version');
  const bytes = signHotList({ name: o.name, source: o.source, version, issuedAt, entries }, fileOp('--key', o.key, () => readFileSync(o.key, 'utf8')), o.keyId);
  fileOp('--out', o.out, () => writeFileSync(o.out, bytes));
  process.stdout.write(`signed ${o.name} v${version}: ${entries.length} entries, ${bytes.length} bytes → ${o.out}\n`);
}

/** Installs a signed list file; an administrator signs in first (P11). */
export async function importList(file: string, o: { config: string; as: string }): Promise<void> {
  const config = loadConfig(o.config);
  const db = stateDatabase(config);
  // Set once the administrator has signed in: a list refused after that is logged as theirs.
  let log: ((change: Omit<HotListChange, 'at' | 'actor'>) => void) | undefined;
  try {
    // P6/P11: a list changes what the device alerts on, like a local entry: the log names the
    // administrator who signed in, not a free-text actor.
    const by = await signInAdministrator(config, db, o.as, 'importing a hot list', { file });
    const changes = changeLog(config, db);
    log = (change) => changes.append({ ...change, at: new Date().toISOString(), actor: by });
    const repo = new HotListRepository(config.stateDir, loadPublisherKeys(config.hotlists), config.hotlists.maxListBytes);
    const list = repo.install(fileOp('file', file, () => readFileSync(file)));
    log({ action: 'list-installed', list: list.name, version: list.version, detail: { source: list.source, entries: list.entries.length, signedBy: list.signedBy, via: 'cli' } });
    process.stdout.write(`installed ${list.name} v${list.version} (${list.entries.length} entries, signed by ${list.signedBy})\n`);
    warnIfDaemonDistrusts(config, list.signedBy);
  } catch (err) {
    if (err instanceof HotListRejectedError) log?.({ action: 'list-refused', list: '(unknown)', detail: { reason: err.reason, via: 'cli' } });
    throw err;
  }
}

export interface AddFlags { config: string; plate?: string; state?: string; type: string; enteredBy?: string; case?: string; synopsis?: string; approver?: string; expires?: string; vehicle?: string; fuzzy: boolean }

/** A local entry (P11): the member and the approver each sign in with their own password. */
export async function addLocalEntry(o: AddFlags): Promise<void> {
  const config = loadConfig(o.config);
  const db = stateDatabase(config);
  const users = new UserDirectory(db, config.access);
  const input: LocalEntryInput = { plate: o.plate, state: o.state ?? null, type: o.type, enteredBy: o.enteredBy, caseNumber: o.case, synopsis: o.synopsis, approvedBy: o.approver, expiresAt: o.expires, fuzzy: o.fuzzy, vehicle: o.vehicle };
  // Until the member has signed in, the log can only name the shell account.
  let by = shellUser();
  try {
    const member = o.enteredBy?.trim();
    if (!member) throw new LocalEntryError('enteredBy', 'is required (P11): the member entering the entry, a user of `alpr-edge user`');
    // P6/P11: the member entering the entry signs in with their own password (logged as a login),
    // so the log and the entry name a person, not what was typed.
    const entering = await users.login(member, await readSecret(`password for ${member}: `), 'cli');
    if (!entering.ok) throw new LocalEntryError('enteredBy', 'password of the member entering the entry is wrong (or the account is locked)', EX_NOPERM);
    by = entering.user.username;
    const entry = await validateLocalEntry({ ...input, enteredBy: by }, users, config.hotlists.localEntryMaxDays);
    // P11: approval is the approver's act: they confirm with their own password (logged as a login).
    if (entry.local!.approvedBy !== by) {
      const login = await users.login(entry.local!.approvedBy, await readSecret(`password for ${entry.local!.approvedBy}: `), 'cli');
      if (!login.ok) throw new LocalEntryError('approvedBy', 'password of the approver is wrong (or the account is locked)', EX_NOPERM);
    }
    const list = new LocalEntryStore(config.stateDir, openDeviceKeys(config.stateDir)).add(entry);
    changeLog(config, db).append({ at: new Date().toISOString(), action: 'local-added', actor: by, list: 'local', version: list.version, detail: { plate: entry.plate, state: entry.state, type: entry.type, caseNumber: entry.local!.caseNumber, approvedBy: entry.local!.approvedBy, partial: entry.partial, expiresAt: entry.expiresAt } });
    process.stdout.write(`added local entry${entry.partial ? ' (partial)' : ''}, expires ${entry.expiresAt}\n`);
  } catch (err) {
    if (err instanceof LocalEntryError) logRefusedEntry(config, db, by, input, err);
    throw err;
  }
}

/** Removes local entries for a plate; an administrator signs in first (P11). */
export async function removeLocalEntries(o: { config: string; plate: string; case?: string; as: string }): Promise<void> {
  const config = loadConfig(o.config);
  const db = stateDatabase(config);
  const by = await signInAdministrator(config, db, o.as, 'removing a local hot-list entry', { plate: o.plate, caseNumber: o.case ?? null });
  const store = new LocalEntryStore(config.stateDir, openDeviceKeys(config.stateDir));
  const removed = store.remove(o.plate, o.case);
  changeLog(config, db).append({ at: new Date().toISOString(), action: 'local-removed', actor: by, list: 'local', version: store.load().version, detail: { plate: o.plate, caseNumber: o.case ?? null, removed } });
  process.stdout.write(`removed ${removed} local entr${removed === 1 ? 'y' : 'ies'}\n`);
}

/** Retires a signed list (the daemon stops matching it); an administrator signs in first (P11), and it is logged and published like an import. */
export async function retireList(name: string, o: { config: string; as: string }): Promise<void> {
  const config = loadConfig(o.config);
  const db = stateDatabase(config);
  const by = await signInAdministrator(config, db, o.as, 'retiring a hot list', { list: name });
  const repo = new HotListRepository(config.stateDir, loadPublisherKeys(config.hotlists), config.hotlists.maxListBytes);
  const retired = repo.retire(name);
  changeLog(config, db).append({ at: new Date().toISOString(), action: 'list-retired', actor: by, list: retired.name, version: retired.version, detail: { via: 'cli' } });
  process.stdout.write(`retired ${retired.name} v${retired.version}: the daemon stops matching it within hotlists.checkIntervalS; only a newer version can be imported again\n`);
}

/** Installed lists with versions, ages and entry counts (no plates). */
export function printListStatus(o: { config: string }): void {
  const config = loadConfig(o.config);
  const repo = new HotListRepository(config.stateDir, loadPublisherKeys(config.hotlists), config.hotlists.maxListBytes);
  const { lists, errors } = repo.loadAll();
  const local = new LocalEntryStore(config.stateDir, openDeviceKeys(config.stateDir)).load();
  // A device that never had a local entry has no local list (version 0), not one issued in 1970.
  const localRow = local.version > 0 ? [{ ...summarise(local, config.hotlists.maxAgeHours), stale: false }] : [];
  const rows = [...lists.map((l) => summarise(l, config.hotlists.maxAgeHours)), ...localRow];
  process.stdout.write(JSON.stringify({ lists: rows, unreadable: errors.map((e) => ({ file: e.file, error: e.error.message })) }, null, 2) + '\n');
}
