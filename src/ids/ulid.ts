import { randomBytes } from 'node:crypto';

// ULID: 48-bit time + 80 bits of randomness in Crockford base32, so ids sort by time as strings
// (the store keys reads by id, and finds a time range by the ids' 10-character time part).
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** The 10-character time part of a ULID: ids compare like their times. */
export function ulidTimePrefix(ms: number): string {
  let out = '';
  let t = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** The time (ms since the epoch) a ULID was made at. */
export function ulidTimeMs(id: string): number {
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + CROCKFORD.indexOf(c);
  return t;
}

let lastMs = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

/** A new ULID for `nowMs`; monotonic within one millisecond (the random part counts up). */
export function newUlid(nowMs = Date.now()): string {
  if (nowMs === lastMs) {
    for (let i = 9; i >= 0; i--) {
      lastRandom[i] = (lastRandom[i]! + 1) & 0xff;
      if (lastRandom[i] !== 0) break;
    }
  } else {
    lastMs = nowMs;
    lastRandom = new Uint8Array(randomBytes(10));
  }
  let bits = 0n;
  for (const b of lastRandom) bits = (bits << 8n) | BigInt(b);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    rand = CROCKFORD[Number(bits & 31n)] + rand;
    bits >>= 5n;
  }
  return ulidTimePrefix(nowMs) + rand;
}
