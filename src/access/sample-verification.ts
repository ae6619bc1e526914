import { readFileSync } from 'node:fs';
import { entryHash, type AccessLogEntry } from './access-log.js';
import { keyFingerprint, verifyDetached } from '../state/device-keys.js';

// P9: an auditor checks an audit sample (`audit sample --out FILE`) offline, as `verify-export` checks
// an export bundle: FILE.sig is the device's Ed25519 signature of FILE's exact bytes, FILE carries the
// device's public key, and the key is tied to the device by its fingerprint (`alpr-edge key show`),
// which the auditor has from the device's records, not from the file.

export interface SampleVerification {
  ok: boolean;
  problems: string[];
  /** The key in the file; only a fingerprint from elsewhere makes it the device's. */
  publicKeyFingerprint?: string;
  deviceId?: string;
  drawnBy?: string;
  from?: string;
  to?: string;
  seed?: string;
  entries?: number;
  population?: number;
  /** The chain verified on the device when the sample was drawn. */
  chainOkWhenDrawn?: boolean;
}

interface SampleFile {
  deviceId?: string;
  drawnBy?: string;
  from?: string;
  to?: string;
  seed?: string;
  population?: number;
  publicKeyPem?: string;
  entries?: (AccessLogEntry & { parametersInClear?: unknown })[];
  chain?: { ok?: boolean };
}

export function verifyAuditSample(file: string, opts: { signatureFile?: string; expectedFingerprint?: string } = {}): SampleVerification {
  const problems: string[] = [];
  let bytes: Buffer;
  let sample: SampleFile;
  try {
    bytes = readFileSync(file);
    sample = JSON.parse(bytes.toString('utf8')) as SampleFile;
  } catch (err) {
    return { ok: false, problems: [`${file} unreadable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`] };
  }
  const sigFile = opts.signatureFile ?? `${file}.sig`;
  let signature: Buffer | undefined;
  try {
    signature = Buffer.from(readFileSync(sigFile, 'utf8').trim(), 'base64');
  } catch (err) {
    problems.push(`${sigFile} unreadable: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pem = typeof sample.publicKeyPem === 'string' ? sample.publicKeyPem : '';
  if (!pem) problems.push('the sample carries no publicKeyPem');
  const fingerprint = pem ? keyFingerprint(pem) : undefined;
  if (signature && pem && !verifyDetached(bytes, signature, pem)) problems.push(`signature in ${sigFile} does not verify: the sample was changed or signed by another key`);
  if (opts.expectedFingerprint && fingerprint !== opts.expectedFingerprint) problems.push(`signed by key ${fingerprint ?? '(none)'}, expected ${opts.expectedFingerprint}`);
  // Each entry as it lay in the log: its hash must still be that of its contents.
  const entries = Array.isArray(sample.entries) ? sample.entries : [];
  for (const e of entries) {
    const { hash, parametersInClear: _clear, ...rest } = e;
    if (entryHash(rest) !== hash) problems.push(`entry ${String(e.seq)} does not match its hash`);
  }
  if (sample.chain?.ok === false) problems.push('the access-log chain did not verify when the sample was drawn');
  return {
    ok: problems.length === 0,
    problems,
    publicKeyFingerprint: fingerprint,
    deviceId: sample.deviceId,
    drawnBy: sample.drawnBy,
    from: sample.from,
    to: sample.to,
    seed: sample.seed,
    entries: entries.length,
    population: sample.population,
    chainOkWhenDrawn: sample.chain?.ok,
  };
}
