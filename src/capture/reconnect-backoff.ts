export interface ReconnectPolicy {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Fraction of the delay added or removed at random, so many cameras behind one switch do not retry in lockstep. */
  jitter?: number;
}

export const DEFAULT_RECONNECT: Required<ReconnectPolicy> = { initialDelayMs: 500, maxDelayMs: 30_000, jitter: 0.2 };

/** Delay before retry number `failures` (1 = first failure): doubling from initial up to max, then jittered. */
export function reconnectDelayMs(failures: number, policy: ReconnectPolicy = {}, random: () => number = Math.random): number {
  const { initialDelayMs, maxDelayMs, jitter } = { ...DEFAULT_RECONNECT, ...policy };
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const base = Math.min(maxDelayMs, initialDelayMs * 2 ** exponent);
  const spread = base * jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(base + spread));
}
