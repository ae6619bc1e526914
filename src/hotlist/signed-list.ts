import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Type, type Static } from '@sinclair/typebox';
import { HotListBodySchema, LIST_TYPES, type HotList, type HotListBody, type ListType, type LocalApprovalFields } from './list.js';
import { FOLDED_DIGIT, HotListEntriesBuilder, MAX_PLATE_CHARS, PLATE_BASE, PLATE_DIGIT } from './entry-table.js';
import { AlprError, EX_DATAERR } from '../errors.js';
import { lazySchema } from '../schema-validation.js';

// Signed list files (P10). A file is gzip( header line + "\n" + body ), where the header is JSON
// naming the key and carrying an Ed25519 signature over the exact body bytes. Signing bytes, not a
// re-serialised object, means no canonical-JSON step and no way for two parsers to disagree about
// what was signed. The body is one JSON line of list metadata, then one tab-separated line per
// entry (docs/hotlists.md): a 1M-entry list parses straight into typed columns, without a million
// JSON objects (issue 8: load ≤ 2 s, ≤ 100 MB).

export const SIGNED_LIST_FORMAT = 'alpr-edge-hotlist/2';

/** The body's entry columns, in order; the metadata line repeats them so a reader can check. */
export const ENTRY_COLUMNS = ['plate', 'state', 'type', 'reason', 'recordNumber', 'enteredAt', 'expiresAt', 'fuzzy', 'vehicle', 'local'] as const;

export type RejectReason = 'unavailable' | 'malformed' | 'too-large' | 'unknown-key' | 'bad-signature' | 'invalid-body' | 'replay';

/** A list the device refused; `reason` is machine-readable and goes on the response/event topic. */
export class HotListRejectedError extends AlprError {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(`hot list refused (${reason}): ${message}`, 'list', EX_DATAERR);
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

// Compiled at first use: every daemon start imports this module, few check a list (issue 23).
const validateBody = lazySchema<HotListBody>(HotListBodySchema);

const ListMeta = Type.Object(
  {
    name: HotListBodySchema.properties.name,
    source: HotListBodySchema.properties.source,
    version: HotListBodySchema.properties.version,
    issuedAt: HotListBodySchema.properties.issuedAt,
    entries: Type.Integer({ minimum: 0, maximum: HotListBodySchema.properties.entries.maxItems! }),
    columns: Type.Array(Type.String(), { maxItems: 32 }),
  },
  { additionalProperties: false },
);
const validateMeta = lazySchema<Static<typeof ListMeta>>(ListMeta);
const validateLocal = lazySchema<LocalApprovalFields>(HotListBodySchema.properties.entries.items.properties.local);

/** The publisher's list or key cannot be signed; `field` names what to fix (the list name, an entry's field, the key). */
export class HotListSignError extends AlprError {
  constructor(field: string, message: string) {
    super(`cannot sign: ${field} ${message}`, field, EX_DATAERR);
  }
}

/** Publisher side: checks and signs a list body with an Ed25519 private key (PEM). */
export function signHotList(body: HotListBody, privateKeyPem: string, keyId: string): Buffer {
  let key: KeyObject;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch (err) {
    throw new HotListSignError('key', `is not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new HotListSignError('key', `"${keyId}" is ${key.asymmetricKeyType}, expected ed25519`);
  const name: unknown = body.name;
  if (!validateBody(body)) {
    const e = validateBody.errors?.[0];
    // A name becomes a file name on the device: `../../x` is refused here, and again by the device.
    const field = e?.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(body)';
    const value = field === 'name' ? ` (got ${JSON.stringify(name).slice(0, 80)})` : '';
    throw new HotListSignError(field, `${e?.message ?? 'is invalid'}${value}`);
  }
  const bodyBytes = encodeListBody(body);
  const header: SignedHeader = {
    format: SIGNED_LIST_FORMAT,
    keyId,
    alg: 'ed25519',
    bodySha256: createHash('sha256').update(bodyBytes).digest('hex'),
    signature: sign(null, bodyBytes, key).toString('base64'),
  };
  return gzipSync(Buffer.concat([Buffer.from(JSON.stringify(header) + '\n'), bodyBytes]));
}

const escapeText = (s: string) => s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));

/** The body bytes: metadata line, then one line per entry in ENTRY_COLUMNS order. */
export function encodeListBody(body: HotListBody): Buffer {
  const meta = { name: body.name, source: body.source, version: body.version, issuedAt: new Date(body.issuedAt).toISOString(), entries: body.entries.length, columns: ENTRY_COLUMNS };
  const lines = [JSON.stringify(meta)];
  for (const e of body.entries) {
    lines.push(
      [
        e.plate,
        e.state ?? '',
        e.type,
        escapeText(e.reason),
        escapeText(e.recordNumber),
        encodeDate(e.enteredAt),
        e.expiresAt === null ? '' : encodeDate(e.expiresAt),
        e.fuzzy ? '1' : '0',
        escapeText(e.vehicle ?? ''),
        e.local ? escapeText(JSON.stringify(e.local)) : '',
      ].join('\t'),
    );
  }
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
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
      // One output chunk sized by the gzip trailer (ISIZE, untrusted: a wrong one only costs a copy):
      // a 60 MB list otherwise spends more time gathering 16 kB chunks than inflating.
      const isize = bytes.length >= 18 ? bytes.readUInt32LE(bytes.length - 4) : 0;
      raw = gunzipSync(bytes, { maxOutputLength: maxBytes, chunkSize: Math.max(64 * 1024, Math.min(maxBytes, isize + 1)) });
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
  return { ...parseListBody(body), signedBy: header.keyId };
}

/** A body line that breaks the format: names the line and the column (invalid-body). */
function bodyError(line: number, column: string, message: string): HotListRejectedError {
  return new HotListRejectedError('invalid-body', `line ${line}: ${column}: ${message}`);
}

const TYPE_BYTES = LIST_TYPES.map((t) => [t, Buffer.from(t, 'latin1')] as const);

/** The list type spelled in b[start, end), without making a string. */
function typeAt(b: Buffer, start: number, end: number): ListType | undefined {
  for (const [t, bytes] of TYPE_BYTES) {
    if (bytes.length !== end - start) continue;
    let i = 0;
    while (i < bytes.length && bytes[i] === b[start + i]) i++;
    if (i === bytes.length) return t;
  }
  return undefined;
}
const MAX_TEXT = { reason: 500, recordNumber: 64, vehicle: 200 } as const;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const TAB = 0x09;
const LF = 0x0a;
const BACKSLASH = 0x5c;

function digitsAt(b: Buffer, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SS.sssZ` (what the signer writes) in
 * b[start, end) to epoch ms; NaN when it is neither or not a calendar date.
 */
export function parseIsoUtc(b: Buffer, start: number, end: number): number {
  const len = end - start;
  if (len !== 10 && len !== 24) return NaN;
  if (b[start + 4] !== 0x2d || b[start + 7] !== 0x2d) return NaN;
  const y = digitsAt(b, start, 4), mo = digitsAt(b, start + 5, 2), d = digitsAt(b, start + 8, 2);
  let h = 0, mi = 0, sec = 0, ms = 0;
  if (len === 24) {
    if (b[start + 10] !== 0x54 || b[start + 13] !== 0x3a || b[start + 16] !== 0x3a || b[start + 19] !== 0x2e || b[start + 23] !== 0x5a) return NaN;
    h = digitsAt(b, start + 11, 2);
    mi = digitsAt(b, start + 14, 2);
    sec = digitsAt(b, start + 17, 2);
    ms = digitsAt(b, start + 20, 3);
  }
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > DAYS_IN_MONTH[mo - 1]! || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms < 0) return NaN;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms);
}

/** The signer's date form: date only at midnight UTC (most list dates), else full ISO. */
function encodeDate(iso: string): string {
  const s = new Date(iso).toISOString();
  return s.endsWith('T00:00:00.000Z') ? s.slice(0, 10) : s;
}

function unescapeText(s: string, line: number, column: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === '\\') out += '\\';
    else if (n === 't') out += '\t';
    else if (n === 'n') out += '\n';
    else if (n === 'r') out += '\r';
    else throw bodyError(line, column, 'bad escape (only \\\\, \\t, \\n, \\r)');
  }
  return out;
}

/**
 * Parses a verified body into a list with compact entries, byte by byte: no string per line and
 * none for plates, states, dates or record numbers. Every field is checked as strictly as the JSON
 * Schema of an entry (docs/hotlists.md): defence in depth behind the signature.
 */
export function parseListBody(b: Buffer): Omit<HotList, 'signedBy'> {
  const nl = b.indexOf(LF);
  if (nl < 0) throw new HotListRejectedError('invalid-body', 'no metadata line');
  let meta: unknown;
  try {
    meta = JSON.parse(b.toString('utf8', 0, nl));
  } catch {
    throw new HotListRejectedError('invalid-body', 'metadata line is not JSON');
  }
  if (!validateMeta(meta)) {
    const e = validateMeta.errors?.[0];
    throw new HotListRejectedError('invalid-body', `metadata ${e?.instancePath || '(line)'} ${e?.message ?? 'is invalid'}`);
  }
  if (meta.columns.join(',') !== ENTRY_COLUMNS.join(',')) throw new HotListRejectedError('invalid-body', `columns are not ${ENTRY_COLUMNS.join(',')}`);
  const builder = new HotListEntriesBuilder(meta.entries);
  const n = b.length;
  let pos = nl + 1;
  let line = 1;
  // End of the field starting at `at` (the next tab or line end) and whether it holds \ or non-ASCII.
  let escaped = false;
  let ascii = true;
  const fieldEnd = (at: number, column: string, last = false): number => {
    escaped = false;
    ascii = true;
    let i = at;
    for (; i < n; i++) {
      const c = b[i]!;
      if (c === TAB || c === LF) break;
      if (c === BACKSLASH) escaped = true;
      else if (c >= 0x80) ascii = false;
    }
    if (last ? b[i] === TAB : b[i] !== TAB) throw bodyError(line, column, last ? `more than ${ENTRY_COLUMNS.length} columns` : `missing (a line has ${ENTRY_COLUMNS.length} tab-separated columns)`);
    return i;
  };
  const text = (start: number, end: number, column: keyof typeof MAX_TEXT | 'local'): string => {
    let v = b.toString(ascii ? 'latin1' : 'utf8', start, end);
    if (escaped) v = unescapeText(v, line, column);
    if (column !== 'local' && v.length > MAX_TEXT[column]) throw bodyError(line, column, `longer than ${MAX_TEXT[column]} characters`);
    return v;
  };
  while (pos < n) {
    line++;
    if (builder.count >= meta.entries) throw bodyError(line, '(line)', `more entries than the ${meta.entries} announced`);
    // plate: A–Z, 0–9, ? and *, 1–10 characters, straight into its numeric code
    let code = 0;
    let folded = 0;
    let i = pos;
    let wild = false;
    let known = false;
    for (; i < n && b[i] !== TAB && b[i] !== LF; i++) {
      const c = b[i]!;
      const d = PLATE_DIGIT[c]!;
      if (d < 0) throw bodyError(line, 'plate', 'not A–Z, 0–9, ? or * (1–10 characters)');
      if (c === 0x3f || c === 0x2a) wild = true;
      else known = true;
      code = code * PLATE_BASE + d;
      folded = folded * PLATE_BASE + FOLDED_DIGIT[c]!;
    }
    if (i === pos || i - pos > MAX_PLATE_CHARS) throw bodyError(line, 'plate', 'not A–Z, 0–9, ? or * (1–10 characters)');
    if (!known) throw bodyError(line, 'plate', 'a partial plate needs at least one known character');
    if (b[i] !== TAB) throw bodyError(line, 'state', 'missing (a line has 10 tab-separated columns)');
    // state: empty or two capitals
    let at = i + 1;
    let end = fieldEnd(at, 'state');
    let state = 0;
    if (end - at === 2 && b[at]! >= 0x41 && b[at]! <= 0x5a && b[at + 1]! >= 0x41 && b[at + 1]! <= 0x5a) state = 1 + (b[at]! - 0x41) * 26 + (b[at + 1]! - 0x41);
    else if (end !== at) throw bodyError(line, 'state', 'not a two-letter state code or empty');
    at = end + 1;
    end = fieldEnd(at, 'type');
    const type = typeAt(b, at, end);
    if (type === undefined) throw bodyError(line, 'type', `not one of ${LIST_TYPES.join(', ')}`);
    at = end + 1;
    end = fieldEnd(at, 'reason');
    const reason = escaped || end - at > MAX_TEXT.reason ? text(at, end, 'reason') : builder.internBytes(b, at, end);
    at = end + 1;
    end = fieldEnd(at, 'recordNumber');
    let recordNumber: string | { from: Buffer; start: number; end: number };
    if (escaped || !ascii || end - at > MAX_TEXT.recordNumber) recordNumber = text(at, end, 'recordNumber');
    else recordNumber = { from: b, start: at, end };
    at = end + 1;
    end = fieldEnd(at, 'enteredAt');
    const enteredAtMs = parseIsoUtc(b, at, end);
    if (Number.isNaN(enteredAtMs)) throw bodyError(line, 'enteredAt', 'not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.sssZ');
    at = end + 1;
    end = fieldEnd(at, 'expiresAt');
    const expiresAtMs = end === at ? Infinity : parseIsoUtc(b, at, end);
    if (Number.isNaN(expiresAtMs)) throw bodyError(line, 'expiresAt', 'not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.sssZ or empty');
    at = end + 1;
    end = fieldEnd(at, 'fuzzy');
    if (end - at !== 1 || (b[at] !== 0x30 && b[at] !== 0x31)) throw bodyError(line, 'fuzzy', 'not 0 or 1');
    const fuzzy = b[at] === 0x31;
    at = end + 1;
    end = fieldEnd(at, 'vehicle');
    const vehicle = end === at ? undefined : escaped || end - at > MAX_TEXT.vehicle ? text(at, end, 'vehicle') : builder.internBytes(b, at, end);
    at = end + 1;
    end = fieldEnd(at, 'local', true);
    let local: LocalApprovalFields | undefined;
    if (end !== at) {
      try {
        local = JSON.parse(text(at, end, 'local')) as LocalApprovalFields;
      } catch (err) {
        if (err instanceof HotListRejectedError) throw err;
        throw bodyError(line, 'local', 'not JSON');
      }
      if (!validateLocal(local)) throw bodyError(line, 'local', `${validateLocal.errors?.[0]?.instancePath ?? ''} ${validateLocal.errors?.[0]?.message ?? 'is invalid'}`);
    }
    builder.add({ plate: code, folded, partial: wild, state, type, reason, recordNumber, enteredAtMs, expiresAtMs, fuzzy, vehicle, local });
    pos = end + 1;
  }
  if (builder.count !== meta.entries) throw new HotListRejectedError('invalid-body', `${builder.count} entries, the metadata announces ${meta.entries} (truncated?)`);
  return { name: meta.name, source: meta.source, version: meta.version, issuedAt: new Date(Date.parse(meta.issuedAt)).toISOString(), entries: builder.build() };
}
