import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AlprError, EX_CONFIG, EX_DATAERR, EX_NOPERM, type ExitCode } from '../errors.js';

/** A key file that is missing, unreadable or readable by others; names the file and the fix. */
export class DeviceKeyError extends AlprError {
  constructor(message: string, readonly file: string, exitCode: ExitCode = EX_CONFIG, options?: ErrorOptions) {
    super(message, file, exitCode, options);
  }
}

/** A record that does not decrypt: corrupt, or sealed with a key this device no longer has. */
export class SealError extends AlprError {
  constructor(message: string, readonly keyId: string) {
    super(message, `keys/data-${keyId}.key`, EX_DATAERR);
  }
}

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY = /^data-([0-9a-f]{8})\.key$/;

function writeSecret(file: string, data: Buffer | string): void {
  // P16: key files are created 0600 (written to a temporary name, then renamed, so a crash never
  // leaves a half-written key).
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function readSecret(file: string): Buffer {
  const st = statSync(file);
  if ((st.mode & 0o077) !== 0) {
    throw new DeviceKeyError(`${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${file}`, file);
  }
  return readFileSync(file);
}

/**
 * The device's keys in `<stateDir>/keys`: AES-256-GCM data keys (one file each, id in the name, the
 * current one named in `current`) that seal plate text and images at rest (P16), and an Ed25519 key
 * that signs export bundles (P4). Old data keys are kept so records sealed before a rotation stay
 * readable until retention removes them.
 */
export class DeviceKeys {
  private readonly dataKeys = new Map<string, Buffer>();
  private currentId: string;
  private signingKey: KeyObject;

  private constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir)) {
      const m = DATA_KEY.exec(name);
      if (!m) continue;
      const key = readSecret(join(dir, name));
      if (key.length !== KEY_BYTES) throw new DeviceKeyError(`${join(dir, name)} holds ${key.length} bytes, expected ${KEY_BYTES}`, join(dir, name));
      this.dataKeys.set(m[1]!, key);
    }
    const currentFile = join(dir, 'current');
    if (existsSync(currentFile)) {
      this.currentId = readFileSync(currentFile, 'utf8').trim();
      if (!this.dataKeys.has(this.currentId)) throw new DeviceKeyError(`${currentFile} names key ${this.currentId}, but data-${this.currentId}.key is missing`, currentFile);
    } else {
      this.currentId = this.createDataKey();
    }
    const signFile = join(dir, 'signing-ed25519.pem');
    if (!existsSync(signFile)) {
      const { privateKey } = generateKeyPairSync('ed25519');
      writeSecret(signFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    }
    this.signingKey = createPrivateKey(readSecret(signFile));
  }

  /**
   * The HMAC secret of API tokens (`api-token.key`, 0600), made on first use. On disk rather than in
   * memory so a token stays valid across a daemon restart until it expires; deleting the file (and
   * restarting) ends every token at once.
   */
  apiTokenSecret(): Buffer {
    const file = join(this.dir, 'api-token.key');
    if (!existsSync(file)) writeSecret(file, randomBytes(KEY_BYTES));
    const secret = readSecret(file);
    if (secret.length !== KEY_BYTES) throw new DeviceKeyError(`${file} holds ${secret.length} bytes, expected ${KEY_BYTES}`, file);
    return secret;
  }

  static open(dir: string): DeviceKeys {
    try {
      return new DeviceKeys(dir);
    } catch (err) {
      // A shell command run by someone who may not read the keys (not root, not the daemon's user):
      // one line saying so, exit 77, not a stack trace from inside fs.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') {
        const path = (err as NodeJS.ErrnoException).path ?? dir;
        throw new DeviceKeyError(`cannot read the device keys: ${path} (${code}); run the command as root or as the daemon's user (sudo -u alpr-edge)`, path, EX_NOPERM, { cause: err });
      }
      throw err;
    }
  }

  get currentKeyId(): string {
    return this.currentId;
  }

  get keyIds(): string[] {
    return [...this.dataKeys.keys()];
  }

  private createDataKey(): string {
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (this.dataKeys.has(id));
    const key = randomBytes(KEY_BYTES);
    writeSecret(join(this.dir, `data-${id}.key`), key);
    writeSecret(join(this.dir, 'current'), id + '\n');
    this.dataKeys.set(id, key);
    return id;
  }

  /** New records are sealed with a fresh key; old keys stay for reading. Returns the new key id. */
  rotate(): string {
    this.currentId = this.createDataKey();
    return this.currentId;
  }

  private key(id: string): Buffer {
    let k = this.dataKeys.get(id);
    // A key made by another process since this one opened (`key rotate` while the daemon runs):
    // read it from its file, so what that process sealed opens here too.
    if (!k && /^[0-9a-f]{8}$/.test(id) && existsSync(join(this.dir, `data-${id}.key`))) {
      const file = join(this.dir, `data-${id}.key`);
      k = readSecret(file);
      if (k.length !== KEY_BYTES) throw new DeviceKeyError(`${file} holds ${k.length} bytes, expected ${KEY_BYTES}`, file);
      this.dataKeys.set(id, k);
    }
    if (!k) throw new SealError(`no data key ${id} in ${this.dir}`, id);
    return k;
  }

  /** AES-256-GCM: iv ‖ tag ‖ ciphertext. `aad` binds the blob to its record (a blob moved to another read fails). */
  seal(plain: Buffer, aad: string, keyId = this.currentId): Buffer {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key(keyId), iv);
    c.setAAD(Buffer.from(aad));
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]);
  }

  open(blob: Buffer | Uint8Array, aad: string, keyId: string): Buffer {
    const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    if (b.length < IV_BYTES + TAG_BYTES) throw new SealError('sealed record too short', keyId);
    try {
      const d = createDecipheriv('aes-256-gcm', this.key(keyId), b.subarray(0, IV_BYTES));
      d.setAAD(Buffer.from(aad));
      d.setAuthTag(b.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([d.update(b.subarray(IV_BYTES + TAG_BYTES)), d.final()]);
    } catch (err) {
      if (err instanceof SealError) throw err;
      throw new SealError(`sealed record fails authentication (${(err as Error).message})`, keyId);
    }
  }

  /** A keyed tag of an index term, so plate indexes can be searched without plate text on disk. */
  indexTag(keyId: string, term: string): string {
    return createHmac('sha256', this.key(keyId)).update('index\0' + term).digest('base64url').slice(0, 22);
  }

  signDetached(data: Buffer): Buffer {
    return sign(null, data, this.signingKey);
  }

  get signingPublicKeyPem(): string {
    return createPublicKey(this.signingKey).export({ type: 'spki', format: 'pem' }) as string;
  }
}

/**
 * What other components need of the device keys to keep personal data off the disk in the clear
 * (P16): the access log, evidence holds, local hot-list entries, the MQTT outbox and the hot-list
 * shell queue seal with it.
 */
export type Sealer = Pick<DeviceKeys, 'currentKeyId' | 'seal' | 'open'>;

/**
 * A JSON value as it lies on disk, sealed with the device's data key `kid` (AES-256-GCM, base64 of
 * iv ‖ tag ‖ ciphertext) and bound to its place by `aad`: a sealed value copied to another record
 * does not open there. The one on-disk form of sealed plate text outside the read store (access-log
 * parameters, evidence-hold queries, local hot-list entries), so all of them open the same way.
 */
export interface SealedValue {
  $sealed: string;
  kid: string;
}

export function isSealedValue(v: unknown): v is SealedValue {
  return typeof v === 'object' && v !== null && typeof (v as SealedValue).$sealed === 'string' && typeof (v as SealedValue).kid === 'string';
}

/** P16: seals `value` (as JSON) with the current data key, bound to `aad`. */
export function sealValue(sealer: Sealer, value: unknown, aad: string): SealedValue {
  const kid = sealer.currentKeyId;
  return { $sealed: sealer.seal(Buffer.from(JSON.stringify(value)), aad, kid).toString('base64'), kid };
}

/** The value `sealValue` sealed; throws SealError when it does not open with `aad` (moved, altered, key gone). */
export function openValue(sealer: Sealer, sealed: SealedValue, aad: string): unknown {
  return JSON.parse(sealer.open(Buffer.from(sealed.$sealed, 'base64'), aad, sealed.kid).toString('utf8')) as unknown;
}

/** The device keys of a state directory (`<stateDir>/keys`), made on first use. */
export function openDeviceKeys(stateDir: string): DeviceKeys {
  return DeviceKeys.open(join(stateDir, 'keys'));
}

export function verifyDetached(data: Buffer, signature: Buffer, publicKeyPem: string): boolean {
  try {
    return verify(null, data, createPublicKey(publicKeyPem), signature);
  } catch {
    return false;
  }
}

/** sha256 (hex) of an Ed25519 public key's SPKI PEM: what exports, anchors and audit samples name a device key by. */
export function keyFingerprint(publicKeyPem: string): string {
  return createHash('sha256').update(publicKeyPem.trim()).digest('hex');
}
