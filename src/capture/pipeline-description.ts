import { CaptureConfigError } from './capture-errors.js';
import { chooseDecoder, type ElementAvailability, type EncodedCodec } from './decoder-choice.js';
import { parseSourceUri, type CameraSourceUri } from './source-uri.js';

export interface RegionOfInterest {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The subset of CameraSourceOptions that decides the GStreamer pipeline. */
export interface PipelineDescriptionOptions {
  id?: string;
  uri: string;
  fpsCap?: number;
  width?: number;
  height?: number;
  roi?: RegionOfInterest;
  realtime?: boolean;
  dropOldFrames?: boolean;
}

/** Element names CameraSource looks up in the running pipeline. */
export const APPSINK_NAME = 'sink';
export const RATE_NAME = 'rate';

/** Frames the source may hold between decoder and consumer: queue + appsink. */
export const QUEUE_FRAMES = 2;
export const APPSINK_FRAMES = 2;
/** rtspsrc tcp-timeout (microseconds): how long a request may wait for the camera to answer. */
export const RTSP_TCP_TIMEOUT_US = 5_000_000;

/**
 * gst-launch description for one camera, ending in an appsink named APPSINK_NAME that yields
 * packed RGB at the configured size (GStreamer pads rows to 4 bytes; the caller unpads).
 *
 * Order matters for CPU on small boards: rate-limit before the queue so surplus frames are
 * never converted, crop before scaling, and scale in YUV before the RGB conversion.
 */
export function buildPipelineDescription(opts: PipelineDescriptionOptions, available: ElementAvailability): string {
  validateGeometry(opts);
  const source = parseSourceUri(opts.uri, opts.id);
  const dropOld = opts.dropOldFrames ?? true;
  const segments: string[] = [sourceSegment(source, available)];

  // Only video may enter the rest of the chain: decodebin and rtspsrc also expose audio pads,
  // and a queue would happily link to one. (The test source already ends in caps, and
  // gst-launch syntax does not allow two caps in a row.)
  if (source.kind !== 'test') segments.push('video/x-raw');

  if (opts.fpsCap !== undefined && rateLimitedInGstreamer(source)) {
    segments.push(`videorate name=${RATE_NAME} drop-only=true max-rate=${Math.ceil(opts.fpsCap)}`);
    if (!Number.isInteger(opts.fpsCap)) segments.push(`video/x-raw,framerate=[0/1,${fraction(opts.fpsCap)}]`);
  }

  // The queue puts decoding and conversion on separate threads. Leaky: when conversion cannot keep
  // up, old decoded frames are discarded instead of stalling the decoder (and the camera's socket).
  // A file played in real time is paced by the sink clock; that back-pressure must reach the
  // decoder, or a leaky queue lets it decode the whole clip at CPU speed and discard it.
  const pacedFile = source.kind === 'file' && (opts.realtime ?? true);
  segments.push(
    `queue max-size-buffers=${QUEUE_FRAMES} max-size-bytes=0 max-size-time=0${dropOld && !pacedFile ? ' leaky=downstream' : ''}`,
  );

  if (opts.roi !== undefined) {
    const { x, y, width, height } = opts.roi;
    // right/bottom = -1 lets videocrop derive them from the caps that follow, so the source size
    // need not be known when the pipeline is built.
    segments.push(`videocrop left=${x} top=${y} right=-1 bottom=-1`, `video/x-raw,width=${width},height=${height}`);
  }

  segments.push('videoscale', 'videoconvert', outputCaps(opts));

  // Live sources must not be paced by the sink clock (that only adds latency); files are paced
  // when they should behave like a camera.
  const sync = source.kind === 'file' && (opts.realtime ?? true);
  segments.push(
    `appsink name=${APPSINK_NAME} max-buffers=${APPSINK_FRAMES} drop=${dropOld} sync=${sync} ` +
      'emit-signals=false enable-last-sample=false',
  );
  return segments.join(' ! ');
}

/** Decoder element the description will use, or undefined when decodebin picks one at runtime. */
export function plannedDecoder(uri: string, available: ElementAvailability): string | undefined {
  const source = parseSourceUri(uri);
  if (source.kind !== 'rtsp' || source.codec === 'auto') return undefined;
  return chooseDecoder(source.codec, available);
}

/**
 * videorate aborts the whole process (g_assert in gst_video_rate_push_buffer, GStreamer 1.22)
 * when frames arrive without durations and a variable frame rate, which RTSP cameras without VUI
 * timing produce. Files, V4L2 and the test source always carry durations; RTSP frames are rate
 * limited on arrival time in JS instead.
 */
export function rateLimitedInGstreamer(source: CameraSourceUri): boolean {
  return source.kind !== 'rtsp';
}

function sourceSegment(source: CameraSourceUri, available: ElementAvailability): string {
  switch (source.kind) {
    case 'test':
      return (
        `videotestsrc is-live=true pattern=${source.pattern} ! ` +
        `video/x-raw,width=${source.width},height=${source.height},framerate=${source.fps}/1`
      );
    case 'file': {
      const file = `filesrc location=${quote(source.path)}`;
      // decodebin holds back errors from elements it is still trying, and when a broken MP4 makes
      // qtdemux fail while typefind races it the error is never posted at all. Demuxing outside
      // decodebin keeps container errors (truncated, no moov) on the bus with their own words.
      if (/\.(mp4|m4v|mov|3gp)$/i.test(source.path)) return `${file} ! qtdemux name=qtdemux qtdemux.video_0 ! decodebin`;
      return `${file} ! decodebin`;
    }
    case 'v4l2':
      // Webcams offer raw YUYV or MJPEG; decodebin handles both.
      return `v4l2src device=${quote(source.device)} ! decodebin`;
    case 'rtsp': {
      const protocols = source.transport === 'auto' ? '' : ` protocols=${source.transport}`;
      // tcp-timeout bounds how long rtspsrc waits on a server that accepted the connection but
      // does not answer a request (default 20 s), and a stop issued meanwhile waits for it.
      // Answers from a working camera take milliseconds; UDP and TCP streams ran clean at 2 s.
      const rtsp = `rtspsrc location=${quote(source.location)} latency=200 tcp-timeout=${RTSP_TCP_TIMEOUT_US}${protocols}`;
      if (source.codec === 'auto') return `${rtsp} ! application/x-rtp,media=video ! decodebin`;
      return `${rtsp} ! application/x-rtp,media=video ! ${decodeChain(source.codec, available)}`;
    }
  }
}

function decodeChain(codec: EncodedCodec, available: ElementAvailability): string {
  const depayParse = codec === 'h264' ? 'rtph264depay ! h264parse' : 'rtph265depay ! h265parse';
  const decoder = chooseDecoder(codec, available);
  if (decoder === undefined) return `${depayParse} ! decodebin`;
  // Jetson's decoder outputs NVMM memory that only nvvidconv can bring back to system memory.
  if (decoder === 'nvv4l2decoder' && available.has('nvvidconv')) return `${depayParse} ! ${decoder} ! nvvidconv`;
  return `${depayParse} ! ${decoder}`;
}

function outputCaps(opts: PipelineDescriptionOptions): string {
  const fields = ['video/x-raw', 'format=RGB'];
  if (opts.width !== undefined) fields.push(`width=${opts.width}`);
  if (opts.height !== undefined) fields.push(`height=${opts.height}`);
  // With one side given, square pixels make videoscale derive the other from the aspect ratio
  // instead of stretching the pixel aspect ratio.
  if (opts.width !== undefined || opts.height !== undefined) fields.push('pixel-aspect-ratio=1/1');
  return fields.join(',');
}

function validateGeometry(opts: PipelineDescriptionOptions): void {
  const fail = (why: string): never => {
    throw new CaptureConfigError(opts.id, why);
  };
  const positiveInt = (name: string, value: number | undefined): void => {
    if (value !== undefined && (!Number.isInteger(value) || value <= 0)) fail(`${name} is ${value}: use a positive integer`);
  };
  positiveInt('width', opts.width);
  positiveInt('height', opts.height);
  if (opts.fpsCap !== undefined && !(opts.fpsCap > 0 && Number.isFinite(opts.fpsCap))) {
    fail(`fpsCap is ${opts.fpsCap}: use a positive number of frames per second, or leave it out for no cap`);
  }
  if (opts.roi !== undefined) {
    const { x, y, width, height } = opts.roi;
    if (![x, y].every((v) => Number.isInteger(v) && v >= 0)) fail(`roi x/y are ${x}/${y}: use non-negative integer source pixels`);
    positiveInt('roi.width', width);
    positiveInt('roi.height', height);
  }
}

/** GStreamer fraction for a non-integer rate, e.g. 0.5 → 1/2, 7.5 → 15/2. */
function fraction(rate: number): string {
  const den = 1000;
  const num = Math.round(rate * den);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const g = gcd(num, den);
  return `${num / g}/${den / g}`;
}

/** Double-quoted gst-launch string; backslash and quote are the only escapes the parser knows. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
