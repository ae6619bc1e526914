import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Read } from '../pipeline/read.js';
import type { Hit } from '../hotlist/hit.js';
import { DEVICE_EVENT_TYPES, type DeviceEvent } from '../device-events.js';
import type { HotListChange } from '../hotlist/local-entries.js';
import type { HotListSummary } from '../hotlist/list.js';
import type { ChainAnchor } from '../access/anchors.js';

// Payload schemas of every message the device publishes: the single source of the JSON Schemas in
// docs/schemas/ (`alpr-edge mqtt schemas`), which tests validate every published message against.

const Id = Type.String({ minLength: 1, maxLength: 128 });
const Time = Type.String({ format: 'date-time' });
const Candidate = Type.Object({ text: Type.String(), confidence: Type.Number({ minimum: 0, maximum: 1 }) }, { additionalProperties: false });
const Location = Type.Object(
  { latitude: Type.Number(), longitude: Type.Number(), headingDeg: Type.Number({ description: 'Direction the camera looks, degrees from true north.' }), description: Type.String() },
  { additionalProperties: false },
);

const ReadMeta = Type.Object(
  {
    id: Id,
    plate: Type.String(),
    state: Type.Union([Type.String(), Type.Null()]),
    stateConfidence: Type.Union([Type.Number(), Type.Null()]),
    confidence: Type.Number({ minimum: 0, maximum: 1 }),
    agreement: Type.Number({ minimum: 0, maximum: 1 }),
    candidates: Type.Array(Candidate, { maxItems: 10 }),
    capturedAt: Time,
    firstSeenAt: Time,
    lastSeenAt: Time,
    frames: Type.Integer({ minimum: 1 }),
    cameraId: Id,
    location: Location,
    box: Type.Object({ x: Type.Number(), y: Type.Number(), width: Type.Number(), height: Type.Number() }),
    vehicle: Type.Union(
      [
        Type.Object({
          make: Type.Optional(Type.String()),
          model: Type.Optional(Type.String()),
          colour: Type.Optional(Type.String({ description: 'Estimated body colour: white, silver, grey, black, red, orange, yellow, green, blue, purple or brown.' })),
          colourConfidence: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Share of the sampled body pixels that voted for the colour: an estimate to check on the overview image (P13).' })),
          type: Type.Optional(Type.String()),
        }),
        Type.Null(),
      ],
      { description: 'Vehicle descriptors the device estimated (today the body colour around the plate); null when none could be made.' },
    ),
    modelVersion: Type.String(),
  },
  { additionalProperties: false },
);

const Envelope = {
  messageId: Type.String({ minLength: 26, maxLength: 26, description: 'Unique per message (ULID): the central side drops duplicates by it (QoS 1 delivers at least once).' }),
  deviceId: Id,
};

export const HitMessage = Type.Object(
  {
    schema: Type.Literal('alpr-edge/hit/1'),
    ...Envelope,
    hitId: Type.String({ description: '<readId>:<list>:<entry index>; the same read matching the same entry is the same hit.' }),
    read: ReadMeta,
    images: Type.Object(
      { plateJpeg: Type.String({ contentEncoding: 'base64', contentMediaType: 'image/jpeg', minLength: 4 }), overviewJpeg: Type.String({ contentEncoding: 'base64', contentMediaType: 'image/jpeg', minLength: 4 }) },
      { additionalProperties: false, description: 'P13: evidence to verify against, inline so a hit is self-contained.' },
    ),
    list: Type.Object({ name: Type.String(), source: Type.String(), version: Type.Integer(), issuedAt: Time, ageHours: Type.Number({ minimum: 0 }), stale: Type.Boolean() }, { additionalProperties: false }),
    entry: Type.Object(
      {
        plate: Type.String(),
        state: Type.Union([Type.String(), Type.Null()]),
        type: Type.Union(['SVS', 'SLR', 'SFR', 'BOLO', 'CUSTOM'].map((t) => Type.Literal(t))),
        reason: Type.String(),
        recordNumber: Type.String(),
        partial: Type.Boolean({ description: 'P12: the entry is a partial plate with wildcards.' }),
        vehicle: Type.Union([Type.String(), Type.Null()]),
        expiresAt: Type.Union([Time, Type.Null()]),
        local: Type.Union([Type.Object({ enteredBy: Type.String(), caseNumber: Type.String(), approvedBy: Type.String() }, { additionalProperties: false }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    match: Type.Object(
      { kind: Type.Union(['exact', 'look-alike', 'candidate', 'edit-distance-1', 'partial'].map((k) => Type.Literal(k))), matchedText: Type.String() },
      { additionalProperties: false },
    ),
    requiresVerification: Type.Literal(true, { description: 'P13: an alert alone is no basis for action; verify the image, state and vehicle, then confirm via CLETS.' }),
    matchedAt: Time,
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/hit.json', title: 'alpr/v1/<deviceId>/hits' },
);

export const ReadMessage = Type.Object(
  { schema: Type.Literal('alpr-edge/read/1'), ...Envelope, read: ReadMeta },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/read.json', title: 'alpr/v1/<deviceId>/reads' },
);

export const EventMessage = Type.Object(
  {
    schema: Type.Literal('alpr-edge/event/1'),
    ...Envelope,
    type: Type.Union(DEVICE_EVENT_TYPES.map((t) => Type.Literal(t))),
    severity: Type.Union(['info', 'warning', 'critical'].map((t) => Type.Literal(t))),
    at: Time,
    detail: Type.Record(Type.String(), Type.Unknown(), { description: 'Counts, names and ages; never plate text.' }),
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/event.json', title: 'alpr/v1/<deviceId>/events' },
);

export const AuditMessage = Type.Object(
  {
    schema: Type.Literal('alpr-edge/audit/1'),
    ...Envelope,
    at: Time,
    action: Type.String(),
    actor: Type.String(),
    list: Type.String(),
    version: Type.Optional(Type.Integer()),
    detail: Type.Record(Type.String(), Type.Unknown()),
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/audit.json', title: 'alpr/v1/<deviceId>/audit' },
);

export const AnchorMessage = Type.Object(
  {
    schema: Type.Literal('alpr-edge/anchor/1'),
    messageId: Envelope.messageId,
    deviceId: Id,
    seq: Type.Integer({ minimum: 0, description: 'Sequence number of the last access-log entry when signed (0: the log is empty).' }),
    hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 (hex) of that entry, which chains every entry before it.' }),
    at: Time,
    keyFingerprint: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 of the device\'s Ed25519 public key (`alpr-edge key show`).' }),
    signature: Type.String({ contentEncoding: 'base64', description: 'Ed25519 signature of the canonical JSON (keys sorted) of schema, deviceId, seq, hash, at and keyFingerprint.' }),
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/anchor.json', title: 'alpr/v1/<deviceId>/anchors' },
);

const ListState = Type.Object({ name: Type.String(), source: Type.String(), version: Type.Integer(), issuedAt: Time, entries: Type.Integer(), ageHours: Type.Number(), stale: Type.Boolean() }, { additionalProperties: false });

export const StateMessage = Type.Object(
  {
    schema: Type.Literal('alpr-edge/state/1'),
    deviceId: Id,
    status: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    at: Type.Optional(Time),
    reason: Type.Optional(Type.String({ description: 'offline: "stopped" (clean shutdown) or "connection lost" (last will).' })),
    version: Type.Optional(Type.String()),
    cameras: Type.Optional(Type.Array(Type.Object({ id: Id, down: Type.Optional(Type.Boolean({ description: 'true from a camera-down event until its camera-up.' })) }, { additionalProperties: false }))),
    hotlists: Type.Optional(Type.Array(ListState)),
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/state.json', title: 'alpr/v1/<deviceId>/state (retained)' },
);

const AgeS = (description: string) => Type.Union([Type.Number({ minimum: 0 }), Type.Null()], { description });
const Count = Type.Integer({ minimum: 0 });

export const TelemetryMessage = Type.Object(
  {
    schema: Type.Literal('alpr-edge/telemetry/1'),
    deviceId: Id,
    at: Time,
    intervalS: Type.Integer({ minimum: 1, description: 'Seconds until the next message (`mqtt.telemetryIntervalS`): a retained one older than a few intervals means the device stopped sending (see `state`).' }),
    version: Type.String({ description: 'Daemon version.' }),
    commit: Type.String({ description: 'Source commit, or `unknown` outside a git checkout.' }),
    models: Type.String({ description: 'Model version in use, or `not loaded`.' }),
    status: Type.Union(['ok', 'degraded', 'starting', 'stalled', 'failed', 'unknown'].map((t) => Type.Literal(t)), { description: 'As `/healthz` says it.' }),
    uptimeS: Count,
    cameras: Type.Array(
      Type.Object(
        {
          id: Id,
          state: Type.String({ description: 'online, reconnecting, offline, ended, ...' }),
          healthy: Type.Boolean({ description: 'Frames arrive and inference keeps up with them (progress, not just "up").' }),
          analysedFps: Type.Number({ minimum: 0, description: 'Frames analysed per second over the last 10 s.' }),
          droppedFps: Type.Number({ minimum: 0, description: 'Frames dropped (so inference keeps up with live video) per second since the previous message.' }),
          framesIn: Count,
          framesAnalysed: Count,
          framesDropped: Count,
          lastFrameAgeS: AgeS('Seconds since the camera delivered a frame; null before the first.'),
          lastReadAgeS: AgeS('Seconds since this camera\'s last read (a vehicle pass); null before the first. Large at night on a quiet road: not an error by itself.'),
        },
        { additionalProperties: false },
      ),
    ),
    hotlists: Type.Array(
      Type.Object({ name: Type.String(), version: Type.Integer(), entries: Count, ageHours: Type.Number({ minimum: 0 }), stale: Type.Boolean() }, { additionalProperties: false }),
      { description: 'P10: every loaded list (names and counts, never an entry).' },
    ),
    outbox: Type.Object(
      {
        messages: Count,
        hits: Type.Integer({ minimum: 0, description: 'Of which hits.' }),
        bytes: Count,
        dropped: Type.Object({ hit: Count, read: Count, event: Count, audit: Count }, { additionalProperties: false, description: 'Dropped because the outbox was full, since start.' }),
      },
      { additionalProperties: false },
    ),
    disk: Type.Union([Type.Object({ freeBytes: Count, sizeBytes: Count }, { additionalProperties: false }), Type.Null()], { description: 'File system of the state directory; null when it cannot be asked.' }),
    clock: Type.Object(
      {
        synced: Type.Union([Type.Boolean(), Type.Null()], { description: 'P2: NTP-synchronised; null when nothing could tell (or not asked yet).' }),
        source: Type.String({ description: 'timedatectl, chronyc, timesyncd, adjtimex or none.' }),
        detail: Type.String(),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/telemetry.json', title: 'alpr/v1/<deviceId>/telemetry (retained)' },
);

export const CommandResponse = Type.Object(
  {
    schema: Type.Literal('alpr-edge/response/1'),
    deviceId: Id,
    command: Type.String(),
    correlationId: Type.Union([Type.String(), Type.Null()], { description: 'From the request (MQTT 5 correlation data, or the JSON field).' }),
    ok: Type.Boolean(),
    error: Type.Optional(Type.Object({ reason: Type.String(), message: Type.String() }, { additionalProperties: false })),
    result: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/response.json', title: 'response to alpr/v1/<deviceId>/cmd/<command>' },
);

export const HotListChunk = Type.Object(
  {
    correlationId: Type.Optional(Type.String({ maxLength: 128 })),
    responseTopic: Type.Optional(Type.String({ maxLength: 256 })),
    transferId: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    part: Type.Integer({ minimum: 0 }),
    parts: Type.Integer({ minimum: 1, maximum: 4096 }),
    data: Type.String({ contentEncoding: 'base64', description: 'A slice of the signed, gzip-compressed list file.' }),
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/cmd-hotlist-chunk.json', title: 'alpr/v1/<deviceId>/cmd/hotlist/chunk' },
);

export const ReadsAck = Type.Object(
  {
    correlationId: Type.Optional(Type.String({ maxLength: 128 })),
    responseTopic: Type.Optional(Type.String({ maxLength: 256 })),
    readIds: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 10000 }),
  },
  { additionalProperties: false, $id: 'https://alpr-edge.example/schemas/cmd-reads-ack.json', title: 'alpr/v1/<deviceId>/cmd/reads/ack' },
);

/** docs/schemas/<file> ← schema. */
export const MESSAGE_SCHEMAS: Record<string, TSchema> = {
  'hit.json': HitMessage,
  'read.json': ReadMessage,
  'event.json': EventMessage,
  'audit.json': AuditMessage,
  'anchor.json': AnchorMessage,
  'state.json': StateMessage,
  'telemetry.json': TelemetryMessage,
  'response.json': CommandResponse,
  'cmd-hotlist-chunk.json': HotListChunk,
  'cmd-reads-ack.json': ReadsAck,
};

export function renderSchemaFile(schema: TSchema): string {
  return JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema }, null, 2) + '\n';
}

export type HitPayload = Static<typeof HitMessage>;
export type ReadPayload = Static<typeof ReadMessage>;
export type EventPayload = Static<typeof EventMessage>;
export type AuditPayload = Static<typeof AuditMessage>;
export type AnchorPayload = Static<typeof AnchorMessage>;
export type StatePayload = Static<typeof StateMessage>;
export type TelemetryPayload = Static<typeof TelemetryMessage>;
export type ResponsePayload = Static<typeof CommandResponse>;

export function readMeta(read: Read): Static<typeof ReadMeta> {
  return {
    id: read.id,
    plate: read.plate,
    state: read.state,
    stateConfidence: read.stateConfidence,
    confidence: read.confidence,
    agreement: read.agreement,
    candidates: read.candidates.map((c) => ({ text: c.text, confidence: c.confidence })),
    capturedAt: read.capturedAt,
    firstSeenAt: read.firstSeenAt,
    lastSeenAt: read.lastSeenAt,
    frames: read.frames,
    cameraId: read.cameraId,
    location: { latitude: read.location.latitude, longitude: read.location.longitude, headingDeg: read.location.headingDeg, description: read.location.description },
    box: { x: read.box[0], y: read.box[1], width: read.box[2], height: read.box[3] },
    vehicle: read.vehicle ? { colour: read.vehicle.colour, colourConfidence: read.vehicle.colourConfidence } : null,
    modelVersion: read.modelVersion,
  };
}

export function hitPayload(hit: Hit, messageId: string): HitPayload {
  const e = hit.entry;
  return {
    schema: 'alpr-edge/hit/1',
    messageId,
    deviceId: hit.read.deviceId,
    hitId: hit.id,
    read: readMeta(hit.read),
    images: { plateJpeg: hit.read.plateJpeg.toString('base64'), overviewJpeg: hit.read.overviewJpeg.toString('base64') },
    list: { name: hit.list.name, source: hit.list.source, version: hit.list.version, issuedAt: hit.list.issuedAt, ageHours: hit.list.ageHours, stale: hit.list.stale },
    entry: {
      plate: e.plate,
      state: e.state,
      type: e.type,
      reason: e.reason,
      recordNumber: e.recordNumber,
      partial: e.partial,
      vehicle: e.vehicle ?? null,
      expiresAt: e.expiresAt,
      local: e.local ? { enteredBy: e.local.enteredBy, caseNumber: e.local.caseNumber, approvedBy: e.local.approvedBy } : null,
    },
    match: { kind: hit.kind, matchedText: hit.matchedText },
    requiresVerification: true,
    matchedAt: hit.matchedAt,
  };
}

export function readPayload(read: Read, messageId: string): ReadPayload {
  return { schema: 'alpr-edge/read/1', messageId, deviceId: read.deviceId, read: readMeta(read) };
}

export function eventPayload(deviceId: string, ev: DeviceEvent, messageId: string): EventPayload {
  return { schema: 'alpr-edge/event/1', messageId, deviceId, type: ev.type, severity: ev.severity, at: ev.at, detail: ev.detail };
}

export function auditPayload(deviceId: string, change: HotListChange, messageId: string): AuditPayload {
  const out: AuditPayload = { schema: 'alpr-edge/audit/1', messageId, deviceId, at: change.at, action: change.action, actor: change.actor, list: change.list, detail: change.detail };
  if (change.version !== undefined) out.version = change.version;
  return out;
}

/** A signed access-log head as published; the signature covers the anchor, not the messageId. */
export function anchorPayload(a: ChainAnchor, messageId: string): AnchorPayload {
  return { schema: a.schema, messageId, deviceId: a.deviceId, seq: a.seq, hash: a.hash, at: a.at, keyFingerprint: a.keyFingerprint, signature: a.signature };
}

export function statePayload(deviceId: string, version: string, cameras: string[], lists: HotListSummary[], camerasDown: ReadonlySet<string> = new Set()): StatePayload {
  return { schema: 'alpr-edge/state/1', deviceId, status: 'online', at: new Date().toISOString(), version, cameras: cameras.map((id) => ({ id, down: camerasDown.has(id) })), hotlists: lists };
}
