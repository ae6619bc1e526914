// Child process for the SIGKILL crash test: writes reads and access-log entries as fast as it can
// and prints an acknowledgement line only after each write has committed. Uses the compiled store
// (dist/), like the CLI tests use the compiled CLI.
import { join } from 'node:path';
import pino from 'pino';
import { defaultConfig } from '../../dist/src/config/defaults.js';
import { openStateDatabaseFor, storePath } from '../../dist/src/state/database.js';
import { DeviceKeys } from '../../dist/src/state/device-keys.js';
import { ReadStore } from '../../dist/src/store/read-store.js';
import { appendAccessLog } from '../../dist/src/access/access-log.js';
import { newReadId } from '../../dist/src/pipeline/read-id.js';

const stateDir = process.argv[2];
const config = defaultConfig({ stateDir });
const db = openStateDatabaseFor(config);
const keys = DeviceKeys.open(join(stateDir, 'keys'));
const store = new ReadStore(db, keys, config.store, pino({ level: 'silent' }), storePath(config));
const jpeg = Buffer.alloc(20_000, 0xd8);

function read(i) {
  const at = new Date().toISOString();
  return {
    id: newReadId(), deviceId: 'crash', cameraId: `cam${i % 3}`, plate: `C${String(i).padStart(6, '0')}`, state: 'CA', stateConfidence: 0.9,
    confidence: 0.9, agreement: 1, candidates: [], capturedAt: at, firstSeenAt: at, lastSeenAt: at, frames: 3,
    box: [0, 0, 10, 10], plateJpeg: jpeg, overviewJpeg: jpeg,
    location: { latitude: 0, longitude: 0, headingDeg: 0, description: '' }, modelVersion: 'crash',
  };
}

let i = 0;
process.stdout.write('ready\n');
for (;;) {
  const batch = Array.from({ length: 1 + (i % 7) }, () => read(i++));
  // Two writers at once, like the daemon (sink batches) and the API (log entries).
  const pending = store.putMany(batch);
  const entry = appendAccessLog(db, { user: 'crash', action: 'search', parameters: { reason: 'crash test', i }, result: 'ok' });
  process.stdout.write(`L ${entry.seq} ${entry.hash}\n`);
  await pending;
  process.stdout.write(`R ${batch.map((r) => r.id).join(' ')}\n`);
}
