import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../../access/users.js';

/** The web console's session cookie: httpOnly, SameSite=Strict, scoped to the API's path. */
export const SESSION_COOKIE = 'alpr_console';
const COOKIE_PATH = '/api/v1';

export interface ConsoleSession {
  /** The cookie's value: 256 random bits. */
  id: string;
  username: string;
  role: Role;
  /** The user's credential generation at sign-in; a password change or disable ends the session (P6). */
  tokenGeneration: number;
  /** Sent back in `X-CSRF-Token` on every state-changing request; never in a cookie. */
  csrfToken: string;
  createdAtMs: number;
  lastActiveMs: number;
}

export type SessionLookup = { session: ConsoleSession } | { ended: 'unknown' | 'idle' | 'expired' };

export interface SessionLimits {
  idleMinutes: number;
  maxSessionHours: number;
}

/**
 * Console sessions, held in memory: a restart signs everyone out, a sign-out or an idle timeout
 * ends a session at once (unlike a bearer token, which lives until it expires), and nothing about
 * a session is written to disk. Bounded: past `maxSessions`, the least recently active is dropped.
 */
export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    readonly limits: SessionLimits,
    private readonly maxSessions = 256,
  ) {}

  get idleMs(): number {
    return this.limits.idleMinutes * 60_000;
  }

  open(user: { username: string; role: Role; tokenGeneration?: number }, nowMs = Date.now()): ConsoleSession {
    this.sweep(nowMs);
    if (this.sessions.size >= this.maxSessions) {
      const oldest = [...this.sessions.values()].sort((a, b) => a.lastActiveMs - b.lastActiveMs)[0];
      if (oldest) this.sessions.delete(oldest.id);
    }
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      username: user.username,
      role: user.role,
      tokenGeneration: user.tokenGeneration ?? 0,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAtMs: nowMs,
      lastActiveMs: nowMs,
    };
    this.sessions.set(session.id, session);
    return session;
  }

  find(id: string | undefined, nowMs = Date.now()): SessionLookup {
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return { ended: 'unknown' };
    if (nowMs - session.createdAtMs > this.limits.maxSessionHours * 3_600_000) {
      this.sessions.delete(session.id);
      return { ended: 'expired' };
    }
    if (nowMs - session.lastActiveMs > this.idleMs) {
      this.sessions.delete(session.id);
      return { ended: 'idle' };
    }
    return { session };
  }

  /** A person did something: the idle clock starts again. Polling (live view, health) does not call this. */
  touch(session: ConsoleSession, nowMs = Date.now()): void {
    session.lastActiveMs = nowMs;
  }

  close(id: string): void {
    this.sessions.delete(id);
  }

  /** When the session's idle timeout falls, for the page's countdown. */
  idleExpiresAt(session: ConsoleSession): string {
    return new Date(Math.min(session.lastActiveMs + this.idleMs, session.createdAtMs + this.limits.maxSessionHours * 3_600_000)).toISOString();
  }

  private sweep(nowMs: number): void {
    for (const s of this.sessions.values()) this.find(s.id, nowMs);
  }
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(session: ConsoleSession, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const want = Buffer.from(session.csrfToken);
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The session id from a Cookie header, if any. */
export function sessionCookieValue(cookieHeader: string | undefined): string | undefined {
  if (!cookieHeader) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * `Secure` only where the browser's origin is loopback (an SSH tunnel to localhost): browsers
 * treat that as a secure context, and the cookie then never travels over plain HTTP elsewhere. Over
 * a VPN to the device's address the page is plain HTTP and a Secure cookie would be refused.
 */
export function isLoopbackHost(hostHeader: string | undefined): boolean {
  const host = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
}
