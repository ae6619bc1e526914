import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from './users.js';

export interface TokenClaims {
  sub: string;
  role: Role;
  /** Expiry, ms since epoch. */
  exp: number;
}

/**
 * Short-lived bearer tokens signed with HMAC-SHA256 by a secret that exists only in the daemon's
 * memory: a restart logs everyone out, and nothing on disk can mint a token.
 */
export class TokenIssuer {
  private readonly secret = randomBytes(32);

  constructor(private readonly ttlS: number) {}

  issue(sub: string, role: Role, nowMs = Date.now()): { token: string; expiresAt: string } {
    const claims: TokenClaims = { sub, role, exp: nowMs + this.ttlS * 1000 };
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
      return claims.exp > nowMs ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}
