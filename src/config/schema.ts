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

/**
 * libav decoder frame threads per camera unless configured (0 keeps libav's own: one per core plus
 * one, 5 on a quad-core board, each holding its own frames). An RTSP outage test that once failed in
 * fresh clones failed with the cap off as well, so the cap was not its cause.
 */
export const DEFAULT_DECODER_THREADS = 2;

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
    realtime: Type.Boolean({ default: true, description: 'File sources: play at the clip frame rate like a live camera (frames dropped while busy); false analyses every frame, up to fpsCap per second of video, as fast as the machine allows.' }),
    decoderThreads: Type.Integer({
      minimum: 0,
      maximum: 16,
      default: DEFAULT_DECODER_THREADS,
      description: 'Threads of a software (libav) decoder. Each holds its own frames and reference pictures; 0 = one per core. Hardware decoders ignore it.',
    }),
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
    detector: Type.String({ default: 'detector-int8', description: 'Manifest name of the plate detector (detector-fp32 for the FP32 twin).' }),
    reader: Type.String({ default: 'reader-int8', description: 'Manifest name of the plate reader (reader-fp32 for the FP32 twin).' }),
    intraOpThreads: Type.Integer({ minimum: 1, maximum: 16, default: 1, description: 'onnxruntime threads per model run.' }),
    detectorMaxSide: Type.Integer({ minimum: 320, maximum: 1920, default: 640, description: 'Working resolution: longest side of the frame as fed to the detector (padded to a multiple of 32). 640 keeps a 40 px plate of a 1280x720 frame at 20 px, which the detector is trained to find.' }),
    fineLookSide: Type.Integer({ minimum: 0, maximum: 3840, default: 1280, description: 'The detector\'s fine look: a still picture (`read` of an image), and every fineLookEveryFrames-th analysed camera frame, is also looked at with this long side, for plates too small at the working resolution (a 50 px plate of a 1280x720 photo is 25 px at 640). At most detectorMaxSide (0): off.' }),
    fineLookEveryFrames: Type.Integer({ minimum: 0, maximum: 1000, default: 0, description: 'Camera frames: every this many analysed frames one gets the fine look (0: stills only). Each costs a network run at about 4x the pixels of the working resolution.' }),
  },
  { additionalProperties: false, default: {} },
);

const Thresholds = Type.Object(
  {
    detection: Type.Number({ minimum: 0, maximum: 1, default: 0.4, description: 'Minimum detector score for a plate box. Far plates score low: 40 px plates of a 1280x720 frame were found 40 % of the time at 0.5, 70 % at 0.4, 86 % at 0.3, which also adds a few false plates on stills (docs/models.md, "Plate size, measured").' }),
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
    console: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'Serve the web console (docs/console.md) on this server; off leaves the API and health only.' }),
        idleMinutes: Type.Integer({ minimum: 1, maximum: 240, default: 15, description: 'A console session with no user action for this long is signed out (the live view and health polling do not count as action).' }),
        maxSessionHours: Type.Integer({ minimum: 1, maximum: 24, default: 12, description: 'A console session ends this long after sign-in, active or not.' }),
        liveMaxFps: Type.Number({ minimum: 0.5, maximum: 10, default: 4, description: 'Live-view frames per second a viewer may fetch per camera at most; frames are encoded only while someone watches.' }),
      },
      { additionalProperties: false, default: {}, description: 'The local web console: technician live view and health, investigator search, administration.' },
    ),
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

const Store = Type.Object(
  {
    path: Type.String({ default: '', description: 'LMDB directory of the state database: read store, access log, MQTT outbox (empty: `<stateDir>/store`).' }),
    retentionDays: Type.Number({ minimum: 0.001, maximum: 3650, default: 30, description: 'P3: reads older than this are never returned and are purged (reads under an evidence hold are kept).' }),
    purgeIntervalS: Type.Integer({ minimum: 1, maximum: 86400, default: 60, description: 'How often the retention and disk-budget purge runs (also once at start).' }),
    purgeBatchSize: Type.Integer({ minimum: 10, maximum: 100000, default: 500, description: 'Reads deleted with their images per write transaction, so a purge never stalls the pipeline; four times as many when their images go with a dropped hour (a quarter of the work each).' }),
    maxBytes: Type.Integer({ minimum: 1048576, default: 34359738368, description: 'Disk budget of the store (30 days at 20k reads/day with ~30 KB of images is about 20 GB); above it the oldest reads not under hold are purged early and health turns degraded.' }),
    minFreeBytes: Type.Integer({ minimum: 0, default: 536870912, description: 'Free space to leave on the file system; below it the oldest reads not under hold are purged.' }),
    mapSizeBytes: Type.Integer({ minimum: 1048576, default: 34359738368, description: 'Initial LMDB map (virtual address space, not disk); grown automatically when full.' }),
    queueMax: Type.Integer({ minimum: 1, maximum: 100000, default: 1000, description: 'Reads waiting to be written; beyond it the oldest waiting read is dropped and counted (the camera loop never waits on the disk).' }),
    forwardThenPurge: Type.Boolean({ default: false, description: 'P5: delete a read locally once the central side has acknowledged it (reads under hold are kept).' }),
  },
  { additionalProperties: false, default: {} },
);

const Access = Type.Object(
  {
    tokenTtlS: Type.Integer({ minimum: 60, maximum: 86400, default: 900, description: 'Lifetime of an API token after login.' }),
    maxFailedLogins: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'Failed logins in a row that lock an account.' }),
    lockoutMinutes: Type.Integer({ minimum: 1, maximum: 10080, default: 15, description: 'How long a locked account stays locked.' }),
    loginRateLimitPerMinute: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'Login attempts per client address per minute.' }),
    anchorIntervalMinutes: Type.Integer({ minimum: 1, maximum: 1440, default: 15, description: 'P6: the signed access-log head is published on MQTT `anchors` at least this often (and at start, and after each export, hold change, user change and audit).' }),
  },
  { additionalProperties: false, default: {} },
);

const SharingAgency = Type.Object(
  {
    name: Type.String({ minLength: 2, maxLength: 200, description: 'The agency as named in the MOU; requests match it ignoring case, accents, punctuation and look-alike letters.' }),
    state: Type.String({ pattern: '^[A-Z]{2}$', description: 'Its state (two-letter code); a request must give the same.' }),
    aliases: Type.Array(Type.String({ minLength: 2, maxLength: 200 }), { default: [], maxItems: 16, description: 'Other names a request may use for it, e.g. `SJPD`.' }),
  },
  { additionalProperties: false },
);

const Sharing = Type.Object(
  {
    inStateOnly: Type.Boolean({ default: true, description: 'P14: refuse sharing requests from agencies outside `homeState`.' }),
    homeState: Type.String({ pattern: '^[A-Z]{2}$', default: 'CA', description: 'State of this department (two-letter code).' }),
    allowedAgencies: Type.Array(SharingAgency, {
      default: [],
      maxItems: 1000,
      description: 'P14: the agencies this department shares with under an MOU, each with its state. Empty: any agency may ask (the other rules still apply). Set: a request from an agency not on it is refused outright. A federal immigration agency cannot be listed (`config check` refuses it).',
    }),
  },
  { additionalProperties: false, default: {} },
);

const PublisherKey = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Key id named in the signed list header.' }),
    file: Type.String({ minLength: 1, description: 'Ed25519 public key (PEM); relative paths resolve against the install directory.' }),
  },
  { additionalProperties: false },
);

const HotLists = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Match reads against hot lists (P10–P12).' }),
    publisherKeys: Type.Array(PublisherKey, { default: [], maxItems: 16, description: 'P10: keys whose signatures a list must carry; unsigned or otherwise signed lists are refused.' }),
    maxAgeHours: Type.Number({ minimum: 1, maximum: 8760, default: 24, description: 'P10: a list issued longer ago than this is stale: health turns degraded and a `hotlist-stale` event is published.' }),
    maxListBytes: Type.Integer({ minimum: 1024, maximum: 1073741824, default: 268435456, description: 'Largest signed list accepted, compressed or not (a bigger one is refused, the old list stays).' }),
    localEntryMaxDays: Type.Integer({ minimum: 1, maximum: 365, default: 30, description: 'Local entries expire at most this many days after entry.' }),
    checkIntervalS: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'How often lists are checked for staleness and for versions installed by `alpr-edge hotlist import`.' }),
  },
  { additionalProperties: false, default: {} },
);

const MqttTls = Type.Object(
  {
    caFile: Type.String({ default: '', description: 'P16: CA certificate (PEM) the broker must chain to; only this CA is trusted (pinning).' }),
    certFile: Type.String({ default: '', description: 'P16: this device\'s client certificate (PEM).' }),
    keyFile: Type.String({ default: '', description: 'Private key of the client certificate (PEM).' }),
    serverName: Type.String({ default: '', description: 'Name the broker certificate must carry (default: the URL host).' }),
  },
  { additionalProperties: false, default: {} },
);

const Mqtt = Type.Object(
  {
    url: Type.String({ default: '', pattern: '^(|mqtts://.+|mqtt://.+)$', description: 'Central broker, e.g. mqtts://broker.example:8883. Empty: no broker (the embedded one when `embeddedBroker.enabled`).' }),
    allowPlainText: Type.Boolean({ default: false, description: 'P16: permit an mqtt:// (unencrypted) URL. Only for loopback demos and tests.' }),
    protocolVersion: Type.Union([Type.Literal(5), Type.Literal(4)], { default: 5, description: 'MQTT 5 (correlation data, response topics, user properties) or 3.1.1.' }),
    clientId: Type.String({ default: '', maxLength: 128, description: 'MQTT client id (default: `alpr-edge-<deviceId>`).' }),
    username: Type.String({ default: '', description: 'Optional username (in addition to the client certificate).' }),
    passwordFile: Type.String({ default: '', description: 'File holding the password for `username`.' }),
    tls: MqttTls,
    publishReads: Type.Boolean({ default: true, description: 'Publish read metadata (no images) on `reads` for the central store.' }),
    keepaliveS: Type.Integer({ minimum: 5, maximum: 3600, default: 30, description: 'MQTT keepalive.' }),
    reconnectMaxDelayMs: Type.Integer({ minimum: 100, maximum: 600000, default: 30000, description: 'Longest wait between reconnects (exponential backoff from 500 ms, ±20 % jitter).' }),
    outboxMaxMessages: Type.Integer({ minimum: 10, maximum: 10000000, default: 200000, description: 'Messages the durable outbox holds; when full, reads are dropped oldest-first, then events; hits last.' }),
    outboxMaxBytes: Type.Integer({ minimum: 65536, default: 1073741824, description: 'Bytes the durable outbox holds (same drop order). It lies in the state database (`store.path`) but outside the store\'s disk budget (`store.maxBytes`).' }),
    inflight: Type.Integer({ minimum: 1, maximum: 1000, default: 32, description: 'QoS 1 messages sent before their acknowledgement arrives.' }),
    maxCommandBytes: Type.Integer({ minimum: 1024, maximum: 268435456, default: 8388608, description: 'Largest command payload (one hot-list chunk) accepted.' }),
    telemetryIntervalS: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'Seconds between health telemetry messages (retained, `alpr/v1/<deviceId>/telemetry`: fps and drops per camera, last read age, hot-list ages, outbox, disk, clock; never plate text). Also sent on each connect.' }),
    embeddedBroker: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'Demo: with no `url`, run an MQTT broker inside the daemon and publish to it.' }),
        host: Type.String({ default: '127.0.0.1', description: 'Bind address of the embedded broker.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 1883, description: '0 picks a free port.' }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);

const GpioPin = (what: string) =>
  Type.Optional(Type.Integer({ minimum: 0, maximum: 4095, description: `Linux GPIO number (sysfs numbering, as onoff uses it) of ${what}; unset: not connected.` }));

const Gpio = Type.Object(
  {
    statusLedPin: GpioPin('the status LED'),
    statusLedActiveLow: Type.Boolean({ default: false, description: 'The LED lights when the pin is low.' }),
    irIlluminatorPin: GpioPin('the infrared illuminator switch (output)'),
    irIlluminatorActiveLow: Type.Boolean({ default: false, description: 'The illuminator is on when the pin is low.' }),
    irMode: Type.Union([Type.Literal('sun'), Type.Literal('sensor')], { default: 'sun', description: 'sun: switch by the sun\'s elevation at `location`; sensor: follow `lightSensorPin`.' }),
    irOnBelowSunElevationDeg: Type.Number({ minimum: -18, maximum: 20, default: -3, description: 'sun mode: the illuminator is on while the sun is lower than this (degrees; 0 = horizon, -6 = end of civil twilight).' }),
    irHysteresisDeg: Type.Number({ minimum: 0, maximum: 10, default: 1, description: 'sun mode: the sun must rise this much above the threshold before the illuminator goes off again (no flicker at dusk).' }),
    lightSensorPin: GpioPin('a day/night light sensor (input)'),
    lightSensorDarkValue: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 1, description: 'sensor mode: the pin value that means dark.' }),
    tamperPin: GpioPin('the tamper/door switch (input)'),
    tamperOpenValue: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 1, description: 'The pin value when the enclosure is open (a normally-closed switch with a pull-up reads 1 when opened).' }),
    tamperDebounceMs: Type.Integer({ minimum: 0, maximum: 5000, default: 100, description: 'A tamper change must last this long to count.' }),
  },
  { additionalProperties: false, default: {}, description: 'Status LED, IR illuminator and tamper switch on GPIO pins. All unset by default: no GPIO is used.' },
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
    store: Store,
    access: Access,
    sharing: Sharing,
    hotlists: HotLists,
    mqtt: Mqtt,
    gpio: Gpio,
    maxWedgedPipelines: Type.Integer({
      minimum: 0,
      default: 3,
      description:
        'Restart the daemon (exit 75; systemd starts it again) once this many capture pipelines have wedged while stopping and been left behind, all cameras together. Each keeps GStreamer threads, a socket and frame buffers until the process ends (rtspsrc, GStreamer 1.22, when an RTSP camera vanishes mid-stream). 0 = never.',
    }),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type CameraConfig = Static<typeof Camera>;
export type LocationConfig = Static<typeof Location>;
export type StoreConfig = Static<typeof Store>;
export type AccessConfig = Static<typeof Access>;
export type SharingConfig = Static<typeof Sharing>;
export type HotListsConfig = Static<typeof HotLists>;
export type MqttConfig = Static<typeof Mqtt>;
export type GpioConfig = Static<typeof Gpio>;
