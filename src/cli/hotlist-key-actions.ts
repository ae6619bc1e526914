import { userInfo } from 'node:os';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { appendAccessLog } from '../access/access-log.js';
import { openStateDatabaseFor } from '../state/database.js';
import { HotListRepository } from '../hotlist/repository.js';
import { loadPublisherKeys } from '../hotlist/extension.js';
import { addPublisherKey, describePublisherKeys, removePublisherKey, runningDaemonTrust } from '../hotlist/publisher-keys.js';

/** P6: a change of the keys the device trusts is on the record like any other config change. */
async function logKeyChange(config: Config, configFile: string, change: 'publisher-key-added' | 'publisher-key-removed', key: { id: string; file: string; sha256: string | null }): Promise<void> {
  const db = openStateDatabaseFor(config);
  try {
    appendAccessLog(db, { user: `cli:${userInfo().username}`, action: 'config.change', parameters: { change, setting: 'hotlists.publisherKeys', keyId: key.id, file: key.file, publicKeySha256: key.sha256, configFile, via: 'cli' }, result: 'ok' });
  } finally {
    await db.root.close();
  }
}

/** What the running daemon will do about the change, in one line. */
function daemonNote(config: Config, keyId: string, added: boolean): string {
  const trust = runningDaemonTrust(config.stateDir);
  if (!trust) return 'no daemon is running on this state directory; it uses the key from its next start';
  if (trust.keyIds.includes(keyId) === added) return `the running daemon (pid ${trust.pid}) ${added ? 'trusts' : 'no longer trusts'} it already`;
  return `the running daemon (pid ${trust.pid}) ${added ? 'trusts it' : 'stops trusting it'} after: sudo systemctl reload alpr-edge (or kill -HUP ${trust.pid})`;
}

/** Trusts a publisher key: copied beside the config and added to hotlists.publisherKeys. */
export async function addKey(o: { id: string; file: string; config: string }): Promise<void> {
  const { config, key } = addPublisherKey(o.config, o.id, o.file);
  await logKeyChange(config, o.config, 'publisher-key-added', key);
  process.stdout.write(`added publisher key ${key.id} (sha256 ${key.sha256}) → ${key.file}\n${daemonNote(config, key.id, true)}\n`);
}

/** The configured publisher keys with their fingerprints, and which the running daemon uses. */
export function listKeys(o: { config: string; json: boolean }): void {
  const config = loadConfig(o.config);
  const trust = runningDaemonTrust(config.stateDir);
  const rows = describePublisherKeys(config.hotlists).map((k) => ({ ...k, daemonTrusts: trust ? trust.keyIds.includes(k.id) : null }));
  if (o.json) {
    process.stdout.write(JSON.stringify({ keys: rows, daemon: trust ? { pid: trust.pid, keyIds: trust.keyIds } : null }, null, 2) + '\n');
    return;
  }
  if (rows.length === 0) process.stdout.write('no publisher keys configured: every signed list is refused (alpr-edge hotlist keys add --id ID --file KEY.pem)\n');
  for (const k of rows) {
    const daemon = k.daemonTrusts === null ? '' : k.daemonTrusts ? '  (running daemon: trusted)' : '  (running daemon: not yet: systemctl reload alpr-edge)';
    process.stdout.write(`${k.id}  ${k.sha256 ?? `unreadable: ${k.problem}`}  ${k.file}${daemon}\n`);
  }
  const extra = trust?.keyIds.filter((id) => !rows.some((k) => k.id === id)) ?? [];
  if (extra.length > 0) process.stdout.write(`the running daemon still trusts removed key(s) ${extra.join(', ')} until: systemctl reload alpr-edge\n`);
}

/** Stops trusting a publisher key; says which stored lists no longer load. */
export async function removeKey(o: { id: string; config: string }): Promise<void> {
  const { config, removed } = removePublisherKey(o.config, o.id);
  await logKeyChange(config, o.config, 'publisher-key-removed', removed);
  // Lists that only the removed key vouched for no longer verify: say which.
  const orphaned = new HotListRepository(config.stateDir, loadPublisherKeys(config.hotlists), config.hotlists.maxListBytes).loadAll().errors.map((e) => e.file);
  process.stdout.write(`removed publisher key ${removed.id}\n${daemonNote(config, removed.id, false)}\n`);
  if (orphaned.length > 0) process.stdout.write(`stored lists no longer loaded: ${orphaned.join(', ')}\n`);
}
