import { Type, type Static } from '@sinclair/typebox';

// TypeBox schemas of the query API: Fastify validates with them, handlers take their types from
// them, and @fastify/swagger builds the OpenAPI document from them (one source, fastify/demo style).

export const ErrorBody = Type.Object({ error: Type.String(), field: Type.Optional(Type.String()) }, { $id: 'ErrorBody' });

export const LoginBody = Type.Object(
  { username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
export const LoginReply = Type.Object({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }), role: Type.String() });

/** `look-alike` is how hits name the kind (src/hotlist/matcher.ts); both spellings search the same. */
const MATCH = [Type.Literal('exact'), Type.Literal('lookalike'), Type.Literal('look-alike'), Type.Literal('partial')];
const MATCH_DESCRIPTION = 'exact; lookalike (or look-alike, as hits name it): 0/O/Q/D, 1/I/L, 2/Z, 5/S, 6/G, 8/B alike; partial: * any run, ? or _ one character.';
const DATE_TIME = 'a date-time with a time zone (RFC 3339), e.g. 2026-12-05T00:00:00Z; a date alone is refused';

/** P7: every inquiry carries a reason; the case number is recorded when given. */
const Inquiry = {
  reason: Type.String({ minLength: 3, maxLength: 500, description: 'Why this inquiry is made (P7), 3 to 500 characters; stored in the access log.' }),
  caseNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Case or incident number (P7).' })),
};

export const SearchQuery = Type.Object(
  {
    ...Inquiry,
    plate: Type.Optional(Type.String({ minLength: 1, maxLength: 16, pattern: '^[A-Za-z0-9 .*?_-]+$', description: 'Plate; with match=partial, * is any run and ? or _ one character.' })),
    match: Type.Optional(Type.Union(MATCH, { default: 'exact', description: MATCH_DESCRIPTION })),
    camera: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Camera id.' })),
    from: Type.Optional(Type.String({ format: 'date-time', description: `Reads captured at or after this time: ${DATE_TIME}.` })),
    to: Type.Optional(Type.String({ format: 'date-time', description: `Reads captured before this time: ${DATE_TIME}.` })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
    cursor: Type.Optional(Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', description: 'nextCursor of the previous page.' })),
  },
  { additionalProperties: false },
);
export type SearchQuery = Static<typeof SearchQuery>;

export const InquiryQuery = Type.Object(Inquiry, { additionalProperties: false });
export type InquiryQuery = Static<typeof InquiryQuery>;

export const ReadIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' }) });
export const ImageParams = Type.Object({ id: Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' }), kind: Type.Union([Type.Literal('plate'), Type.Literal('overview')]) });

const Candidate = Type.Object({ text: Type.String(), confidence: Type.Number() });
export const ReadOut = Type.Object({
  id: Type.String(),
  deviceId: Type.String(),
  cameraId: Type.String(),
  plate: Type.String(),
  state: Type.Union([Type.String(), Type.Null()]),
  stateConfidence: Type.Union([Type.Number(), Type.Null()]),
  confidence: Type.Number(),
  agreement: Type.Number(),
  candidates: Type.Array(Candidate),
  capturedAt: Type.String(),
  firstSeenAt: Type.String(),
  lastSeenAt: Type.String(),
  frames: Type.Integer(),
  box: Type.Array(Type.Number(), { minItems: 4, maxItems: 4, description: 'Plate box in the overview image: x, y, width, height (pixels).' }),
  location: Type.Object({ latitude: Type.Number(), longitude: Type.Number(), headingDeg: Type.Number(), description: Type.String() }),
  modelVersion: Type.String(),
  vehicle: Type.Optional(Type.Union([Type.Object({ colour: Type.String(), colourConfidence: Type.Number() }), Type.Null()], { description: 'Estimated vehicle descriptors (P13): body colour and the share of sampled pixels that voted for it.' })),
  images: Type.Object({ plate: Type.String(), overview: Type.String() }),
});
export const SearchReply = Type.Object({ reads: Type.Array(ReadOut), nextCursor: Type.Optional(Type.String()), skippedCorrupt: Type.Integer() });

export const HoldBody = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    caseNumber: Type.String({ minLength: 1, maxLength: 64 }),
    reason: Type.String({ minLength: 3, maxLength: 500, description: 'Why these reads are or may become evidence, 3 to 500 characters.' }),
    readIds: Type.Optional(Type.Array(Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$' }), { minItems: 1, maxItems: 10000 })),
    query: Type.Optional(Type.Object({
      plate: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
      match: Type.Optional(Type.Union(MATCH, { description: MATCH_DESCRIPTION })),
      cameraId: Type.Optional(Type.String()),
      from: Type.Optional(Type.String({ format: 'date-time', description: `${DATE_TIME}.` })),
      to: Type.Optional(Type.String({ format: 'date-time', description: `${DATE_TIME}.` })),
    }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);
export type HoldBody = Static<typeof HoldBody>;
export const HoldOut = Type.Object({
  name: Type.String(), caseNumber: Type.String(), reason: Type.String(), createdBy: Type.String(), createdAt: Type.String(),
  readCount: Type.Integer(), releasedAt: Type.Optional(Type.String()), releasedBy: Type.Optional(Type.String()),
  query: Type.Optional(Type.Object({}, { additionalProperties: true })),
});
export const HoldNameParams = Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }) });
export const ReleaseQuery = Type.Object({ reason: Type.String({ minLength: 3, maxLength: 500, description: 'Why the hold ends, 3 to 500 characters.' }) }, { additionalProperties: false });

export const ShareBody = Type.Object(
  {
    agency: Type.String({ minLength: 2, maxLength: 200 }),
    agencyState: Type.String({ pattern: '^[A-Za-z]{2}$' }),
    requester: Type.String({ minLength: 2, maxLength: 200 }),
    purpose: Type.String({ minLength: 3, maxLength: 1000 }),
  },
  { additionalProperties: false },
);
export type ShareBody = Static<typeof ShareBody>;
export const ShareOut = Type.Object({
  id: Type.String(), agency: Type.String(), agencyState: Type.String(), requester: Type.String(), purpose: Type.String(),
  requestedBy: Type.String(), createdAt: Type.String(), status: Type.String(), refusal: Type.Optional(Type.String()),
  approvedBy: Type.Optional(Type.String()), approvedAt: Type.Optional(Type.String()),
  refusedBy: Type.Optional(Type.String()), refusedAt: Type.Optional(Type.String()),
});
export const ShareIdParams = Type.Object({ id: Type.String({ pattern: '^SR-[0-9-]+-[0-9a-f]+$' }) });

export const StoreStatusReply = Type.Object({ reads: Type.Integer(), usedBytes: Type.Number(), holds: Type.Integer(), corruptSkipped: Type.Integer() });

// Administration (src/http/api/admin-routes.ts).
export const UserOut = Type.Object({
  username: Type.String(), role: Type.String(), trainingValidUntil: Type.Union([Type.String(), Type.Null()]), disabled: Type.Boolean(),
  failedLogins: Type.Integer(), lockedUntil: Type.Union([Type.String(), Type.Null()]), createdAt: Type.String(), createdBy: Type.String(),
});
export const UserBody = Type.Object({
  username: Type.String({ minLength: 2, maxLength: 32 }),
  role: Type.Union([Type.Literal('technician'), Type.Literal('investigator'), Type.Literal('administrator')]),
  trainingValidUntil: Type.Optional(Type.Union([Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), Type.Null()])),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
}, { additionalProperties: false });
export const UsernameParams = Type.Object({ username: Type.String({ pattern: '^[a-z][a-z0-9._-]{1,31}$' }) });
export const TrainingBody = Type.Object({ trainingValidUntil: Type.Union([Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), Type.Null()]) }, { additionalProperties: false });
export const RefusalBody = Type.Object({ reason: Type.String({ minLength: 3, maxLength: 500 }) }, { additionalProperties: false });
export const LocalEntryOut = Type.Object({
  plate: Type.String(), state: Type.Union([Type.String(), Type.Null()]), type: Type.String(), caseNumber: Type.String(), synopsis: Type.String(),
  enteredBy: Type.Union([Type.String(), Type.Null()]), approvedBy: Type.Union([Type.String(), Type.Null()]), enteredAt: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  expiresAt: Type.Optional(Type.Union([Type.String(), Type.Null()])), partial: Type.Optional(Type.Boolean()), fuzzy: Type.Optional(Type.Boolean()), expired: Type.Boolean(),
});
export const LocalEntryBody = Type.Object({
  plate: Type.String({ minLength: 1, maxLength: 10 }), state: Type.Optional(Type.Union([Type.String({ maxLength: 2 }), Type.Null()])),
  type: Type.Optional(Type.String({ maxLength: 8 })), caseNumber: Type.String({ minLength: 1, maxLength: 64 }), synopsis: Type.String({ minLength: 1, maxLength: 500 }),
  expiresAt: Type.Optional(Type.String({ maxLength: 40 })), fuzzy: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });
export const LocalProposalOut = Type.Object({
  id: Type.String(), plate: Type.String(), state: Type.Union([Type.String(), Type.Null()]), type: Type.String(), caseNumber: Type.String(), synopsis: Type.String(),
  expiresAt: Type.Optional(Type.String()), fuzzy: Type.Boolean(), enteredBy: Type.String(), proposedAt: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('approved'), Type.Literal('refused')]),
  decidedBy: Type.Optional(Type.String()), decidedAt: Type.Optional(Type.String()), refusal: Type.Optional(Type.String()),
});
export const ProposalIdParams = Type.Object({ id: Type.String({ pattern: '^LP-[0-9-]+-[0-9a-f]+$' }) });
export const LocalEntryRemoveBody = Type.Object({
  plate: Type.String({ minLength: 1, maxLength: 10 }), caseNumber: Type.String({ minLength: 1, maxLength: 64 }),
}, { additionalProperties: false });
export const LocalEntryRemoveOut = Type.Object({ removed: Type.Integer(), version: Type.Integer() });
/** An anchors file as `alpr-edge watch` keeps it (`<out>/<deviceId>/anchors.jsonl`), sent as text/plain. */
export const AnchorsBody = Type.String({ minLength: 1 });
export const ExportBody = Type.Object({
  hold: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), shareRequest: Type.Optional(Type.String({ pattern: '^SR-[0-9-]+-[0-9a-f]+$' })),
}, { additionalProperties: false });
export const ExportOut = Type.Object({
  dir: Type.String(), hold: Type.String(), caseNumber: Type.String(), files: Type.Integer(), manifestSha256: Type.String(), publicKeyFingerprint: Type.String(),
  createdAt: Type.String(), shareRequest: Type.Optional(Type.String()),
});
export const PasswordBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export const SampleBody = Type.Object({
  from: Type.String({ format: 'date-time' }),
  to: Type.String({ format: 'date-time' }),
  n: Type.Integer({ minimum: 1, maximum: 1000 }),
  seed: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false });
