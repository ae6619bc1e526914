import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// Issue 21 item 8: the trainers' batch streams under a DataLoader with several workers. Each worker
// must have its own stream (the same seed in every worker gave every batch N times), and worker 0
// keeps the stream that single-worker runs always had, so resumed runs see the batches they would
// have. scripts/train/check_streams.py runs both trainers' real BatchStream classes on made-up data.

describe('training batch streams (scripts/train/check_streams.py)', () => {
  it('gives every DataLoader worker a different stream and keeps the single-worker stream', () => {
    const r = spawnSync('/usr/bin/python3', ['scripts/train/check_streams.py'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toContain('reader stream: 6 batches from 2 workers all different');
    expect(r.stderr).toContain('detector stream: 6 batches from 2 workers all different');
    expect(r.status).toBe(0);
  }, 130_000);
});
