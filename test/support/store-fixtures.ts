import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { onTestFinished } from 'vitest';
import { defaultConfig } from '../../src/config/defaults.js';
import type { Config } from '../../src/config/schema.js';
import { newReadId } from '../../src/pipeline/read-id.js';
import type { Read } from '../../src/pipeline/read.js';
import { openStateDatabaseFor, storePath } from '../../src/state/database.js';
import { DeviceKeys } from '../../src/state/device-keys.js';
import { ReadStore } from '../../src/store/read-store.js';

export const DAY_MS = 86_400_000;

/** A read as the pipeline makes it; images carry a recognisable marker so tests can look for them on disk. */
export function makeRead(plate: string, capturedAtMs: number, opts: { cameraId?: string; imageBytes?: number } = {}): Read {
  const at = new Date(capturedAtMs).toISOString();
  const image = (kind: string) => {
    const marker = Buffer.from(`JPEG-${kind}-${plate}-`);
    const b = Buffer.alloc(opts.imageBytes ?? 600);
    for (let i = 0; i < b.length; i++) b[i] = marker[i % marker.length]!;
    return b;
  };
  return {
    id: newReadId(capturedAtMs),
    deviceId: 'pole-test',
    cameraId: opts.cameraId ?? 'cam1',
    plate,
    state: 'CA',
    stateConfidence: 0.9,
    confidence: 0.95,
    agreement: 0.8,
    candidates: [{ text: plate, confidence: 0.95 }],
    capturedAt: at,
    firstSeenAt: at,
    lastSeenAt: at,
    frames: 5,
    box: [10, 20, 100, 40],
    plateJpeg: image('plate'),
    overviewJpeg: image('overview'),
    location: { latitude: 37.77, longitude: -122.41, headingDeg: 90, description: 'Main St & 1st' },
    modelVersion: 'test-1',
  };
}

export function testConfig(store: Partial<Config['store']> = {}, extra: Record<string, unknown> = {}): Config {
  const stateDir = mkdtempSync(join(tmpdir(), 'alpr-store-'));
  return defaultConfig({ stateDir, store, ...extra });
}

export const silent = pino({ level: 'silent' });

export function openTestStore(config: Config, logger = silent) {
  const db = openStateDatabaseFor(config);
  const keys = DeviceKeys.open(join(config.stateDir, 'keys'));
  const store = new ReadStore(db, keys, config.store, logger, storePath(config));
  return { db, keys, store };
}

/**
 * `openTestStore` inside a test: its environment is closed when the test ends, however it ends
 * (onTestFinished), so a failed assertion leaks nothing. A test may still close it early to reopen
 * the same directory (a restart): LMDB takes a second close as a no-op.
 */
export function openStoreForTest(config: Config, logger = silent) {
  const opened = openTestStore(config, logger);
  onTestFinished(() => opened.db.root.close());
  return opened;
}
