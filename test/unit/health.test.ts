import { describe, expect, it } from 'vitest';
import { assessHealth } from '../../src/health/health.js';
import type { CameraStatus } from '../../src/capture/frame.js';

const now = 1_000_000;
const status = (s: Partial<CameraStatus>): CameraStatus => ({ id: 'c1', state: 'online', framesIn: 10, framesDropped: 0, decodeErrors: 0, reconnects: 0, lastFrameAtMs: now - 100, ...s });
const models = { version: 'm', interim: true };

describe('progress-based health', () => {
  it('is ok while frames arrive and inference keeps up', () => {
    const r = assessHealth([{ status: status({}), lastAnalysedAtMs: now - 200, framesAnalysed: 5 }], now, 5000, now - 60_000, '0', models);
    expect(r.status).toBe('ok');
    expect(r.cameras[0]!.lastFrameAgeMs).toBe(100);
  });
  it('is stalled when inference stops advancing although frames arrive', () => {
    const r = assessHealth([{ status: status({}), lastAnalysedAtMs: now - 9000, framesAnalysed: 5 }], now, 5000, now - 60_000, '0', models);
    expect(r.status).toBe('stalled');
  });
  it('is stalled when a camera is reconnecting, with the reason', () => {
    const r = assessHealth([{ status: status({ state: 'reconnecting', reason: 'connection refused' }), lastAnalysedAtMs: now - 100, framesAnalysed: 5 }], now, 5000, now - 60_000, '0', models);
    expect(r.status).toBe('stalled');
    expect(r.cameras[0]!.reason).toBe('connection refused');
  });
  it('gives a grace period at start', () => {
    const r = assessHealth([{ status: status({ state: 'starting', lastFrameAtMs: undefined }), lastAnalysedAtMs: undefined, framesAnalysed: 0 }], now, 5000, now - 1000, '0', models);
    expect(r.status).toBe('starting');
  });
  it('carries counts only, never plates or images (P1), even from inputs that hold them', () => {
    // Inputs as a careless capture or pipeline might hand them over: the report copies named counts
    // and ages, so none of this may come through.
    const leaky = { ...status({}), lastPlate: 'ZZTEST1', plateJpeg: Buffer.from('ffd8', 'hex'), location: { latitude: 37.1 } } as CameraStatus;
    const progress = { status: leaky, lastAnalysedAtMs: now, framesAnalysed: 1, lastRead: { plate: 'ZZTEST1', overviewJpeg: 'ffd8' } };
    const r = assessHealth([progress], now, 5000, now, '0', models);
    expect(r.cameras[0]).toMatchObject({ framesIn: 10, framesAnalysed: 1 });
    expect(JSON.stringify(r)).not.toMatch(/ZZTEST1|plate|jpeg|latitude|ffd8/i);
  });
});

describe('component health', () => {
  const cam = [{ status: status({}), lastAnalysedAtMs: now - 100, framesAnalysed: 5 }];
  it('is degraded (still 200) when a component needs attention', () => {
    expect(assessHealth(cam, now, 5000, now - 60_000, '0', models, { hotlist: { status: 'degraded', staleLists: 1 } }).status).toBe('degraded');
  });
  it('fails when a component has failed', () => {
    expect(assessHealth(cam, now, 5000, now - 60_000, '0', models, { store: { status: 'failed' } }).status).toBe('failed');
  });
});
