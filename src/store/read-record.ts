import type { LocationConfig } from '../config/schema.js';
import type { Box } from '../inference/image.js';
import type { TextCandidate } from '../inference/reader.js';
import { lookAlikeKey } from '../plate/look-alike.js';
import { normalisePlateText } from '../plate/text.js';
import type { Read, VehicleDescriptors } from '../pipeline/read.js';
import { Type } from '@sinclair/typebox';
import type { ImageBucketWidth } from '../state/database.js';
import type { DeviceKeys } from '../state/device-keys.js';
import { decodeRecord, recordType, type StoredReadRecord } from '../state/records.js';
import { VEHICLE_COLOURS } from '../inference/vehicle-colour.js';

export type ImageKind = 'plate' | 'overview';
export type ImagesIn = ImageBucketWidth | 'kept';

/** The part of a read sealed with the device key (P16): what identifies a vehicle and where it was. */
export interface SealedPart {
  plate: string;
  state: string | null;
  stateConfidence: number | null;
  candidates: TextCandidate[];
  location: LocationConfig;
  /** Sealed with the plate: a vehicle description is personal data too. Absent in older records. */
  vehicle?: VehicleDescriptors | null;
}

/** What a read keeps in the clear, both in LMDB and in the views handed out. */
interface ReadMetadata {
  deviceId: string;
  cameraId: string;
  firstSeenAt: string;
  lastSeenAt: string;
  confidence: number;
  agreement: number;
  frames: number;
  box: Box;
  modelVersion: string;
  imageBytes: Record<ImageKind, number>;
}

/** A read as it lies in LMDB: times, camera and scores in the clear (to index and purge), the rest sealed (schema: state/records.ts). */
export type StoredRead = StoredReadRecord;

/**
 * A stored read from what LMDB handed back (`decodeRecord` with the `reads` schema), or undefined
 * when there is none or it is damaged: the store counts and logs a damaged one (CorruptRecordError,
 * naming the sub-database and key) and every reader of `reads` skips it.
 */
export type StoredReadDecoder = (id: string, value: unknown) => StoredRead | undefined;

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

/** The sealed part once opened: checked like every record before use (a seal only proves who wrote it). */
const SEALED_PART = recordType('reads', Type.Object({
  plate: Type.String(),
  state: Type.Union([Type.String(), Type.Null()]),
  stateConfidence: Type.Union([Type.Number(), Type.Null()]),
  candidates: Type.Array(Type.Object({ text: Type.String(), confidence: Type.Number() })),
  location: Type.Object({ latitude: Type.Number(), longitude: Type.Number(), headingDeg: Type.Number(), description: Type.String() }),
  vehicle: Type.Optional(Type.Union([Type.Object({ colour: literals(VEHICLE_COLOURS), colourConfidence: Type.Number() }), Type.Null()])),
}));

/** A read as the query API and exports hand it out (images fetched separately). */
export interface ReadView extends SealedPart, ReadMetadata {
  id: string;
  capturedAt: string;
}

/** A read sealed for the store: the record and its two sealed images. */
export interface SealedRead {
  id: string;
  stored: StoredRead;
  images: Record<ImageKind, Buffer>;
}

/**
 * Seals a read with the current data key (P16): plate, candidates, location and vehicle in one
 * sealed part, each image on its own, all bound to the read id; the plate's keyed tags (exact and
 * look-alike) stay in the clear for the indexes.
 */
export function sealRead(read: Read, keys: DeviceKeys, imagesIn: ImagesIn): SealedRead {
  const kid = keys.currentKeyId;
  const plate = normalisePlateText(read.plate);
  const part: SealedPart = { plate, state: read.state, stateConfidence: read.stateConfidence, candidates: read.candidates, location: read.location, vehicle: read.vehicle ?? null };
  const stored: StoredRead = {
    v: 1,
    kid,
    deviceId: read.deviceId,
    cameraId: read.cameraId,
    capturedAtMs: Date.parse(read.capturedAt),
    firstSeenAt: read.firstSeenAt,
    lastSeenAt: read.lastSeenAt,
    confidence: read.confidence,
    agreement: read.agreement,
    frames: read.frames,
    box: read.box,
    modelVersion: read.modelVersion,
    imageBytes: { plate: read.plateJpeg.length, overview: read.overviewJpeg.length },
    tags: { plate: keys.indexTag(kid, plate), lookAlike: keys.indexTag(kid, 'la:' + lookAlikeKey(plate)) },
    sealed: keys.seal(Buffer.from(JSON.stringify(part)), `read:${read.id}`, kid),
    imagesIn,
  };
  return {
    id: read.id,
    stored,
    images: {
      plate: keys.seal(read.plateJpeg, `image:${read.id}:plate`, kid),
      overview: keys.seal(read.overviewJpeg, `image:${read.id}:overview`, kid),
    },
  };
}

/** Opens a stored record into the view handed out; throws on a seal that does not open or a sealed part that is damaged. */
export function openRead(id: string, s: StoredRead, keys: DeviceKeys): ReadView {
  const part: SealedPart = decodeRecord(SEALED_PART, `${id} (sealed part)`, JSON.parse(keys.open(s.sealed, `read:${id}`, s.kid).toString('utf8')));
  return {
    id,
    deviceId: s.deviceId,
    cameraId: s.cameraId,
    capturedAt: new Date(s.capturedAtMs).toISOString(),
    firstSeenAt: s.firstSeenAt,
    lastSeenAt: s.lastSeenAt,
    confidence: s.confidence,
    agreement: s.agreement,
    frames: s.frames,
    box: s.box,
    modelVersion: s.modelVersion,
    imageBytes: s.imageBytes,
    ...part,
  };
}
