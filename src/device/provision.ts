import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { ConfigError, stripJsonComments, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { redactUri } from '../capture/index.js';
import { appendAccessLog } from '../access/access-log.js';
import { openStateDatabaseFor } from '../state/database.js';
import { UserDirectory } from '../access/users.js';
import { installPublisherKeys, planPublisherKeys } from '../hotlist/publisher-keys.js';
import { AlprError, EX_DATAERR } from '../errors.js';

// P17: a technician sets the device's identity, camera, location and broker over SSH, and each step
// is in the access log. The device key never leaves the device: provisioning makes a key and a
// certificate signing request (CSR) for the department's broker CA; the signed certificate comes
// back later (`provision --cert`). Keys and CSRs are made by openssl (already a runtime dependency
// for TLS): node:crypto makes keys but has no CSR writer, and an ASN.1 library for one file is not
// worth its weight.

export class ProvisionError extends AlprError {
  constructor(message: string, field: string) {
    super(message, field, EX_DATAERR);
  }
}

export interface ProvisionAnswers {
  deviceId: string;
  cameraUrl: string;
  latitude: number;
  longitude: number;
  headingDeg: number;
  locationDescription: string;
  /** Empty: no central broker yet. */
  brokerUrl: string;
  /** The broker CA's certificate (PEM) to pin; copied into the state directory. */
  caFile?: string;
  stateDir: string;
  admin?: { username: string; trainingValidUntil: string; password: string };
  /** P10: hot-list publisher keys to trust, `ID=FILE` (copied beside the config; same id replaced). */
  publisherKeys?: string[];
  /** `http.port` (health, metrics, API, console); absent: the file's, else the default. */
  httpPort?: number;
}

export interface ProvisionResult {
  configFile: string;
  keyFile: string;
  keyCreated: boolean;
  csrFile: string;
  caFile?: string;
  admin?: string;
  adminSkipped?: string;
  steps: string[];
}

function shellUser(): string {
  return `cli:${userInfo().username}`;
}

function openssl(args: string[]): string {
  try {
    return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new ProvisionError(`openssl ${args[0]} failed: ${(e.stderr ?? e.message).trim()}`, 'openssl');
  }
}

export function tlsDir(stateDir: string): string {
  return join(stateDir, 'tls');
}

/**
 * The configuration a set of answers gives, merged over an existing one (its other settings kept):
 * `raw` is what is written (defaults stay implicit, so a later release's defaults apply), `config`
 * its validated form.
 */
export function configFor(a: ProvisionAnswers, configFile: string, existing: Record<string, unknown>, files: { caFile?: string; keyFile: string; certFile?: string; publisherKeys?: { id: string; file: string }[] }): { raw: Record<string, unknown>; config: Config } {
  const oldMqtt = (existing['mqtt'] ?? {}) as Record<string, unknown>;
  const oldHotlists = (existing['hotlists'] ?? {}) as Record<string, unknown>;
  const newKeys = files.publisherKeys ?? [];
  const keptKeys = ((oldHotlists['publisherKeys'] ?? []) as { id: string }[]).filter((k) => !newKeys.some((n) => n.id === k.id));
  const oldTls = (oldMqtt['tls'] ?? {}) as Record<string, unknown>;
  const oldCameras = (existing['cameras'] ?? []) as Record<string, unknown>[];
  const raw = {
    ...existing,
    deviceId: a.deviceId,
    location: { latitude: a.latitude, longitude: a.longitude, headingDeg: a.headingDeg, description: a.locationDescription },
    // The first camera is the one provisioned; more are added by editing the file.
    cameras: [{ ...(oldCameras[0] ?? {}), id: (oldCameras[0]?.['id'] as string | undefined) ?? 'cam1', uri: a.cameraUrl }, ...oldCameras.slice(1)],
    stateDir: a.stateDir,
    mqtt: {
      ...oldMqtt,
      url: a.brokerUrl,
      tls: {
        ...oldTls,
        ...(files.caFile ? { caFile: files.caFile } : {}),
        keyFile: files.keyFile,
        ...(files.certFile ? { certFile: files.certFile } : {}),
      },
    },
    ...(newKeys.length > 0 ? { hotlists: { ...oldHotlists, publisherKeys: [...keptKeys, ...newKeys] } } : {}),
    ...(a.httpPort !== undefined ? { http: { ...((existing['http'] ?? {}) as Record<string, unknown>), port: a.httpPort } } : {}),
  };
  return { raw, config: validateConfig(raw, configFile) };
}

function readExisting(configFile: string): Record<string, unknown> {
  if (!existsSync(configFile)) return {};
  try {
    return JSON.parse(stripJsonComments(readFileSync(configFile, 'utf8'))) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`${configFile}: the existing config is not valid JSON (${(err as Error).message}); move it away to provision afresh`, '(file)', configFile);
  }
}

/** Written next to the target and renamed over it: a crash leaves the old file or the new one. */
function writeAtomically(file: string, text: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

export async function provisionDevice(a: ProvisionAnswers, configFile: string): Promise<ProvisionResult> {
  const by = shellUser();
  const steps: string[] = [];
  const existing = readExisting(configFile);
  const tls = tlsDir(a.stateDir);
  const keyFile = join(tls, 'device.key');
  const csrFile = join(tls, 'device.csr');
  const certFile = join(tls, 'device.crt');
  const caTarget = a.caFile ? join(tls, 'broker-ca.crt') : ((existing['mqtt'] as { tls?: { caFile?: string } } | undefined)?.tls?.caFile || undefined);
  // Validated before anything is written: a typo fails here naming the field (exit 78).
  const publisherKeys = planPublisherKeys(configFile, a.publisherKeys ?? []);
  const { raw, config } = configFor(a, configFile, existing, { caFile: caTarget, keyFile, certFile: existsSync(certFile) ? certFile : undefined, publisherKeys: publisherKeys.map(({ id, file }) => ({ id, file })) });
  if (a.caFile) {
    try {
      new X509Certificate(readFileSync(a.caFile));
    } catch (err) {
      throw new ProvisionError(`--ca ${a.caFile}: not a PEM certificate (${(err as Error).message})`, 'ca');
    }
  }

  mkdirSync(tls, { recursive: true, mode: 0o700 });
  const db = openStateDatabaseFor(config);
  try {
    // The key is kept across re-provisioning (the signed certificate stays valid); a new one only
    // when none exists.
    const keyCreated = !existsSync(keyFile);
    if (keyCreated) {
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
      chmodSync(keyFile, 0o600);
    }
    const fingerprint = publicKeyFingerprint(readFileSync(keyFile));
    appendAccessLog(db, { user: by, action: 'device.key', parameters: { keyFile, created: keyCreated, algorithm: 'EC P-256', publicKeySha256: fingerprint }, result: 'ok' });
    steps.push(keyCreated ? `device key created: ${keyFile}` : `device key kept: ${keyFile}`);

    openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${a.deviceId}/O=alpr-edge`, '-out', csrFile]);
    appendAccessLog(db, { user: by, action: 'device.key', parameters: { csrFile, subject: `CN=${a.deviceId}`, publicKeySha256: fingerprint }, result: 'ok' });
    steps.push(`certificate signing request for CN=${a.deviceId}: ${csrFile}`);

    if (a.caFile) {
      copyFileSync(a.caFile, caTarget!);
      steps.push(`broker CA pinned: ${caTarget}`);
    }

    installPublisherKeys(publisherKeys);
    for (const k of publisherKeys) {
      appendAccessLog(db, { user: by, action: 'config.change', parameters: { change: 'publisher-key-added', setting: 'hotlists.publisherKeys', keyId: k.id, file: k.file, publicKeySha256: k.sha256, configFile, via: 'provision' }, result: 'ok' });
      steps.push(`hot-list publisher key trusted: ${k.id} (sha256 ${k.sha256})`);
    }

    const text = JSON.stringify(raw, null, 2) + '\n';
    writeAtomically(configFile, text, 0o640);
    appendAccessLog(db, {
      user: by,
      action: 'device.provision',
      parameters: {
        configFile,
        configSha256: createHash('sha256').update(text).digest('hex'),
        deviceId: a.deviceId,
        camera: redactUri(a.cameraUrl),
        location: { latitude: a.latitude, longitude: a.longitude, headingDeg: a.headingDeg },
        broker: a.brokerUrl ? redactUri(a.brokerUrl) : null,
        caFile: caTarget ?? null,
      },
      result: 'ok',
    });
    steps.push(`config written: ${configFile}`);

    let admin: string | undefined;
    let adminSkipped: string | undefined;
    if (a.admin) {
      const users = new UserDirectory(db, config.access);
      if (users.hasAdministrator()) adminSkipped = 'an administrator exists already; add more with alpr-edge user add --as <admin>';
      else {
        // UserDirectory.add writes its own user.add entry (P6).
        await users.add({ username: a.admin.username, role: 'administrator', trainingValidUntil: a.admin.trainingValidUntil, password: a.admin.password }, by);
        admin = a.admin.username;
        steps.push(`first administrator created: ${admin}`);
      }
    }
    const owner = handOver(a.stateDir, configFile);
    if (owner) steps.push(owner);
    return { configFile, keyFile, keyCreated, csrFile, ...(caTarget ? { caFile: caTarget } : {}), ...(admin ? { admin } : {}), ...(adminSkipped ? { adminSkipped } : {}), steps };
  } finally {
    await db.root.close();
  }
}

/**
 * Provisioning runs as root; the daemon runs as the `alpr-edge` user (systemd/alpr-edge.service), so
 * the state directory becomes its own and the config readable to its group. Nothing to do when not
 * root or when that user does not exist (development machines).
 */
function handOver(stateDir: string, configFile: string, user = 'alpr-edge'): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return undefined;
  }
  const walk = (p: string): void => {
    chownSync(p, uid, gid);
    if (statSync(p).isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(stateDir);
  chownSync(configFile, 0, gid);
  return `state directory handed to user ${user}; config readable to group ${user}`;
}

function publicKeyFingerprint(keyPem: Buffer): string {
  return createHash('sha256').update(createPublicKey(keyPem).export({ type: 'spki', format: 'der' })).digest('hex');
}

export interface CertInstall {
  certFile: string;
  subject: string;
  issuer: string;
  validTo: string;
  fingerprint256: string;
}

/**
 * Installs the certificate the broker CA signed for our CSR: it must carry our key, chain to the
 * pinned CA and be valid now. Then the config points at it.
 */
export async function installCertificate(certPath: string, configFile: string): Promise<CertInstall> {
  const existing = readExisting(configFile);
  if (!existing['deviceId']) throw new ProvisionError(`${configFile}: not provisioned yet; run alpr-edge provision first`, 'config');
  const stateDir = (existing['stateDir'] as string | undefined) ?? '/var/lib/alpr-edge';
  const tls = tlsDir(stateDir);
  const keyFile = join(tls, 'device.key');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certPath));
  } catch (err) {
    throw new ProvisionError(`--cert ${certPath}: not a PEM certificate (${(err as Error).message})`, 'cert');
  }
  if (!existsSync(keyFile)) throw new ProvisionError(`no device key at ${keyFile}; run alpr-edge provision first`, 'cert');
  if (!cert.checkPrivateKey(createPrivateKey(readFileSync(keyFile)))) throw new ProvisionError(`--cert ${certPath} was not issued for this device's key (${keyFile}); send ${join(tls, 'device.csr')} to the CA`, 'cert');
  const now = Date.now();
  if (Date.parse(cert.validTo) < now || Date.parse(cert.validFrom) > now) throw new ProvisionError(`--cert ${certPath} is not valid now (valid ${cert.validFrom} to ${cert.validTo}); check the clock and the certificate`, 'cert');
  const caFile = ((existing['mqtt'] as { tls?: { caFile?: string } } | undefined)?.tls?.caFile) || '';
  if (caFile) {
    const ca = new X509Certificate(readFileSync(caFile));
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new ProvisionError(`--cert ${certPath} is not signed by the pinned broker CA ${caFile} (${ca.subject.replace(/\n/g, ', ')})`, 'cert');
  }
  const certFile = join(tls, 'device.crt');
  copyFileSync(certPath, certFile);
  const mqtt = (existing['mqtt'] ?? {}) as Record<string, unknown>;
  const raw = { ...existing, mqtt: { ...mqtt, tls: { ...((mqtt['tls'] ?? {}) as object), keyFile, certFile } } };
  const config = validateConfig(raw, configFile);
  const text = JSON.stringify(raw, null, 2) + '\n';
  writeAtomically(configFile, text, 0o640);
  const result: CertInstall = { certFile, subject: cert.subject.replace(/\n/g, ', '), issuer: cert.issuer.replace(/\n/g, ', '), validTo: cert.validTo, fingerprint256: cert.fingerprint256 };
  const db = openStateDatabaseFor(config);
  try {
    appendAccessLog(db, { user: shellUser(), action: 'device.cert', parameters: { ...result, configFile, configSha256: createHash('sha256').update(text).digest('hex') }, result: 'ok' });
  } finally {
    await db.root.close();
  }
  return result;
}
