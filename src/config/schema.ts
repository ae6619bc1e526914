import { Type, type Static } from '@sinclair/typebox';

// The single source of truth for configuration: validation (Ajv), TypeScript types, defaults and
// docs/configuration.md are all derived from this schema. Keep descriptions written for the people
// who edit /etc/alpr-edge/config.json in the field.

const RegionOfInterest = Type.Object(
  {
    x: Type.Integer({ minimum: 0, description: 'Left edge in source pixels.' }),
    y: Type.Integer({ minimum: 0, description: 'Top edge in source pixels.' }),
    width: Type.Integer({ minimum: 16, description: 'Width in source pixels.' }),
    height: Type.Integer({ minimum: 16, description: 'Height in source pixels.' }),
  },
  { additionalProperties: false, description: 'Part of the picture where plates can appear; cropped before inference.' },
);

const Camera = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Camera id carried in every read.' }),
    uri: Type.String({
      pattern: '^(rtsps?://|file://|/|v4l2://|test://)',
      description: 'rtsp://user:pass@host/path, v4l2:///dev/video0, /dev/video0, file:///path.mp4 (or an absolute path), test://',
    }),
    fpsCap: Type.Number({ minimum: 0.5, maximum: 120, default: 15, description: 'Frames per second handed to inference at most.' }),
    width: Type.Optional(Type.Integer({ minimum: 160, maximum: 3840, description: 'Frame width for inference and the overview image (default: source width).' })),
    height: Type.Optional(Type.Integer({ minimum: 120, maximum: 2160, description: 'Frame height (default: keeps the aspect ratio).' })),
    roi: Type.Optional(RegionOfInterest),
    loop: Type.Boolean({ default: false, description: 'File sources: start again at the end (demo).' }),
    realtime: Type.Boolean({ default: true, description: 'File sources: play at the clip frame rate like a live camera.' }),
    stallTimeoutMs: Type.Integer({ minimum: 500, default: 5000, description: 'No frame for this long: the camera is reconnected.' }),
    reconnectMaxDelayMs: Type.Integer({
      minimum: 500,
      maximum: 300000,
      default: 4000,
      description: 'Longest wait between reconnect attempts (exponential backoff from 500 ms, ±20 % jitter). Short, so a camera is back within seconds of returning; a refused connection costs no pipeline.',
    }),
  },
  { additionalProperties: false },
);

const Location = Type.Object(
  {
    latitude: Type.Number({ minimum: -90, maximum: 90, description: 'WGS84 degrees.' }),
    longitude: Type.Number({ minimum: -180, maximum: 180, description: 'WGS84 degrees.' }),
    headingDeg: Type.Number({ minimum: 0, maximum: 360, description: 'Direction the camera looks, degrees from true north.' }),
    description: Type.String({ default: '', maxLength: 200, description: 'Where the pole stands, for people.' }),
  },
  { additionalProperties: false },
);

const Models = Type.Object(
  {
    manifest: Type.String({ default: 'models/manifest.json', description: 'Model manifest (relative paths resolve against the install directory).' }),
    detector: Type.String({ default: 'ppocr-v4-det', description: 'Manifest name of the plate detector.' }),
    reader: Type.String({ default: 'ppocr-v4-rec', description: 'Manifest name of the plate reader.' }),
    intraOpThreads: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'onnxruntime threads per model run.' }),
    detectorMaxSide: Type.Integer({ minimum: 320, maximum: 1920, default: 960, description: 'Longest side of the frame as fed to the detector (multiple of 32 is used).' }),
  },
  { additionalProperties: false, default: {} },
);

const Thresholds = Type.Object(
  {
    detection: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'Minimum detector score for a plate box.' }),
    readConfidence: Type.Number({ minimum: 0, maximum: 1, default: 0.5, description: 'Minimum reader confidence for one frame\'s text to count.' }),
    minFrames: Type.Integer({ minimum: 1, default: 2, description: 'Frames a plate must be read in before a read is emitted.' }),
    minAgreement: Type.Number({ minimum: 0, maximum: 1, default: 0.4, description: 'Share of the vote the winning text needs.' }),
    trackTimeoutMs: Type.Integer({ minimum: 100, default: 1200, description: 'A plate unseen this long has left: its read is emitted.' }),
    maxCandidates: Type.Integer({ minimum: 1, maximum: 10, default: 10, description: 'Alternative texts kept per read.' }),
    repeatSuppressMs: Type.Integer({ minimum: 0, default: 10000, description: 'The same plate again from the same camera within this time is the same pass (stop-and-go traffic).' }),
  },
  { additionalProperties: false, default: {} },
);

const Http = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Bind address of the local health/metrics/query server.' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: '0 picks a free port.' }),
  },
  { additionalProperties: false, default: {} },
);

const Log = Type.Object(
  {
    level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'Plate text is only logged at debug and trace.' },
    ),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    deviceId: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Identity of this device, in every read and MQTT topic.' }),
    location: Location,
    cameras: Type.Array(Camera, { minItems: 1, maxItems: 8 }),
    models: Models,
    thresholds: Thresholds,
    http: Http,
    log: Log,
    stateDir: Type.String({ default: '/var/lib/alpr-edge', description: 'Where the device keeps its state (store, keys).' }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type CameraConfig = Static<typeof Camera>;
export type LocationConfig = Static<typeof Location>;
