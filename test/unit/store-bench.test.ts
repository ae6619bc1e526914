import { describe, expect, it } from 'vitest';
import { benchPlate, parseStoreBenchOptions } from '../../scripts/bench-store.js';

describe('store benchmark options', () => {
  it('defaults to the issue\'s 30-day volume: 20k reads a day, 30 KB images, 60 simulated days', () => {
    expect(parseStoreBenchOptions(['store'])).toMatchObject({ days: 30, perDay: 20000, imageKb: 30, simDays: 60, purgeBatch: 500, outboxRounds: 4 });
  });

  it('names the flag when a value is wrong', () => {
    expect(() => parseStoreBenchOptions(['--days', '1'])).toThrow('--days must be an integer ≥ 2, got 1');
    expect(() => parseStoreBenchOptions(['--per-day', 'many'])).toThrow('--per-day');
    // Each outbox round purges a day of the window after the first.
    expect(() => parseStoreBenchOptions(['--days', '4', '--outbox-rounds', '4'])).toThrow('--outbox-rounds must be at most --days - 1 (3), got 4');
  });

  it('writes plausible, distinct plates so lookups find what was stored', () => {
    const plates = Array.from({ length: 1000 }, (_, i) => benchPlate(i * 997));
    expect(new Set(plates).size).toBe(1000);
    expect(plates.every((p) => /^[0-9][0-9A-Z]{6}$/.test(p))).toBe(true);
  });
});
