import type { Box } from '../inference/image.js';
import type { TextCandidate } from '../inference/reader.js';
import type { LocationConfig } from '../config/schema.js';
import type { VehicleColourEstimate } from '../inference/vehicle-colour.js';

/**
 * One vehicle pass as the product records it (P2): what was read, how sure, the evidence images,
 * where, when and by which models. The pipeline makes reads; store, hot list and MQTT consume them.
 */
export interface Read {
  /** Time-ordered, unique per device (ULID). */
  id: string;
  deviceId: string;
  cameraId: string;
  plate: string;
  /** US state code, or null when the models are not sure (P13: no state beats a wrong one). */
  state: string | null;
  stateConfidence: number | null;
  confidence: number;
  /** Share of the frames' vote the plate text won. */
  agreement: number;
  /** Best first, at most 10, the read plate included. */
  candidates: TextCandidate[];
  /** UTC time of the frame the evidence images come from. */
  capturedAt: string;
  firstSeenAt: string;
  lastSeenAt: string;
  /** Frames the plate was read in. */
  frames: number;
  /** Plate box in the overview image. */
  box: Box;
  plateJpeg: Buffer;
  overviewJpeg: Buffer;
  location: LocationConfig;
  modelVersion: string;
  /** Descriptors of the vehicle around the plate, as estimates (P13: they help verify a hit, never replace it). */
  vehicle?: VehicleDescriptors | null;
}

export interface VehicleDescriptors {
  colour: VehicleColourEstimate['colour'];
  colourConfidence: number;
}

/** Where reads go next. The store, the hot-list matcher and MQTT each implement this. */
export interface ReadSink {
  readonly name: string;
  accept(read: Read): Promise<void>;
}
