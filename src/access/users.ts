import { Algorithm, hash, verify } from '@node-rs/argon2';
import type { AccessConfig } from '../config/schema.js';
import type { StateDatabase } from '../state/database.js';
import { findRecord, decodeRecord, ROLES, USERS, type UserRecord } from '../state/records.js';
import { appendAccessLogInTxn } from './access-log.js';
import { AlprError, EX_DATAERR } from '../errors.js';

export { ROLES };
export type Role = UserRecord['role'];

/** P6: one credential per person; P8: a role and a training date gate access to reads (schema: state/records.ts). */
export type User = UserRecord;

export type PublicUser = Omit<User, 'passwordHash'>;

export class UserError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_DATAERR);
  }
}

const USERNAME = /^[a-z][a-z0-9._-]{1,31}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const MIN_PASSWORD_LENGTH = 12;

// OWASP's Argon2id baseline (19 MiB, 2 passes): memory-hard (P6) yet ~0.1 s on a quad-core ARM board.
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new UserError(`password must have at least ${MIN_PASSWORD_LENGTH} characters`, 'password');
}

function publicUser(u: User): PublicUser {
  const { passwordHash: _hash, ...rest } = u;
  return rest;
}

/** P8: may this user see reads now? Investigators and administrators with current training only. */
export function maySeeReads(user: Pick<User, 'role' | 'trainingValidUntil' | 'disabled'>, nowMs = Date.now()): boolean {
  if (user.disabled || user.role === 'technician') return false;
  return trainingCurrent(user.trainingValidUntil, nowMs);
}

function trainingCurrent(until: string | null, nowMs: number): boolean {
  return until !== null && new Date(nowMs).toISOString().slice(0, 10) <= until;
}

export type LoginResult = { ok: true; user: PublicUser } | { ok: false; why: 'unknown-user' | 'bad-password' | 'disabled' | 'locked' };

/** Users live in the state database next to the access log, so each change and its entry commit together. */
export class UserDirectory {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly db: StateDatabase,
    private readonly config: AccessConfig,
  ) {}

  /**
   * Starts the stand-in hash that unknown names are verified against (see `login`) and returns:
   * Argon2 works on the thread pool for ~0.1 s, which the daemon's start no longer waits for
   * (issue 23). A login that comes sooner waits for it, as every login with an unknown name does.
   */
  async prepareLogin(): Promise<void> {
    this.dummyHash ??= hashPassword('not-a-password-of-anyone');
    // Marked handled here: a failure is the login's to report, not an unhandled rejection meanwhile.
    this.dummyHash.catch(() => undefined);
  }

  get(username: string): User | undefined {
    return findRecord(USERS, username, this.db.users.get(username));
  }

  /** The hot-list module's approver lookup (P11): enabled users by name, with their role and training (P8). */
  async findUser(name: string, nowMs = Date.now()): Promise<{ name: string; role: Role; trainingValid: boolean } | undefined> {
    const u = this.get(name);
    return u && !u.disabled ? { name: u.username, role: u.role, trainingValid: trainingCurrent(u.trainingValidUntil, nowMs) } : undefined;
  }

  list(): PublicUser[] {
    return [...this.db.users.getRange()].map((e) => publicUser(decodeRecord(USERS, e.key, e.value)));
  }

  hasAdministrator(): boolean {
    return this.list().some((u) => u.role === 'administrator' && !u.disabled);
  }

  /** P8: investigators and administrators need a training date; a technician (who never sees reads) may have none. */
  async add(input: { username: string; role: Role; trainingValidUntil?: string | null; password: string }, by: string): Promise<PublicUser> {
    if (!USERNAME.test(input.username)) throw new UserError(`username "${input.username}" must match ${USERNAME.source}`, 'username');
    if (!ROLES.includes(input.role)) throw new UserError(`role must be one of ${ROLES.join(', ')}`, 'role');
    const until = input.trainingValidUntil ?? null;
    if (until === null && input.role !== 'technician') throw new UserError(`an ${input.role} needs a training date YYYY-MM-DD: training gates access to reads (P8)`, 'trainingValidUntil');
    if (until !== null && (!DATE.test(until) || Number.isNaN(Date.parse(until)))) throw new UserError('training-valid-until must be a date YYYY-MM-DD', 'trainingValidUntil');
    checkPassword(input.password);
    const passwordHash = await hashPassword(input.password);
    const user: User = { username: input.username, role: input.role, trainingValidUntil: until, passwordHash, disabled: false, failedLogins: 0, createdAt: new Date().toISOString(), createdBy: by };
    this.db.root.transactionSync(() => {
      // P6: no shared accounts, and no silent replacement of someone's credential.
      if (this.db.users.get(user.username)) throw new UserError(`user "${user.username}" already exists`, 'username');
      this.db.users.put(user.username, user);
      appendAccessLogInTxn(this.db, { user: by, action: 'user.add', parameters: { username: user.username, role: user.role, trainingValidUntil: user.trainingValidUntil }, result: 'ok' });
    });
    return publicUser(user);
  }

  disable(username: string, by: string): void {
    this.db.root.transactionSync(() => {
      const u = this.get(username);
      if (!u) throw new UserError(`no user "${username}"`, 'username');
      this.db.users.put(username, { ...u, disabled: true, tokenGeneration: (u.tokenGeneration ?? 0) + 1 });
      appendAccessLogInTxn(this.db, { user: by, action: 'user.disable', parameters: { username }, result: 'ok' });
    });
  }

  /**
   * Lets a disabled user sign in again with their own password. Tokens and sessions ended by the
   * disable stay ended (its token generation is kept), and a lockout is lifted so the return is clean.
   */
  enable(username: string, by: string): void {
    this.db.root.transactionSync(() => {
      const u = this.get(username);
      if (!u) throw new UserError(`no user "${username}"`, 'username');
      if (!u.disabled) throw new UserError(`user "${username}" is not disabled`, 'username');
      this.db.users.put(username, { ...u, disabled: false, failedLogins: 0, lockedUntilMs: undefined });
      appendAccessLogInTxn(this.db, { user: by, action: 'user.enable', parameters: { username }, result: 'ok' });
    });
  }

  /**
   * Lifts a lockout (too many failed logins) of an enabled user: they sign in again with their own
   * password at once. Tokens and sessions are untouched, unlike a disable/enable or a new password.
   */
  unlock(username: string, by: string, nowMs = Date.now()): void {
    this.db.root.transactionSync(() => {
      const u = this.get(username);
      if (!u) throw new UserError(`no user "${username}"`, 'username');
      if (u.disabled) throw new UserError(`user "${username}" is disabled, not locked out: enable them (alpr-edge user enable)`, 'username');
      if (u.lockedUntilMs === undefined || u.lockedUntilMs <= nowMs) throw new UserError(`user "${username}" is not locked out`, 'username');
      this.db.users.put(username, { ...u, failedLogins: 0, lockedUntilMs: undefined });
      appendAccessLogInTxn(this.db, { user: by, action: 'user.unlock', parameters: { username, lockedUntil: new Date(u.lockedUntilMs).toISOString() }, result: 'ok' });
    });
  }

  /** P8: training gates access to reads; a technician may have no date, anyone else needs one. */
  setTraining(username: string, trainingValidUntil: string | null, by: string): void {
    if (trainingValidUntil !== null && (!DATE.test(trainingValidUntil) || Number.isNaN(Date.parse(trainingValidUntil)))) throw new UserError('training-valid-until must be a date YYYY-MM-DD', 'trainingValidUntil');
    this.db.root.transactionSync(() => {
      const u = this.get(username);
      if (!u) throw new UserError(`no user "${username}"`, 'username');
      if (trainingValidUntil === null && u.role !== 'technician') throw new UserError(`an ${u.role} needs a training date YYYY-MM-DD: training gates access to reads (P8)`, 'trainingValidUntil');
      this.db.users.put(username, { ...u, trainingValidUntil });
      appendAccessLogInTxn(this.db, { user: by, action: 'user.training', parameters: { username, from: u.trainingValidUntil, trainingValidUntil }, result: 'ok' });
    });
  }

  async setPassword(username: string, password: string, by: string): Promise<void> {
    checkPassword(password);
    const passwordHash = await hashPassword(password);
    this.db.root.transactionSync(() => {
      const u = this.get(username);
      if (!u) throw new UserError(`no user "${username}"`, 'username');
      this.db.users.put(username, { ...u, passwordHash, failedLogins: 0, lockedUntilMs: undefined, tokenGeneration: (u.tokenGeneration ?? 0) + 1 });
      appendAccessLogInTxn(this.db, { user: by, action: 'user.passwd', parameters: { username }, result: 'ok' });
    });
  }

  /**
   * Checks a login and logs it (ok or failed, P6). Every path runs exactly one Argon2id verification,
   * so an unknown user, a wrong password, a disabled and a locked account take the same time and
   * the caller answers them with the same 401.
   */
  async login(username: string, password: string, source: string, nowMs = Date.now()): Promise<LoginResult> {
    const user = typeof username === 'string' ? this.get(username) : undefined;
    this.dummyHash ??= hashPassword('not-a-password-of-anyone');
    const passwordOk = await verify(user?.passwordHash ?? (await this.dummyHash), password).catch(() => false);
    let result: LoginResult;
    if (!user) result = { ok: false, why: 'unknown-user' };
    else if (user.disabled) result = { ok: false, why: 'disabled' };
    else if (user.lockedUntilMs !== undefined && user.lockedUntilMs > nowMs) result = { ok: false, why: 'locked' };
    else if (!passwordOk) result = { ok: false, why: 'bad-password' };
    else result = { ok: true, user: publicUser(user) };
    this.db.root.transactionSync(() => {
      const current = user ? this.get(user.username) : undefined;
      if (current && result.ok) {
        this.db.users.put(current.username, { ...current, failedLogins: 0, lockedUntilMs: undefined });
      } else if (current && (result as { why: string }).why === 'bad-password') {
        const failedLogins = current.failedLogins + 1;
        const lock = failedLogins >= this.config.maxFailedLogins ? { lockedUntilMs: nowMs + this.config.lockoutMinutes * 60_000 } : {};
        this.db.users.put(current.username, { ...current, failedLogins, ...lock });
      }
      appendAccessLogInTxn(this.db, {
        user: String(username).slice(0, 64),
        action: 'login',
        parameters: { source, ...(result.ok ? {} : { why: result.why }) },
        result: result.ok ? 'ok' : 'failed',
      });
    });
    return result;
  }
}
