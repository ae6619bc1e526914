import { newUlid } from '../ids/ulid.js';

/** A read's id: a ULID of its capture time, so the store's keys sort by time (src/ids/ulid.ts). */
export function newReadId(nowMs = Date.now()): string {
  return newUlid(nowMs);
}
