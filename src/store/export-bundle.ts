import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { appendAccessLog, appendAccessLogInTxn } from '../access/access-log.js';
import type { ShareRequest } from '../access/sharing.js';
import { keyFingerprint, verifyDetached } from '../state/device-keys.js';
import { makePrivateDir, writePrivateFile } from './private-files.js';
import { getHold, heldReadIds, HoldError, type EvidenceHold } from './evidence-holds.js';
import type { ReadStore, ReadView } from './read-store.js';
import { AlprError, EX_DATAERR } from '../errors.js';

export const EXPORT_FORMAT = 'alpr-edge-export/1';

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  deviceId: string;
  hold: string;
  caseNumber: string;
  createdAt: string;
  createdBy: string;
  /** sha256 (hex) of every file in the bundle but manifest.json and manifest.sig. */
  files: Record<string, string>;
  /** Ed25519 public key of the device (SPKI PEM) and its sha256 fingerprint, to compare with the device's. */
  publicKeyPem: string;
  publicKeyFingerprint: string;
}

/** One entry of the chain of custody: who moved the evidence, when, from where, under what authority. */
export interface CustodyEntry {
  time: string;
  action: 'exported';
  by: string;
  deviceId: string;
  hold: Pick<EvidenceHold, 'name' | 'caseNumber' | 'reason' | 'createdBy' | 'createdAt'>;
  shareRequest?: Pick<ShareRequest, 'id' | 'agency' | 'agencyState' | 'requester' | 'purpose' | 'approvedBy' | 'approvedAt'>;
  readCount: number;
}

export class ExportError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_DATAERR);
  }
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/**
 * P4: writes a self-verifying bundle of a hold's reads to `outDir` (which must be empty or absent):
 * images, reads.json, custody.json, manifest.json with every file's sha256 and manifest.sig, an
 * Ed25519 signature of the manifest by the device key. The export is logged with the manifest hash.
 */
export function exportHold(store: ReadStore, opts: { hold: string; outDir: string; by: string; deviceId: string; share?: ShareRequest; nowMs?: number }): { manifest: ExportManifest; manifestSha256: string } {
  try {
    return writeExport(store, opts);
  } catch (err) {
    // P6/P14: a refused export (no such hold, unapproved sharing request, media not empty) is logged too.
    if (err instanceof HoldError || err instanceof ExportError) {
      appendAccessLog(store.db, { user: opts.by, action: 'export', parameters: { hold: opts.hold, ...(opts.share ? { shareRequest: opts.share.id } : {}), problem: err.message, field: err.field }, result: 'refused' });
    }
    throw err;
  }
}

function writeExport(store: ReadStore, opts: Parameters<typeof exportHold>[1]): { manifest: ExportManifest; manifestSha256: string } {
  const hold = getHold(store, opts.hold);
  if (!hold || hold.releasedAt) throw new HoldError(`no active hold named "${opts.hold}"`, 'hold');
  // P14: data leaving for another agency needs an approved request on file.
  if (opts.share && opts.share.status !== 'approved') throw new ExportError(`sharing request ${opts.share.id} is ${opts.share.status}, not approved`, 'share');
  if (existsSync(opts.outDir) && readdirSync(opts.outDir).length > 0) throw new ExportError(`${opts.outDir} is not empty; export into a new directory`, 'out');
  // P16: the bundle is evidence: readable by the service account alone (0700 / 0600).
  makePrivateDir(opts.outDir);
  makePrivateDir(join(opts.outDir, 'images'));
  const now = new Date(opts.nowMs ?? Date.now()).toISOString();
  const files: Record<string, string> = {};
  const write = (rel: string, data: Buffer | string) => {
    writePrivateFile(join(opts.outDir, rel), data);
    files[rel] = sha256(data);
  };
  const reads: ReadView[] = [];
  for (const id of heldReadIds(store, hold.name)) {
    const read = store.getForExport(id);
    if (!read) continue;
    reads.push(read);
    for (const kind of ['plate', 'overview'] as const) {
      const jpeg = store.image(id, kind, undefined, { ignoreRetention: true });
      if (jpeg) write(`images/${id}-${kind}.jpg`, jpeg);
    }
  }
  write('reads.json', JSON.stringify(reads, null, 2) + '\n');
  const custody: CustodyEntry[] = [{
    time: now,
    action: 'exported',
    by: opts.by,
    deviceId: opts.deviceId,
    hold: { name: hold.name, caseNumber: hold.caseNumber, reason: hold.reason, createdBy: hold.createdBy, createdAt: hold.createdAt },
    ...(opts.share ? { shareRequest: { id: opts.share.id, agency: opts.share.agency, agencyState: opts.share.agencyState, requester: opts.share.requester, purpose: opts.share.purpose, approvedBy: opts.share.approvedBy, approvedAt: opts.share.approvedAt } } : {}),
    readCount: reads.length,
  }];
  write('custody.json', JSON.stringify(custody, null, 2) + '\n');
  const publicKeyPem = store.keys.signingPublicKeyPem;
  const manifest: ExportManifest = { format: EXPORT_FORMAT, deviceId: opts.deviceId, hold: hold.name, caseNumber: hold.caseNumber, createdAt: now, createdBy: opts.by, files, publicKeyPem, publicKeyFingerprint: keyFingerprint(publicKeyPem) };
  const manifestText = JSON.stringify(manifest, null, 2) + '\n';
  writePrivateFile(join(opts.outDir, 'manifest.json'), manifestText);
  writePrivateFile(join(opts.outDir, 'manifest.sig'), store.keys.signDetached(Buffer.from(manifestText)).toString('base64') + '\n');
  const manifestSha256 = sha256(manifestText);
  store.db.root.transactionSync(() => {
    appendAccessLogInTxn(store.db, { user: opts.by, action: 'export', parameters: { hold: hold.name, caseNumber: hold.caseNumber, readCount: reads.length, manifestSha256, ...(opts.share ? { shareRequest: opts.share.id } : {}) }, result: 'ok' });
  });
  return { manifest, manifestSha256 };
}

export interface ExportVerification {
  ok: boolean;
  problems: string[];
  files: number;
  publicKeyFingerprint?: string;
}

function listFiles(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p, root) : [relative(root, p)];
  });
}

/**
 * Checks a bundle offline, on any machine: the manifest's signature, every file's hash, and that no
 * file was added or removed. `expectedFingerprint` pins the device key (else the bundle's own key is
 * trusted and its fingerprint reported for comparison).
 */
export function verifyExport(dir: string, expectedFingerprint?: string): ExportVerification {
  const problems: string[] = [];
  let manifestText: string;
  let manifest: ExportManifest;
  try {
    manifestText = readFileSync(join(dir, 'manifest.json'), 'utf8');
    manifest = JSON.parse(manifestText) as ExportManifest;
  } catch (err) {
    return { ok: false, problems: [`manifest.json unreadable: ${(err as Error).message}`], files: 0 };
  }
  if (manifest.format !== EXPORT_FORMAT) problems.push(`manifest format is ${String(manifest.format)}, expected ${EXPORT_FORMAT}`);
  let signature: Buffer;
  try {
    signature = Buffer.from(readFileSync(join(dir, 'manifest.sig'), 'utf8').trim(), 'base64');
  } catch {
    signature = Buffer.alloc(0);
    problems.push('manifest.sig is missing');
  }
  if (signature.length && !verifyDetached(Buffer.from(manifestText), signature, manifest.publicKeyPem)) problems.push('manifest signature does not verify: manifest.json was changed or signed by another key');
  const fingerprint = keyFingerprint(manifest.publicKeyPem ?? '');
  if (fingerprint !== manifest.publicKeyFingerprint) problems.push('publicKeyFingerprint does not match publicKeyPem');
  if (expectedFingerprint && fingerprint !== expectedFingerprint) problems.push(`signed by key ${fingerprint}, expected ${expectedFingerprint}`);
  const present = new Set(listFiles(dir).filter((f) => f !== 'manifest.json' && f !== 'manifest.sig'));
  for (const [rel, hash] of Object.entries(manifest.files ?? {})) {
    if (!present.delete(rel)) {
      problems.push(`${rel} is listed in the manifest but missing`);
      continue;
    }
    if (sha256(readFileSync(join(dir, rel))) !== hash) problems.push(`${rel} was changed (sha256 mismatch)`);
  }
  for (const extra of present) problems.push(`${extra} is not in the manifest`);
  return { ok: problems.length === 0, problems, files: Object.keys(manifest.files ?? {}).length, publicKeyFingerprint: fingerprint };
}
