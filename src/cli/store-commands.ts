import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import type { Config } from '../config/schema.js';
import { AlprError, EX_DATAERR, EX_USAGE, PermissionError, UsageError } from '../errors.js';

// Shell commands for the store and access control: users, holds, exports, audits, sharing, keys.
// Each opens the same LMDB environment as the daemon (LMDB allows both at once) and records what it
// does in the access log. Commands acting for a person take `--as NAME` and read that person's
// password from stdin (first line), so the log names a person, not the shell account (P6).

const CONFIG_OPTION = ['-c, --config <file>', 'configuration file', '/etc/alpr-edge/config.json'] as const;


async function context(configFile: string) {
  const { loadConfig } = await import('../config/load.js');
  const { openStateDatabaseFor, storePath } = await import('../state/database.js');
  const { DeviceKeys } = await import('../state/device-keys.js');
  const { ReadStore } = await import('../store/read-store.js');
  const { UserDirectory } = await import('../access/users.js');
  const { SharingRegistry } = await import('../access/sharing.js');
  const { createLogger } = await import('../log.js');
  const config: Config = loadConfig(configFile);
  const logger = createLogger(config.log.level).child({ component: 'store' });
  const db = openStateDatabaseFor(config);
  const keys = DeviceKeys.open(join(config.stateDir, 'keys'));
  const store = new ReadStore(db, keys, config.store, logger, storePath(config));
  return { config, db, keys, store, users: new UserDirectory(db, config.access), sharing: new SharingRegistry(db, config.sharing) };
}

type Ctx = Awaited<ReturnType<typeof context>>;

let stdinLines: string[] | undefined;

/** Passwords: piped on stdin one per line, or typed at a terminal without echo. */
export async function readSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    if (!stdinLines) {
      let text = '';
      for await (const chunk of process.stdin) text += String(chunk);
      stdinLines = text.split(/\r?\n/);
    }
    return stdinLines.shift() ?? '';
  }
  process.stderr.write(prompt);
  process.stdin.setRawMode(true);
  process.stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const onData = (buf: Buffer) => {
      for (const c of buf.toString('utf8')) {
        if (c === '\r' || c === '\n') {
          process.stdin.off('data', onData);
          process.stdin.setRawMode(false);
          process.stdin.pause();
          process.stderr.write('\n');
          return resolve(value);
        }
        if (c === '\u0003') return reject(new UsageError('cancelled at the password prompt', 'password'));
        if (c === '\u007f') value = value.slice(0, -1);
        else value += c;
      }
    };
    process.stdin.on('data', onData);
  });
}

function shellUser(): string {
  return `cli:${userInfo().username}`;
}

/** Logs a person in for a shell action (their password from stdin) and checks their role. */
async function actAs(ctx: Ctx, username: string | undefined, roles: string[], what: string, given: { reason?: string; caseNumber?: string } = {}): Promise<{ username: string; role: string }> {
  if (!username) throw new UsageError(`${what} needs --as <username> (one of roles: ${roles.join(', ')})`, '--as');
  const password = await readSecret(`password for ${username}: `);
  const r = await ctx.users.login(username, password, 'cli');
  if (!r.ok) throw new PermissionError('invalid username or password', '--as');
  const { maySeeReads } = await import('../access/users.js');
  const why = !roles.includes(r.user.role)
    ? `${what} needs role ${roles.join(' or ')}; ${username} is ${r.user.role}`
    : roles.every((x) => x !== 'technician') && !maySeeReads(r.user) ? `${username}'s training expired on ${r.user.trainingValidUntil} (P8)` : undefined;
  if (why) {
    // P6: a refused action is logged like an allowed one, with the reason and case number given.
    const { appendAccessLog } = await import('../access/access-log.js');
    appendAccessLog(ctx.db, { user: r.user.username, action: 'cli.denied', parameters: { what, why, ...given }, result: 'denied' }, ctx.keys);
    throw new PermissionError(why, '--as');
  }
  return { username: r.user.username, role: r.user.role };
}

/** A command's result as its exit status; its typed errors go to src/main.ts, which maps them. */
function run<A extends unknown[]>(fn: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const code = await fn(...args);
    if (typeof code === 'number') process.exitCode = code;
  };
}

/**
 * P4, P9: a bundle or sample signed with the key it carries proves only that its files agree with
 * each other; whoever changed them could have re-signed them with a key of their own. Only a
 * fingerprint known from elsewhere ties it to the device, so one is required, or an explicit
 * --trust-embedded-key, which is said aloud.
 */
function requireKeyFingerprint(command: string, o: { fingerprint?: string; trustEmbeddedKey: boolean }): number | undefined {
  if (o.fingerprint) return undefined;
  if (!o.trustEmbeddedKey) {
    process.stderr.write(`alpr-edge: ${command} needs --fingerprint <sha256>: the device's signing key fingerprint (alpr-edge key show on the device, or the evidence record); --trust-embedded-key checks only against the key inside, which proves nothing about who signed\n`);
    return EX_USAGE;
  }
  process.stderr.write('alpr-edge: warning: checked against the key embedded in the files only (--trust-embedded-key): this shows they agree with each other, not that this device signed them; compare publicKeyFingerprint with the device\'s\n');
  return undefined;
}

/** A change the user directory refuses (no such user, a bad date) names the field, exit 64 as `user enable`. */
async function userChange(change: () => void): Promise<void> {
  const { UserError } = await import('../access/users.js');
  try {
    change();
  } catch (err) {
    if (err instanceof UserError) throw new UsageError(err.message, err.field);
    throw err;
  }
}

function print(value: unknown): void {
  process.stdout.write(typeof value === 'string' ? value + '\n' : JSON.stringify(value, null, 2) + '\n');
}

export function registerStoreCommands(program: Command): void {
  const user = program.command('user').description('user accounts for the query API (P6, P8)');
  user
    .command('add')
    .description('add a user; the new password is read from stdin (after the --as password)')
    .argument('<username>')
    .addOption(new Option('--role <role>', 'technician, investigator or administrator').choices(['technician', 'investigator', 'administrator']).makeOptionMandatory())
    .option('--training-until <date>', 'training valid until YYYY-MM-DD (P8); investigators and administrators only, as training gates access to reads')
    .option('--as <admin>', 'administrator making the change (not needed for the first administrator)')
    .option(...CONFIG_OPTION)
    .action(run(async (username: string, o: { role: 'technician' | 'investigator' | 'administrator'; trainingUntil?: string; as?: string; config: string }) => {
      // Asked before any password, so a forgotten date costs no typing.
      if (o.role !== 'technician' && !o.trainingUntil) throw new UsageError(`--training-until YYYY-MM-DD is required for an ${o.role}: training gates access to reads (P8); a technician needs none`, '--training-until');
      const ctx = await context(o.config);
      // Bootstrap: the first administrator is added from the device shell; after that, by an administrator.
      const by = ctx.users.hasAdministrator() ? (await actAs(ctx, o.as, ['administrator'], 'adding a user')).username : shellUser();
      if (!ctx.users.hasAdministrator() && o.role !== 'administrator') throw new UsageError('the first user must be an administrator', '--role');
      const password = await readSecret(`new password for ${username}: `);
      print(await ctx.users.add({ username, role: o.role, trainingValidUntil: o.trainingUntil ?? null, password }, by));
    }));
  user
    .command('list')
    .description('list users (no password hashes)')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { config: string }) => print((await context(o.config)).users.list())));
  user
    .command('disable')
    .description('disable a user at once (tokens stop working on their next request)')
    .argument('<username>')
    .requiredOption('--as <admin>', 'administrator making the change')
    .option(...CONFIG_OPTION)
    .action(run(async (username: string, o: { as: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['administrator'], 'disabling a user');
      ctx.users.disable(username, by.username);
      print(`${username}: disabled`);
    }));
  user
    .command('enable')
    .description('enable a disabled user: they sign in again with their own password (tokens from before the disable stay ended; a lockout is lifted)')
    .argument('<username>')
    .requiredOption('--as <admin>', 'administrator making the change')
    .option(...CONFIG_OPTION)
    .action(run(async (username: string, o: { as: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['administrator'], 'enabling a user');
      const { UserError } = await import('../access/users.js');
      try {
        ctx.users.enable(username, by.username);
      } catch (err) {
        if (err instanceof UserError) throw new UsageError(err.message, err.field);
        throw err;
      }
      print(`${username}: enabled`);
    }));
  user
    .command('unlock')
    .description('lift the lockout of an enabled user locked out by failed logins: they sign in again with their own password at once (as after access.lockoutMinutes)')
    .argument('<username>')
    .requiredOption('--as <admin>', 'administrator making the change')
    .option(...CONFIG_OPTION)
    .action(run(async (username: string, o: { as: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['administrator'], 'unlocking a user');
      await userChange(() => ctx.users.unlock(username, by.username));
      print(`${username}: unlocked`);
    }));
  user
    .command('training')
    .description('set a user\'s training date (P8: an investigator or administrator sees reads only until it passes), as POST /api/v1/users/:username/training')
    .argument('<username>')
    .requiredOption('--until <date>', 'training valid until YYYY-MM-DD')
    .requiredOption('--as <admin>', 'administrator making the change')
    .option(...CONFIG_OPTION)
    .action(run(async (username: string, o: { until: string; as: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['administrator'], 'setting a training date');
      await userChange(() => ctx.users.setTraining(username, o.until, by.username));
      print(`${username}: training valid until ${o.until}`);
    }));
  user
    .command('passwd')
    .description('set a password: the --as password first, then the new one, on stdin (a user may change their own)')
    .argument('<username>')
    .requiredOption('--as <name>', 'the user themself or an administrator')
    .option(...CONFIG_OPTION)
    .action(run(async (username: string, o: { as: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['technician', 'investigator', 'administrator'], 'changing a password');
      if (by.username !== username && by.role !== 'administrator') throw new PermissionError('only an administrator can set another user\'s password', '--as');
      await ctx.users.setPassword(username, await readSecret(`new password for ${username}: `), by.username);
      print(`${username}: password changed`);
    }));

  const holds = program.command('holds').description('evidence holds (P4): held reads survive purge until the hold is released');
  holds
    .command('list', { isDefault: true })
    .description('list holds, active and released')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { config: string }) => {
      const { listHolds } = await import('../store/evidence-holds.js');
      print(listHolds((await context(o.config)).store));
    }));
  holds
    .command('create')
    .description('place a hold over read ids (--read) or over the reads a plate/camera/time query matches now')
    .argument('<name>', 'hold name: letters, digits, _ . -')
    .requiredOption('--case <number>', 'case or incident number (P4)')
    .requiredOption('--reason <text>', 'why these reads are or may become evidence')
    .requiredOption('--as <user>', 'investigator or administrator placing the hold')
    .option('--read <id...>', 'read ids to hold')
    .option('--plate <plate>', 'plate of the reads to hold')
    .addOption(new Option('--match <how>', 'plate match (look-alike, as hits name it, is lookalike)').choices(['exact', 'lookalike', 'look-alike', 'partial']))
    .option('--camera <id>', 'only reads of this camera')
    .option('--from <time>', 'reads captured at or after (ISO 8601)')
    .option('--to <time>', 'reads captured at or before (ISO 8601)')
    .option(...CONFIG_OPTION)
    .action(run(async (name: string, o: { case: string; reason: string; as: string; read?: string[]; plate?: string; match?: 'exact' | 'lookalike' | 'look-alike' | 'partial'; camera?: string; from?: string; to?: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['investigator', 'administrator'], 'placing a hold', { reason: o.reason, caseNumber: o.case });
      for (const [flag, value] of [['--from', o.from], ['--to', o.to]] as const) {
        if (value !== undefined && Number.isNaN(Date.parse(value))) throw new UsageError(`${flag} must be an ISO 8601 time, got "${value}"`, flag);
      }
      const byQuery = o.plate !== undefined || o.camera !== undefined || o.from !== undefined || o.to !== undefined;
      if (o.read?.length && byQuery) throw new UsageError('give either --read ids or a query (--plate, --camera, --from, --to), not both', '--read');
      const query = byQuery ? { plate: o.plate, match: o.match === 'look-alike' ? 'lookalike' as const : o.match, cameraId: o.camera, from: o.from, to: o.to } : undefined;
      const { createHold } = await import('../store/evidence-holds.js');
      print(createHold(ctx.store, { name, caseNumber: o.case, reason: o.reason, readIds: o.read, ...(query ? { query: JSON.parse(JSON.stringify(query)) as typeof query } : {}) }, by.username));
    }));
  holds
    .command('release')
    .description('release a hold: its reads fall back under retention (its creator or an administrator)')
    .argument('<name>')
    .requiredOption('--reason <text>', 'why the hold ends (e.g. case closed)')
    .requiredOption('--as <user>', 'the hold\'s creator or an administrator')
    .option(...CONFIG_OPTION)
    .action(run(async (name: string, o: { reason: string; as: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['investigator', 'administrator'], 'releasing a hold', { reason: o.reason });
      const { getHold, releaseHold } = await import('../store/evidence-holds.js');
      const hold = getHold(ctx.store, name);
      if (hold && !hold.releasedAt && by.role !== 'administrator' && hold.createdBy !== by.username) {
        const { appendAccessLog } = await import('../access/access-log.js');
        await appendAccessLog(ctx.db, { user: by.username, action: 'hold.release', parameters: { hold: name, reason: o.reason, why: 'not the creator or an administrator' }, result: 'denied' });
        throw new PermissionError(`only the hold's creator (${hold.createdBy}) or an administrator may release it`, '--as');
      }
      print(releaseHold(ctx.store, name, by.username, o.reason));
    }));

  program
    .command('export')
    .description('write the reads of an evidence hold to a signed bundle (P4); tie it to an approved sharing request with --share (P14)')
    .requiredOption('--hold <name>', 'evidence hold')
    .requiredOption('--out <dir>', 'new or empty directory (portable media)')
    .requiredOption('--as <user>', 'investigator or administrator making the export')
    .option('--share <id>', 'approved sharing request this export answers')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { hold: string; out: string; as: string; share?: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['investigator', 'administrator'], 'an export');
      const share = o.share ? ctx.sharing.get(o.share) : undefined;
      if (o.share && !share) throw new AlprError(`no sharing request ${o.share}`, '--share', EX_DATAERR);
      const { exportHold } = await import('../store/export-bundle.js');
      const { manifest, manifestSha256 } = exportHold(ctx.store, { hold: o.hold, outDir: o.out, by: by.username, deviceId: ctx.config.deviceId, share });
      print({ out: o.out, files: Object.keys(manifest.files).length, manifestSha256, publicKeyFingerprint: manifest.publicKeyFingerprint });
    }));

  program
    .command('verify-export')
    .description('check an export bundle offline against the device key: signature, every file hash, nothing added or removed; exit 1 if not intact')
    .argument('<dir>')
    .option('--fingerprint <sha256>', 'the device\'s signing key fingerprint, from `alpr-edge key show` or the evidence record (required, unless --trust-embedded-key)')
    .option('--trust-embedded-key', 'check only against the key inside the bundle (proves the files agree with each other, not that this device made them)', false)
    .action(run(async (dir: string, o: { fingerprint?: string; trustEmbeddedKey: boolean }) => {
      const refused = requireKeyFingerprint('verify-export', o);
      if (refused) return refused;
      const { verifyExport } = await import('../store/export-bundle.js');
      const r = verifyExport(dir, o.fingerprint);
      print({ ...r, keyChecked: o.fingerprint ? 'fingerprint' : 'embedded key only' });
      return r.ok ? 0 : 1;
    }));

  const audit = program.command('audit').description('access-log audits (P6, P9)');
  audit
    .command('verify')
    .description('verify the access log hash chain and that its sealed parameters open, and with --anchors against the signed heads the central side kept; exit 1 naming the first bad entry (shown, plate text opened, to an administrator given with --as)')
    .option('--anchors <file>', 'signed heads of this device as `alpr-edge watch` saved them (<out>/<deviceId>/anchors.jsonl)')
    .option('--as <admin>', 'administrator to whom the first bad entry is shown')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { anchors?: string; as?: string; config: string }) => {
      const ctx = await context(o.config);
      const by = o.as ? await actAs(ctx, o.as, ['administrator'], 'an audit') : undefined;
      const { verifyAccessLog, openParameters, appendAccessLog } = await import('../access/access-log.js');
      const chain = verifyAccessLog(ctx.db, ctx.keys);
      // P6: the local chain proves only that the file is consistent; heads that left the device show
      // whether it is the history that was anchored (docs/operations.md).
      const { checkAnchors, readAnchorsFile } = await import('../access/anchors.js');
      const anchors = o.anchors ? checkAnchors(ctx.db, readAnchorsFile(o.anchors), ctx.config.deviceId, ctx.keys.signingPublicKeyPem) : undefined;
      const r = anchors ? { ...chain, ok: chain.ok && anchors.ok, anchors } : chain;
      const badSeq = r.firstBadSeq ?? anchors?.firstDisagreement?.seq;
      const { ACCESS_LOG } = await import('../state/records.js');
      const stored = by && badSeq !== undefined ? ctx.db.accessLog.get(badSeq) : undefined;
      const bad = ACCESS_LOG.check(stored) ? stored : undefined;
      if (by) {
        // Showing plate text is an access like any other (P6).
        appendAccessLog(ctx.db, { user: by.username, action: 'audit.verify', parameters: { ok: r.ok, entries: r.entries, ...(badSeq !== undefined ? { firstBadSeq: badSeq, shown: bad !== undefined } : {}), ...(anchors ? { anchors: anchors.anchors, anchorProblems: anchors.problems.length } : {}) }, result: 'ok' });
      }
      if (bad) {
        const parametersInClear = openParameters(bad, ctx.keys);
        print({ ...r, firstBadEntry: parametersInClear ? { ...bad, parametersInClear } : bad });
      } else print(r);
      return r.ok ? 0 : 1;
    }));
  audit
    .command('sample')
    .description('draw a reproducible random sample of inquiries from a period, with the chain proof, signed by the device key (P9)')
    .requiredOption('--from <date>', 'start of the period (ISO date or time)')
    .requiredOption('--to <date>', 'end of the period, exclusive')
    .addOption(new Option('--n <count>', 'inquiries to draw').default(10).argParser(Number))
    .requiredOption('--seed <seed>', 'any text; the same seed draws the same sample')
    .option('--out <file>', 'write the sample here instead of stdout')
    .requiredOption('--as <admin>', 'administrator running the audit')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { from: string; to: string; n: number; seed: string; out?: string; as: string; config: string }) => {
      const ctx = await context(o.config);
      const by = await actAs(ctx, o.as, ['administrator'], 'an audit');
      const from = new Date(o.from);
      const to = new Date(o.to);
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new UsageError('--from and --to must be ISO dates', '--from');
      if (!Number.isInteger(o.n) || o.n < 1) throw new UsageError('--n must be a positive integer', '--n');
      const { sampleInquiries, appendAccessLog } = await import('../access/access-log.js');
      // The administrator sees what was searched: sealed plate text is opened in the sample (P9, P16).
      const sample = sampleInquiries(ctx.db, { from, to, n: o.n, seed: o.seed }, ctx.keys);
      const body = JSON.stringify({ ...sample, deviceId: ctx.config.deviceId, drawnBy: by.username, publicKeyPem: ctx.keys.signingPublicKeyPem }, null, 2) + '\n';
      const signature = ctx.keys.signDetached(Buffer.from(body)).toString('base64');
      await appendAccessLog(ctx.db, { user: by.username, action: 'audit.sample', parameters: { from: sample.from, to: sample.to, n: o.n, seed: o.seed, drawn: sample.entries.length }, result: 'ok' });
      if (o.out) {
        // P16: the sample names people and what they searched for: 0600 in a 0700 directory.
        const { makePrivateDir, writePrivateFile } = await import('../store/private-files.js');
        makePrivateDir(dirname(o.out));
        writePrivateFile(o.out, body);
        writePrivateFile(`${o.out}.sig`, signature + '\n');
        print({ out: o.out, drawn: sample.entries.length, population: sample.population, chainOk: sample.chain.ok });
      } else print(body.trimEnd());
      return sample.chain.ok ? 0 : 1;
    }));

  audit
    .command('verify-sample')
    .description('check an audit sample offline: its signature (FILE.sig) by the device key, and each entry against its hash; exit 1 if not intact')
    .argument('<file>', 'the sample, as `audit sample --out FILE` wrote it')
    .option('--sig <file>', 'the signature (default: FILE.sig)')
    .option('--fingerprint <sha256>', 'the device\'s signing key fingerprint, from `alpr-edge key show` or the device\'s records (required, unless --trust-embedded-key)')
    .option('--trust-embedded-key', 'check only against the key inside the sample (proves it is unchanged since signed, not that this device signed it)', false)
    .action(run(async (file: string, o: { sig?: string; fingerprint?: string; trustEmbeddedKey: boolean }) => {
      const refused = requireKeyFingerprint('audit verify-sample', o);
      if (refused) return refused;
      const { verifyAuditSample } = await import('../access/sample-verification.js');
      const r = verifyAuditSample(file, { signatureFile: o.sig, expectedFingerprint: o.fingerprint });
      print({ ...r, keyChecked: o.fingerprint ? 'fingerprint' : 'embedded key only' });
      return r.ok ? 0 : 1;
    }));

  const share = program.command('share').description('sharing requests from other agencies (P14)');
  share
    .command('request')
    .description('record a request; immigration enforcement (any agency name or spelling), (by default) out-of-state agencies and agencies not on sharing.allowedAgencies are refused and logged')
    .requiredOption('--agency <name>')
    .requiredOption('--agency-state <code>', 'two-letter state of the agency')
    .requiredOption('--requester <name>', 'person asking, at that agency')
    .requiredOption('--purpose <text>')
    .option('--as <user>', 'member recording the request (default: the shell user)')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { agency: string; agencyState: string; requester: string; purpose: string; as?: string; config: string }) => {
      const ctx = await context(o.config);
      const by = o.as ? (await actAs(ctx, o.as, ['investigator', 'administrator'], 'a sharing request')).username : shellUser();
      const r = ctx.sharing.request({ agency: o.agency, agencyState: o.agencyState, requester: o.requester, purpose: o.purpose }, by);
      print(r);
      // Refused input exits 65 (docs/operations.md), with the reason on one line; it is already
      // kept and logged as refused (P14).
      if (r.status === 'refused') throw new AlprError(`sharing request ${r.id} refused: ${r.refusal ?? 'no reason recorded'}`, '--agency', EX_DATAERR);
    }));
  share
    .command('list')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { config: string }) => print((await context(o.config)).sharing.list())));
  share
    .command('approve')
    .argument('<id>')
    .requiredOption('--as <admin>', 'administrator approving')
    .option(...CONFIG_OPTION)
    .action(run(async (id: string, o: { as: string; config: string }) => {
      const ctx = await context(o.config);
      print(ctx.sharing.approve(id, await actAs(ctx, o.as, ['administrator'], 'approving a sharing request')));
    }));

  const key = program.command('key').description('device keys (P16)');
  key
    .command('show')
    .description('current data key id and the export-signing key fingerprint')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { config: string }) => {
      const ctx = await context(o.config);
      const { keyFingerprint } = await import('../state/device-keys.js');
      print({ currentKeyId: ctx.keys.currentKeyId, keyIds: ctx.keys.keyIds, signingKeyFingerprint: keyFingerprint(ctx.keys.signingPublicKeyPem) });
    }));
  key
    .command('rotate')
    .description('seal new reads with a fresh data key (old keys stay until their reads are purged); restart the daemon afterwards')
    .option(...CONFIG_OPTION)
    .action(run(async (o: { config: string }) => {
      const ctx = await context(o.config);
      const id = ctx.keys.rotate();
      const { appendAccessLog } = await import('../access/access-log.js');
      await appendAccessLog(ctx.db, { user: shellUser(), action: 'key.rotate', parameters: { keyId: id }, result: 'ok' });
      print({ currentKeyId: id });
    }));
}
