import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { parseHotListCsv, parseNcicExtract, HotListFormatError } from '../hotlist/format.js';
import { generatePublisherKeys, HotListRejectedError, HotListSignError, signHotList } from '../hotlist/signed-list.js';
import { HotListRepository } from '../hotlist/repository.js';
import { loadPublisherKeys } from '../hotlist/extension.js';
import { LocalEntryError, LocalEntryStore, validateLocalEntry, type HotListChange, type HotListChangeLog, type LocalEntryInput } from '../hotlist/local-entries.js';
import { ShellChangeQueue } from '../hotlist/shell-changes.js';
import type { Config } from '../config/schema.js';
import { AccessLogHotListChanges } from '../access/hotlist-changes.js';
import { maySeeReads, UserDirectory } from '../access/users.js';
import { openStateDatabaseFor, type StateDatabase } from '../store/database.js';
import { openDeviceKeys } from '../store/device-keys.js';
import { appendAccessLog } from '../access/access-log.js';
import { readSecret } from './store-commands.js';
import { summarise } from '../hotlist/list.js';
import { runningDaemonTrust } from '../hotlist/publisher-keys.js';
import { registerHotlistKeyCommands } from './hotlist-key-commands.js';

/** Exit code for refused input data (sysexits EX_DATAERR); bad config stays 78. */
export const EX_DATAERR = 65;

/** A file the command was pointed at (input list, key, output): one line naming it, exit 65, no stack. */
class HotListFileError extends Error {
  constructor(flag: string, path: string, err: unknown) {
    super(`${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    this.name = 'HotListFileError';
  }
}

function fileOp<T>(flag: string, path: string, op: () => T): T {
  try {
    return op();
  } catch (err) {
    throw new HotListFileError(flag, path, err);
  }
}

/** Exit code for a person without the right to do what they asked (sysexits EX_NOPERM). */
export const EX_NOPERM = 77;

/** The person named is not signed in (wrong password, unknown, locked) or may not do this: exit 77. */
class HotListPermissionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HotListPermissionError';
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
  if (!login.ok) throw new HotListPermissionError(`${what}: invalid username or password`);
  const why = login.user.role !== 'administrator' ? `needs an administrator; ${login.user.username} is ${login.user.role}` : !maySeeReads(login.user) ? `${login.user.username}'s training expired on ${login.user.trainingValidUntil} (P8)` : undefined;
  if (why) {
    appendAccessLog(db, { user: login.user.username, action: 'cli.denied', parameters: { what, why, ...asked }, result: 'denied' }, openDeviceKeys(config.stateDir));
    throw new HotListPermissionError(`${what} ${why}`);
  }
  return login.user.username;
}

function refuse(err: unknown): void {
  if (err instanceof HotListPermissionError) {
    process.stderr.write(`alpr-edge: ${err.message}\n`);
    process.exitCode = EX_NOPERM;
    return;
  }
  if (err instanceof HotListFormatError || err instanceof HotListRejectedError || err instanceof LocalEntryError || err instanceof HotListSignError || err instanceof HotListFileError) {
    process.stderr.write(`alpr-edge: ${err.message}\n`);
    process.exitCode = EX_DATAERR;
    return;
  }
  throw err;
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

/** Technician / publisher: hot-list commands (docs/hotlists.md). The daemon picks changes up within hotlists.checkIntervalS. */
export function registerHotlistCommands(program: Command): void {
  const hl = program.command('hotlist').description('hot lists: sign (publisher), import, local entries, publisher keys, status');

  hl.command('keygen')
    .description('publisher: make an Ed25519 key pair for signing lists')
    .requiredOption('--private <file>', 'private key (PEM, keep it on the publishing host)')
    .requiredOption('--public <file>', 'public key (PEM, goes into hotlists.publisherKeys on devices)')
    .action((o: { private: string; public: string }) => {
      const k = generatePublisherKeys();
      writeFileSync(o.private, k.privateKeyPem, { mode: 0o600 });
      writeFileSync(o.public, k.publicKeyPem);
      process.stdout.write(`wrote ${o.private} and ${o.public}\n`);
    });

  hl.command('sign')
    .description('publisher: turn a CSV list or an NCIC/CA DOJ pipe extract into a signed, versioned list file')
    .argument('<input>', 'list file')
    .option('--format <csv|ncic>', 'input format', 'csv')
    .requiredOption('--name <name>', 'list name (a newer version of the same name replaces the old)')
    .requiredOption('--source <source>', 'who publishes it, e.g. "CA DOJ SVS"')
    .option('--issued-at <iso>', 'issue time (default: now)')
    .option('--list-version <n>', 'version, strictly increasing per name (default: issue time in seconds)')
    .requiredOption('--key <file>', 'publisher private key (PEM)')
    .requiredOption('--key-id <id>', 'key id devices know the public key by')
    .requiredOption('-o, --out <file>', 'signed list file to write')
    .action((input: string, o: { format: string; name: string; source: string; issuedAt?: string; listVersion?: string; key: string; keyId: string; out: string }) => {
      try {
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
      } catch (err) {
        refuse(err);
      }
    });

  hl.command('import')
    .description('install a signed list file (over SSH; P11: an administrator, their password read from stdin); refused unless signed by a configured key and newer than the installed version')
    .argument('<file>', 'signed list file')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .requiredOption('--as <admin>', 'administrator importing it (a user of `alpr-edge user`)')
    .action(async (file: string, o: { config: string; as: string }) => {
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
        refuse(err);
      }
    });

  hl.command('add')
    .description('add a local entry (P11: member, case number, synopsis and an administrator approver are required)')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .option('--plate <plate>', 'plate; ? stands for one unknown character, * for any run (partial, P12)')
    .option('--state <st>', 'two-letter state (omit when unknown)')
    .option('--type <type>', 'SVS, SLR, SFR, BOLO or CUSTOM', 'BOLO')
    .option('--entered-by <user>', 'member entering the entry: a user of `alpr-edge user` (investigator or administrator); their password is read from stdin first')
    .option('--case <number>', 'case or incident number')
    .option('--synopsis <text>', 'short synopsis')
    .option('--approver <user>', 'administrator approving the entry (a user of `alpr-edge user`); their password is read from stdin next, not again if they entered it')
    .option('--expires <date>', 'expiry (default and maximum: hotlists.localEntryMaxDays from now)')
    .option('--vehicle <text>', 'vehicle description')
    .option('--fuzzy', 'also match reads one character off', false)
    .action(async (o: { config: string; plate?: string; state?: string; type: string; enteredBy?: string; case?: string; synopsis?: string; approver?: string; expires?: string; vehicle?: string; fuzzy: boolean }) => {
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
        if (!entering.ok) throw new LocalEntryError('enteredBy', 'password of the member entering the entry is wrong (or the account is locked)');
        by = entering.user.username;
        const entry = await validateLocalEntry({ ...input, enteredBy: by }, users, config.hotlists.localEntryMaxDays);
        // P11: approval is the approver's act: they confirm with their own password (logged as a login).
        if (entry.local!.approvedBy !== by) {
          const login = await users.login(entry.local!.approvedBy, await readSecret(`password for ${entry.local!.approvedBy}: `), 'cli');
          if (!login.ok) throw new LocalEntryError('approvedBy', 'password of the approver is wrong (or the account is locked)');
        }
        const list = new LocalEntryStore(config.stateDir, openDeviceKeys(config.stateDir)).add(entry);
        changeLog(config, db).append({ at: new Date().toISOString(), action: 'local-added', actor: by, list: 'local', version: list.version, detail: { plate: entry.plate, state: entry.state, type: entry.type, caseNumber: entry.local!.caseNumber, approvedBy: entry.local!.approvedBy, partial: entry.partial, expiresAt: entry.expiresAt } });
        process.stdout.write(`added local entry${entry.partial ? ' (partial)' : ''}, expires ${entry.expiresAt}\n`);
      } catch (err) {
        if (err instanceof LocalEntryError) logRefusedEntry(config, db, by, input, err);
        refuse(err);
      }
    });

  hl.command('remove')
    .description('remove local entries for a plate (P11: an administrator, like approving one; their password is read from stdin)')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .requiredOption('--plate <plate>', 'plate as entered')
    .option('--case <number>', 'only the entry with this case number')
    .requiredOption('--as <admin>', 'administrator removing it (a user of `alpr-edge user`)')
    .action(async (o: { config: string; plate: string; case?: string; as: string }) => {
      const config = loadConfig(o.config);
      const db = stateDatabase(config);
      try {
        const by = await signInAdministrator(config, db, o.as, 'removing a local hot-list entry', { plate: o.plate, caseNumber: o.case ?? null });
        const store = new LocalEntryStore(config.stateDir, openDeviceKeys(config.stateDir));
        const removed = store.remove(o.plate, o.case);
        changeLog(config, db).append({ at: new Date().toISOString(), action: 'local-removed', actor: by, list: 'local', version: store.load().version, detail: { plate: o.plate, caseNumber: o.case ?? null, removed } });
        process.stdout.write(`removed ${removed} local entr${removed === 1 ? 'y' : 'ies'}\n`);
      } catch (err) {
        refuse(err);
      }
    });

  hl.command('status')
    .description('installed lists with versions, ages and entry counts (no plates)')
    .option('-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json')
    .action((o: { config: string }) => {
      const config = loadConfig(o.config);
      const repo = new HotListRepository(config.stateDir, loadPublisherKeys(config.hotlists), config.hotlists.maxListBytes);
      const { lists, errors } = repo.loadAll();
      const local = new LocalEntryStore(config.stateDir, openDeviceKeys(config.stateDir)).load();
      const rows = [...lists.map((l) => summarise(l, config.hotlists.maxAgeHours)), { ...summarise(local, config.hotlists.maxAgeHours), stale: false }];
      process.stdout.write(JSON.stringify({ lists: rows, unreadable: errors.map((e) => ({ file: e.file, error: e.error.message })) }, null, 2) + '\n');
    });
  registerHotlistKeyCommands(hl);
}
