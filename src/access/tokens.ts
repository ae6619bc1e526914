import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Role } from './users.js';

export interface TokenClaims {
  sub: string;
  role: Role;
  /** The user's credential generation at issue; a password change or disable ends older tokens. */
  gen: number;
  /** Expiry, ms since epoch. */
  exp: number;
}

/**
 * Short-lived bearer tokens signed with HMAC-SHA256. The secret lives in the device's key directory
 * (0600, `DeviceKeys.apiTokenSecret`), so a restart does not log everyone out; a token ends when it
 * expires, or earlier when its user is disabled or their password changes (the generation moves on).
 */
export class TokenIssuer {
  constructor(
    private readonly ttlS: number,
    private readonly secret: Buffer,
  ) {}

  issue(sub: string, role: Role, gen: number, nowMs = Date.now()): { token: string; expiresAt: string } {
    const claims: TokenClaims = { sub, role, gen, exp: nowMs + this.ttlS * 1000 };
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return { token: `${body}.${this.mac(body)}`, expiresAt: new Date(claims.exp).toISOString() };
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }

  verify(token: string, nowMs = Date.now()): TokenClaims | undefined {
    const [body, mac] = token.split('.');
    if (!body || !mac) return undefined;
    const want = Buffer.from(this.mac(body));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as TokenClaims;
      return typeof claims.exp === 'number' && claims.exp > nowMs && typeof claims.gen === 'number' ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}
