import type { LocationConfig } from '../config/schema.js';
import type { Box } from '../inference/image.js';
import type { TextCandidate } from '../inference/reader.js';
import { lookAlikeKey } from '../plate/look-alike.js';
import { normalisePlateText } from '../plate/text.js';
import type { Read, VehicleDescriptors } from '../pipeline/read.js';
import type { ImageBucketWidth } from '../state/database.js';
import { SealError, type DeviceKeys } from '../state/device-keys.js';

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

/** A read as it lies in LMDB: times, camera and scores in the clear (to index and purge), the rest sealed. */
export interface StoredRead extends ReadMetadata {
  v: 1;
  /** Data key the sealed part and images were sealed with (keys rotate; old ones stay to read). */
  kid: string;
  capturedAtMs: number;
  /** Keyed tags of the plate (exact and look-alike) so its index entries can be removed unsealed. */
  tags: { plate: string; lookAlike: string };
  sealed: Buffer;
  /**
   * Where the sealed images lie: 'hour' or 'day', the bucket database of that UTC hour or day of the
   * id (dropped whole once past retention); 'kept', `keptImages` (the read outlived its bucket's
   * drop: held, P4). Absent in reads stored before buckets: `legacyImages`, until they are purged.
   */
  imagesIn?: ImagesIn;
}

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

/** Opens a stored record into the view handed out; throws on an unknown shape or a seal that does not open. */
export function openRead(id: string, value: unknown, keys: DeviceKeys): ReadView {
  const s = value as StoredRead;
  if (!s || s.v !== 1 || !s.sealed) throw new SealError('record has an unknown shape', String((s as { kid?: unknown })?.kid));
  const part = JSON.parse(keys.open(s.sealed, `read:${id}`, s.kid).toString('utf8')) as SealedPart;
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
