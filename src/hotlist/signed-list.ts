import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { HotListBodySchema, isPartialPlate, type HotList, type HotListBody } from './list.js';

// Signed list files (P10). A file is gzip( header line + "\n" + body ), where the header is JSON
// naming the key and carrying an Ed25519 signature over the exact body bytes. Signing bytes, not a
// re-serialised object, means no canonical-JSON step and no way for two parsers to disagree about
// what was signed.

export const SIGNED_LIST_FORMAT = 'alpr-edge-hotlist/1';

export type RejectReason = 'unavailable' | 'malformed' | 'too-large' | 'unknown-key' | 'bad-signature' | 'invalid-body' | 'replay';

/** A list the device refused; `reason` is machine-readable and goes on the response/event topic. */
export class HotListRejectedError extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(`hot list refused (${reason}): ${message}`);
    this.name = 'HotListRejectedError';
  }
}

interface SignedHeader {
  format: string;
  keyId: string;
  alg: 'ed25519';
  bodySha256: string;
  signature: string;
}

const HEADER_KEYS = ['format', 'keyId', 'alg', 'bodySha256', 'signature'];

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const ajv = addFormats(new Ajv({ allErrors: false, strict: false }));
const validateBody = ajv.compile<HotListBody>(HotListBodySchema);

/** Publisher side: signs a list body with an Ed25519 private key (PEM). */
export function signHotList(body: HotListBody, privateKeyPem: string, keyId: string): Buffer {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`signing key "${keyId}" is ${key.asymmetricKeyType}, expected ed25519`);
  const bodyBytes = Buffer.from(JSON.stringify(body));
  const header: SignedHeader = {
    format: SIGNED_LIST_FORMAT,
    keyId,
    alg: 'ed25519',
    bodySha256: createHash('sha256').update(bodyBytes).digest('hex'),
    signature: sign(null, bodyBytes, key).toString('base64'),
  };
  return gzipSync(Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), bodyBytes]));
}

export function generatePublisherKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function loadPublicKey(pem: string, keyId: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new Error(`publisher key "${keyId}" is not a PEM public key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`publisher key "${keyId}" is ${key.asymmetricKeyType}, expected ed25519`);
  return key;
}

/**
 * Verifies and parses a signed list. Everything a sender controls is checked before it is trusted:
 * size (before and after decompression), header shape, key, signature, then the body schema.
 */
export function verifySignedList(bytes: Buffer, keys: ReadonlyMap<string, KeyObject>, maxBytes: number): HotList {
  if (bytes.length > maxBytes) throw new HotListRejectedError('too-large', `${bytes.length} bytes, the limit is ${maxBytes}`);
  let raw: Buffer;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new HotListRejectedError('too-large', `decompresses to more than ${maxBytes} bytes`);
      throw new HotListRejectedError('malformed', `not valid gzip (${code ?? (err as Error).message})`);
    }
  } else raw = bytes;
  const nl = raw.indexOf(0x0a);
  if (nl <= 0 || nl > 4096) throw new HotListRejectedError('malformed', 'no header line');
  let header: SignedHeader;
  try {
    header = JSON.parse(raw.subarray(0, nl).toString('utf8')) as SignedHeader;
  } catch {
    throw new HotListRejectedError('malformed', 'header line is not JSON');
  }
  if (typeof header !== 'object' || header === null || header.format !== SIGNED_LIST_FORMAT) throw new HotListRejectedError('malformed', `header format is not "${SIGNED_LIST_FORMAT}"`);
  if (header.alg !== 'ed25519' || typeof header.keyId !== 'string' || typeof header.signature !== 'string' || typeof header.bodySha256 !== 'string') throw new HotListRejectedError('malformed', 'header needs alg "ed25519", keyId, bodySha256 and signature');
  const extra = Object.keys(header).filter((k) => !HEADER_KEYS.includes(k));
  if (extra.length > 0) throw new HotListRejectedError('malformed', `unknown header field "${extra[0]!.slice(0, 32)}"`);
  // Lenient base64 would let altered padding bits decode to the same signature; demand the canonical form.
  const signature = Buffer.from(header.signature, 'base64');
  if (signature.toString('base64') !== header.signature) throw new HotListRejectedError('malformed', 'signature is not canonical base64');
  const key = keys.get(header.keyId);
  if (!key) throw new HotListRejectedError('unknown-key', `signed by "${header.keyId.slice(0, 64)}", which is not a configured publisher key (hotlists.publisherKeys)`);
  const body = raw.subarray(nl + 1);
  if (createHash('sha256').update(body).digest('hex') !== header.bodySha256) throw new HotListRejectedError('bad-signature', 'body does not match bodySha256 (truncated or altered)');
  if (!verify(null, body, key, signature)) throw new HotListRejectedError('bad-signature', `signature by "${header.keyId}" does not verify`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HotListRejectedError('invalid-body', 'signed body is not JSON');
  }
  if (!validateBody(parsed)) {
    const e = validateBody.errors?.[0];
    throw new HotListRejectedError('invalid-body', `${e?.instancePath || '(body)'} ${e?.message ?? 'is invalid'}`);
  }
  // `partial` follows from the plate; never trust a flag that disagrees with the wildcards in it (P12).
  for (const entry of parsed.entries) entry.partial = isPartialPlate(entry.plate);
  return { ...parsed, signedBy: header.keyId };
}
