import { describe, expect, it } from 'vitest';
import { hitLine, readLine } from '../../src/cli/print-lines.js';
import { hitPayload } from '../../src/mqtt/messages.js';
import { entry, makeRead } from '../support/mqtt-harness.js';
import type { Hit } from '../../src/hotlist/hit.js';

// How `run --print-reads --print-hits` prints (scripts/demo): readable lines by default in the demo,
// the raw records with --json; never the base64 images.

const read = makeRead('7PRN123', 'CA', 'pole-1', { vehicle: { colour: 'blue', colourConfidence: 0.7 } });
const hit: Hit = {
  id: `${read.id}:ncic:0`, read, entry: entry('7PRN123', 'CA'), kind: 'exact', matchedText: '7PRN123', requiresVerification: true, matchedAt: read.capturedAt,
  list: { name: 'ncic', source: 'test', version: 4, issuedAt: read.capturedAt, entries: 1, ageHours: 0, stale: false },
};
const payload = hitPayload(hit, '01ARZ3NDEKTSV4RRFFQ69G5FAV');

describe('printed read and hit lines', () => {
  it('text: one short line per read with camera, plate, state, confidence, frames and colour', () => {
    const line = readLine(read, 'text');
    expect(line).toBe(`READ ${read.capturedAt} | cam1 | 7PRN123 (CA) | conf 0.93, agreement 0.90, 5 frames | blue | id ${read.id}`);
  });

  it('text: a hit as watch prints it, after HIT', () => {
    const line = hitLine(payload, 'text');
    expect(line.startsWith(`HIT ${read.capturedAt} | pole-1 | cam1 | 7PRN123 (CA)`)).toBe(true);
    expect(line).toContain('ncic v4');
    expect(line).not.toContain('\n');
    expect(line.length).toBeLessThan(300);
  });

  it('text: a partial hot-list entry says its match kind once (SFR partial, not SFR partial partial)', () => {
    const partial = hitPayload({ ...hit, id: `${read.id}:ncic:1`, entry: entry('7PR?12*', null, { type: 'SFR' }), kind: 'partial', matchedText: '7PRN123' }, '01ARZ3NDEKTSV4RRFFQ69G5FAW');
    const line = hitLine(partial, 'text');
    expect(line).toContain(' | SFR partial | ncic v4');
    expect(line.match(/partial/g)).toHaveLength(1);
    const lookAlike = hitLine(hitPayload({ ...hit, entry: entry('7PR?12*', null, { type: 'SFR' }), kind: 'look-alike' }, '01ARZ3NDEKTSV4RRFFQ69G5FAX'), 'text');
    expect(lookAlike).toContain(' | SFR look-alike (partial entry) | ');
  });

  it('json: the raw records without the images (their sizes instead)', () => {
    const r = JSON.parse(readLine(read, 'json')) as Record<string, unknown>;
    expect(r).toMatchObject({ id: read.id, plate: '7PRN123', plateJpegBytes: read.plateJpeg.length, overviewJpegBytes: read.overviewJpeg.length });
    expect(r).not.toHaveProperty('plateJpeg');
    const h = hitLine(payload, 'json');
    expect(h.startsWith('HIT {')).toBe(true);
    const parsed = JSON.parse(h.slice(4)) as { images: Record<string, number>; read: { plate: string } };
    expect(parsed.read.plate).toBe('7PRN123');
    expect(parsed.images).toEqual({ plateJpegBase64Chars: payload.images.plateJpeg.length, overviewJpegBase64Chars: payload.images.overviewJpeg.length });
  });
});
