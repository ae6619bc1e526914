// Child process for the purge crash test: opens a store and purges it, printing `ready` first so
// the parent can SIGKILL it part-way. Uses the compiled store (dist/), like store-crash-child.mjs.
import { join } from 'node:path';
import pino from 'pino';
import { defaultConfig } from '../../dist/src/config/defaults.js';
import { openStateDatabaseFor, storePath } from '../../dist/src/state/database.js';
import { DeviceKeys } from '../../dist/src/state/device-keys.js';
import { ReadStore } from '../../dist/src/store/read-store.js';

const [stateDir, nowMs] = process.argv.slice(2);
const config = defaultConfig({ stateDir, store: { retentionDays: 30, purgeBatchSize: 10 } });
const db = openStateDatabaseFor(config);
const store = new ReadStore(db, DeviceKeys.open(join(stateDir, 'keys')), config.store, pino({ level: 'silent' }), storePath(config));
process.stdout.write('ready\n');
const r = await store.purgeExpired(Number(nowMs));
process.stdout.write(`done ${r.purged}\n`);
await db.root.close();
