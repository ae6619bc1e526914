import { createHash, type KeyObject } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { readRawConfig, writeRawConfig } from '../config/edit.js';
import { resolveInstallPath } from '../config/load.js';
import type { Config, HotListsConfig } from '../config/schema.js';
import { loadPublicKey } from './signed-list.js';
import { AlprError, EX_DATAERR } from '../errors.js';

// P10: the keys a device trusts to sign hot lists are `hotlists.publisherKeys` in the config.
// `hotlist keys add|remove` (and `provision --publisher-key`) edit that setting and keep a copy of
// the PEM beside the config, so the key does not vanish with the file it came from; the running
// daemon takes the change on `systemctl reload alpr-edge` (SIGHUP). It leaves a note of the key ids
// it trusts in the state directory, so `hotlist import` can say when it would not load a list.

/** A publisher key the command cannot add or remove: one line naming it, exit 65. */
export class PublisherKeyError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_DATAERR);
  }
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** SHA-256 of the key's SubjectPublicKeyInfo: what a publisher reads out to compare by phone. */
export function publisherKeyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function publisherKeyPath(file: string): string {
  return isAbsolute(file) ? file : resolveInstallPath(file);
}

/** Where copies of added keys live: `<config dir>/publisher-keys/<id>.pem`. */
export function publisherKeyDir(configFile: string): string {
  return join(dirname(resolve(configFile)), 'publisher-keys');
}

function readKey(id: string, pemFile: string, flag = '--file '): { pem: string; key: KeyObject } {
  let pem: string;
  try {
    pem = readFileSync(pemFile, 'utf8');
  } catch (err) {
    throw new PublisherKeyError(`${flag}${pemFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'file');
  }
  try {
    return { pem, key: loadPublicKey(pem, id) };
  } catch (err) {
    throw new PublisherKeyError(`${flag}${pemFile}: ${(err as Error).message}`, 'file');
  }
}

export interface PublisherKeyInfo {
  id: string;
  file: string;
  /** SHA-256 of the public key; null when the file cannot be read as an Ed25519 key. */
  sha256: string | null;
  problem?: string;
}

export function describePublisherKeys(cfg: HotListsConfig): PublisherKeyInfo[] {
  return cfg.publisherKeys.map((k) => {
    try {
      return { id: k.id, file: k.file, sha256: publisherKeyFingerprint(loadPublicKey(readFileSync(publisherKeyPath(k.file), 'utf8'), k.id)) };
    } catch (err) {
      return { id: k.id, file: k.file, sha256: null, problem: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
    }
  });
}

function rawKeys(raw: Record<string, unknown>): { hotlists: Record<string, unknown>; keys: { id: string; file: string }[] } {
  const hotlists = (raw['hotlists'] ?? {}) as Record<string, unknown>;
  return { hotlists, keys: Array.isArray(hotlists['publisherKeys']) ? (hotlists['publisherKeys'] as { id: string; file: string }[]) : [] };
}

/**
 * Adds key `id` to the config file: checks it is an Ed25519 public key, copies it beside the config,
 * and rewrites the config (validated first; nothing is written when it would not be valid).
 */
export function addPublisherKey(configFile: string, id: string, pemFile: string): { config: Config; key: PublisherKeyInfo } {
  if (!KEY_ID.test(id)) throw new PublisherKeyError(`--id "${id}" must be 1–64 letters, digits, "_", "." or "-" (the key id the publisher signs with)`, 'id');
  const { pem, key } = readKey(id, pemFile);
  const sha256 = publisherKeyFingerprint(key);
  const raw = readRawConfig(configFile);
  const { hotlists, keys } = rawKeys(raw);
  if (keys.some((k) => k.id === id)) throw new PublisherKeyError(`publisher key "${id}" is configured already; remove it first to replace it (alpr-edge hotlist keys remove --id ${id})`, 'id');
  for (const k of describePublisherKeys({ publisherKeys: keys } as HotListsConfig)) {
    if (k.sha256 === sha256) throw new PublisherKeyError(`this key is configured already as "${k.id}" (sha256 ${sha256})`, 'file');
  }
  const dir = publisherKeyDir(configFile);
  const target = join(dir, `${id}.pem`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = `${target}.tmp-${process.pid}`;
  writeFileSync(tmp, pem, { mode: 0o644 });
  renameSync(tmp, target);
  try {
    const config = writeRawConfig(configFile, { ...raw, hotlists: { ...hotlists, publisherKeys: [...keys, { id, file: target }] } });
    return { config, key: { id, file: target, sha256 } };
  } catch (err) {
    unlinkSync(target);
    throw err;
  }
}

/** Removes key `id` from the config file, and its copy when `keys add` made it. */
export function removePublisherKey(configFile: string, id: string): { config: Config; removed: PublisherKeyInfo } {
  const raw = readRawConfig(configFile);
  const { hotlists, keys } = rawKeys(raw);
  const found = keys.find((k) => k.id === id);
  if (!found) throw new PublisherKeyError(`publisher key "${id}" is not configured (alpr-edge hotlist keys list)`, 'id');
  const removed = describePublisherKeys({ publisherKeys: [found] } as HotListsConfig)[0]!;
  const config = writeRawConfig(configFile, { ...raw, hotlists: { ...hotlists, publisherKeys: keys.filter((k) => k.id !== id) } });
  const copy = join(publisherKeyDir(configFile), `${id}.pem`);
  if (resolve(publisherKeyPath(found.file)) === copy && existsSync(copy)) unlinkSync(copy);
  return { config, removed };
}

export interface PlannedPublisherKey {
  id: string;
  /** Where the copy goes; what `hotlists.publisherKeys` names. */
  file: string;
  source: string;
  sha256: string;
}

/** Keys given to `provision` (`--publisher-key ID=FILE`), checked before anything is written. */
export function planPublisherKeys(configFile: string, given: string[]): PlannedPublisherKey[] {
  const seen = new Set<string>();
  return given.map((arg) => {
    const eq = arg.indexOf('=');
    const id = eq > 0 ? arg.slice(0, eq) : '';
    const source = eq > 0 ? arg.slice(eq + 1) : '';
    if (!KEY_ID.test(id) || !source) throw new PublisherKeyError(`--publisher-key ${arg}: give ID=FILE, the id 1–64 letters, digits, "_", "." or "-" (the key id the publisher signs with)`, 'publisher-key');
    if (seen.has(id)) throw new PublisherKeyError(`--publisher-key ${arg}: "${id}" is given twice`, 'publisher-key');
    seen.add(id);
    const { key } = readKey(id, source, `--publisher-key ${id}=`);
    return { id, file: join(publisherKeyDir(configFile), `${id}.pem`), source, sha256: publisherKeyFingerprint(key) };
  });
}

/** Copies planned keys beside the config. */
export function installPublisherKeys(planned: PlannedPublisherKey[]): void {
  for (const k of planned) {
    mkdirSync(dirname(k.file), { recursive: true, mode: 0o755 });
    copyFileSync(k.source, k.file);
  }
}

// --- what the running daemon trusts ---

interface DaemonTrust {
  pid: number;
  keyIds: string[];
  at: string;
}

function trustFile(stateDir: string): string {
  return join(stateDir, 'hotlists', 'daemon-keys.json');
}

/** Written by the daemon's hot-list extension at start and on every reload. */
export function recordDaemonTrust(stateDir: string, keyIds: string[]): void {
  const file = trustFile(stateDir);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, keyIds, at: new Date().toISOString() } satisfies DaemonTrust), { mode: 0o644 });
  renameSync(tmp, file);
}

/** Removed when the daemon stops (a note left by a killed daemon is ignored: its pid is gone). */
export function clearDaemonTrust(stateDir: string): void {
  try {
    const t = JSON.parse(readFileSync(trustFile(stateDir), 'utf8')) as DaemonTrust;
    if (t.pid === process.pid) unlinkSync(trustFile(stateDir));
  } catch {
    // Nothing recorded, or unreadable: nothing to clear.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The key ids the daemon running on this state directory trusts; undefined when none is running. */
export function runningDaemonTrust(stateDir: string): DaemonTrust | undefined {
  try {
    const t = JSON.parse(readFileSync(trustFile(stateDir), 'utf8')) as DaemonTrust;
    if (!Number.isInteger(t.pid) || !Array.isArray(t.keyIds) || !alive(t.pid)) return undefined;
    return t;
  } catch {
    return undefined;
  }
}
