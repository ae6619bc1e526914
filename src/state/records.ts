import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { AlprError, EX_DATAERR } from '../errors.js';

// The records of the state database (reads, users, sharing requests, the access log and its head,
// evidence holds, the MQTT outbox's messages and index), as TypeBox schemas: their types come from the schemas, and whatever LMDB hands
// back passes one validated decoder (`decodeRecord`) before the code uses it, instead of a cast. A
// record that does not match (a damaged file, a hand edit) is a CorruptRecordError naming the
// sub-database and key, never a half-read object.

/** P8: who may do what; technicians never see reads. */
export const ROLES = ['technician', 'investigator', 'administrator'] as const;

/** What was done; inquiries (search, image view, export) are what audits sample (P9). */
export const ACCESS_ACTIONS = [
  'login', 'search', 'image.view', 'read.view', 'export', 'hold.create', 'hold.release',
  'user.add', 'user.disable', 'user.enable', 'user.passwd', 'user.training', 'user.unlock', 'share.request', 'share.approve', 'share.refuse',
  'config.change', 'key.rotate', 'purge', 'api.denied', 'openapi.view', 'audit.sample', 'audit.verify', 'hotlist.change', 'hotlist.view', 'cli.denied',
  'device.provision', 'device.selftest', 'device.key', 'device.cert', 'tamper',
] as const;

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** P6: one credential per person; P8: a role and a training date gate access to reads. */
export const UserRecord = Type.Object({
  username: Type.String(),
  role: literals(ROLES),
  /**
   * YYYY-MM-DD; after this day the user may not see reads until training is renewed (P8). Null for a
   * technician added without one: technicians never see reads, so training gates nothing for them.
   */
  trainingValidUntil: Type.Union([Type.String(), Type.Null()]),
  passwordHash: Type.String(),
  disabled: Type.Boolean(),
  failedLogins: Type.Integer({ minimum: 0 }),
  lockedUntilMs: Type.Optional(Type.Number()),
  /** Bumped by a password change or disable: API tokens issued before stop working (absent = 0). */
  tokenGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  createdAt: Type.String(),
  createdBy: Type.String(),
});
export type UserRecord = Static<typeof UserRecord>;

/** P14: a request to share reads with another agency, and what became of it. */
export const ShareRecord = Type.Object({
  id: Type.String(),
  agency: Type.String(),
  agencyState: Type.String(),
  requester: Type.String(),
  purpose: Type.String(),
  requestedBy: Type.String(),
  createdAt: Type.String(),
  status: literals(['pending', 'approved', 'refused'] as const),
  refusal: Type.Optional(Type.String()),
  approvedBy: Type.Optional(Type.String()),
  approvedAt: Type.Optional(Type.String()),
  refusedBy: Type.Optional(Type.String()),
  refusedAt: Type.Optional(Type.String()),
});
export type ShareRecord = Static<typeof ShareRecord>;

/** One link of the access log's hash chain (P6). */
export const AccessLogRecord = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  time: Type.String(),
  /** The person (username), `cli:<os user>` for shell actions, `system` for the daemon's own. */
  user: Type.String(),
  action: literals(ACCESS_ACTIONS),
  /** P7: reason and caseNumber of an inquiry are recorded here with its other parameters. */
  parameters: Type.Record(Type.String(), Type.Unknown()),
  result: literals(['ok', 'denied', 'failed', 'refused'] as const),
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AccessLogRecord = Static<typeof AccessLogRecord>;

/** The last entry of the chain: its sequence number and hash (kept in `meta`). */
export const AccessLogHeadRecord = Type.Object({ seq: Type.Integer({ minimum: 0 }), hash: Type.String() });
export type AccessLogHeadRecord = Static<typeof AccessLogHeadRecord>;

/** How a search or a hold's query matches plate text. */
export const PLATE_MATCHES = ['exact', 'lookalike', 'partial'] as const;

/** Plate text sealed with a device data key where it lies (device-keys.ts, `sealValue`). */
export const SealedValueRecord = Type.Object({ $sealed: Type.String(), kid: Type.String() });

/** P4: reads that are or may become evidence, kept past retention until released; the query's plate sealed (P16). */
export const HoldRecord = Type.Object({
  name: Type.String(),
  caseNumber: Type.String(),
  reason: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  /** The query the hold was made from, when it was not a list of read ids; holds from before sealing keep a clear plate until the next start. */
  query: Type.Optional(Type.Object({
    plate: Type.Optional(Type.Union([Type.String(), SealedValueRecord])),
    match: Type.Optional(literals(PLATE_MATCHES)),
    cameraId: Type.Optional(Type.String()),
    from: Type.Optional(Type.String()),
    to: Type.Optional(Type.String()),
  })),
  readCount: Type.Integer({ minimum: 0 }),
  releasedAt: Type.Optional(Type.String()),
  releasedBy: Type.Optional(Type.String()),
});
export type HoldRecord = Static<typeof HoldRecord>;

/**
 * A read as it lies in `reads` (keyed by its id, a ULID of its capture time): times, camera and
 * scores in the clear (to index and purge), plate, candidates, location and vehicle in `sealed`
 * (P16), opened with data key `kid` (store/read-record.ts). Properties it does not name are allowed,
 * so a record written by a newer version still reads.
 */
export const StoredReadRecord = Type.Object({
  v: Type.Literal(1),
  /** Data key the sealed part and images were sealed with (keys rotate; old ones stay to read). */
  kid: Type.String(),
  deviceId: Type.String(),
  cameraId: Type.String(),
  capturedAtMs: Type.Number(),
  firstSeenAt: Type.String(),
  lastSeenAt: Type.String(),
  confidence: Type.Number(),
  agreement: Type.Number(),
  frames: Type.Integer({ minimum: 0 }),
  /** [x, y, w, h] of the plate in the overview image. */
  box: Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()]),
  modelVersion: Type.String(),
  imageBytes: Type.Object({ plate: Type.Integer({ minimum: 0 }), overview: Type.Integer({ minimum: 0 }) }),
  /** Keyed tags of the plate (exact and look-alike) so its index entries can be removed unsealed. */
  tags: Type.Object({ plate: Type.String(), lookAlike: Type.String() }),
  sealed: Type.Uint8Array(),
  /**
   * Where the sealed images lie: 'hour' or 'day', the bucket database of that UTC hour or day of the
   * id (dropped whole once past retention); 'kept', `keptImages` (the read outlived its bucket's
   * drop: held, P4). Absent in reads stored before buckets: `legacyImages`, until they are purged.
   */
  imagesIn: Type.Optional(literals(['hour', 'day', 'kept'] as const)),
});
export type StoredReadRecord = Static<typeof StoredReadRecord>;

/** What the MQTT outbox carries; also its drop order's vocabulary (mqtt/outbox.ts). */
export const OUTBOX_KINDS = ['hit', 'read', 'event', 'audit'] as const;

/**
 * A message waiting in the MQTT outbox (`outbox-messages`, keyed by sequence number): the payload
 * (plate text, location, JPEGs) sealed with device data key `kid` and bound to topic and message id
 * (P16). `payload` in the clear only in messages queued before sealing, still delivered.
 */
export const OutboxMessageRecord = Type.Object({
  kind: literals(OUTBOX_KINDS),
  topic: Type.String(),
  messageId: Type.String(),
  kid: Type.Optional(Type.String()),
  sealed: Type.Optional(Type.Uint8Array()),
  payload: Type.Optional(Type.Uint8Array()),
});
export type OutboxMessageRecord = Static<typeof OutboxMessageRecord>;

/** The outbox's small index (`outbox-index`, same keys): kind and payload size, so the bound is kept without reading payloads. */
export const OutboxIndexRecord = Type.Object({
  kind: literals(OUTBOX_KINDS),
  bytes: Type.Integer({ minimum: 0 }),
});
export type OutboxIndexRecord = Static<typeof OutboxIndexRecord>;

/** What `meta` holds: the access-log head, the config hash and index layout, buckets owed a drop. */
export type MetaValue = AccessLogHeadRecord | string | number | string[];

/** A stored record that does not match its schema: the sub-database and key name what to look at. */
export class CorruptRecordError extends AlprError {
  constructor(table: string, key: string, problem: string) {
    super(`state database: ${table} record ${key} is damaged (${problem}); \`alpr-edge audit verify\` checks the access log`, table, EX_DATAERR);
  }
}

/** A record schema with its compiled check, named after its sub-database. */
export interface RecordType<T> {
  readonly table: string;
  check(value: unknown): value is T;
  /** Why the value last checked failed. */
  problem(): string;
}

/**
 * Compiled on first use, so a command that never reads a record does not pay for it. TypeBox's own
 * compiler, not the one Ajv (src/schema-validation.ts): these checks run in every process that logs
 * an access, at start too, and it compiles them in a millisecond where Ajv takes tens (and its import
 * hundreds under load); records come from our own writes, so the first problem is all that is needed.
 */
export function recordType<S extends TSchema>(table: string, schema: S): RecordType<Static<S>> {
  let compiled: TypeCheck<S> | undefined;
  let last: unknown;
  const validate = () => (compiled ??= TypeCompiler.Compile(schema));
  return {
    table,
    check: (value: unknown): value is Static<S> => {
      last = value;
      return validate().Check(value);
    },
    problem: () => {
      const e = validate().Errors(last).First();
      return e ? `${e.path || 'record'} ${e.message}` : 'is invalid';
    },
  };
}

/**
 * The one way a record read from the state database becomes its type: checked against its schema;
 * anything that does not match (a missing one included) throws CorruptRecordError.
 */
export function decodeRecord<T>(type: RecordType<T>, key: string | number, value: unknown): T {
  if (type.check(value)) return value;
  throw new CorruptRecordError(type.table, String(key), value === undefined ? 'missing' : type.problem());
}

/** `decodeRecord` for a lookup that may find nothing: absent stays undefined. */
export function findRecord<T>(type: RecordType<T>, key: string | number, value: unknown): T | undefined {
  return value === undefined ? undefined : decodeRecord(type, key, value);
}

export const USERS = recordType('users', UserRecord);
export const SHARES = recordType('shares', ShareRecord);
export const ACCESS_LOG = recordType('access-log', AccessLogRecord);
export const ACCESS_LOG_HEAD = recordType('meta', AccessLogHeadRecord);
export const HOLDS = recordType('holds', HoldRecord);
export const READS = recordType('reads', StoredReadRecord);
export const OUTBOX_MESSAGES = recordType('outbox-messages', OutboxMessageRecord);
export const OUTBOX_INDEX = recordType('outbox-index', OutboxIndexRecord);
