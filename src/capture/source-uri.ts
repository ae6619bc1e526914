import { fileURLToPath } from 'node:url';
import { CaptureConfigError } from './capture-errors.js';

export type RtspTransport = 'tcp' | 'udp' | 'auto';
export type VideoCodec = 'h264' | 'h265' | 'auto';

export type CameraSourceUri =
  | { kind: 'rtsp'; location: string; transport: RtspTransport; codec: VideoCodec }
  | { kind: 'v4l2'; device: string }
  | { kind: 'file'; path: string }
  | { kind: 'test'; pattern: string; width: number; height: number; fps: number };

const SUPPORTED =
  'use rtsp://host/path, rtsps://host/path, v4l2:///dev/videoN, /dev/videoN, file:///abs/path.mp4, a plain file path, or test://';

/**
 * Our own query parameters on rtsp URIs. They are removed before the URI reaches the camera,
 * so they must not collide with vendor parameters (Axis uses `videocodec`, Hikvision `transportmode`).
 */
const RTSP_TRANSPORTS: readonly RtspTransport[] = ['tcp', 'udp', 'auto'];
const RTSP_CODECS: readonly VideoCodec[] = ['h264', 'h265', 'auto'];

export function parseSourceUri(uri: string, cameraId?: string): CameraSourceUri {
  const fail = (why: string): never => {
    throw new CaptureConfigError(cameraId, `uri "${redactUri(uri)}" ${why}`);
  };
  if (uri.trim() === '') fail(`is empty: ${SUPPORTED}`);
  if (/^rtsps?:\/\//i.test(uri)) return parseRtsp(uri, fail);
  if (/^v4l2:\/\//i.test(uri)) {
    const device = uri.replace(/^v4l2:\/\//i, '');
    if (!device.startsWith('/dev/')) fail('must name a device node, e.g. v4l2:///dev/video0');
    return { kind: 'v4l2', device };
  }
  if (/^\/dev\/video\d+$/.test(uri)) return { kind: 'v4l2', device: uri };
  if (/^file:\/\//i.test(uri)) {
    let path = '';
    try {
      path = fileURLToPath(uri);
    } catch {
      fail('is not a valid file URL: use file:///absolute/path.mp4');
    }
    return { kind: 'file', path };
  }
  if (/^test:\/\//i.test(uri)) return parseTest(uri, fail);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) fail(`has an unsupported scheme: ${SUPPORTED}`);
  return { kind: 'file', path: uri };
}

function parseRtsp(uri: string, fail: (why: string) => never): CameraSourceUri {
  const queryAt = uri.indexOf('?');
  if (queryAt < 0) return { kind: 'rtsp', location: uri, transport: 'tcp', codec: 'h264' };
  const params = new URLSearchParams(uri.slice(queryAt + 1));
  const transport = (params.get('transport') ?? 'tcp').toLowerCase() as RtspTransport;
  const codec = (params.get('codec') ?? 'h264').toLowerCase() as VideoCodec;
  if (!RTSP_TRANSPORTS.includes(transport)) fail(`has transport=${transport}: use transport=tcp, udp or auto`);
  if (!RTSP_CODECS.includes(codec)) fail(`has codec=${codec}: use codec=h264, h265 or auto`);
  params.delete('transport');
  params.delete('codec');
  const rest = params.toString();
  const location = uri.slice(0, queryAt) + (rest === '' ? '' : `?${rest}`);
  return { kind: 'rtsp', location, transport, codec };
}

function parseTest(uri: string, fail: (why: string) => never): CameraSourceUri {
  const queryAt = uri.indexOf('?');
  const params = new URLSearchParams(queryAt < 0 ? '' : uri.slice(queryAt + 1));
  const integer = (key: string, fallback: number, min: number, max: number): number => {
    const raw = params.get(key);
    if (raw === null) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) fail(`has ${key}=${raw}: use an integer from ${min} to ${max}`);
    return value;
  };
  const pattern = params.get('pattern') ?? 'ball';
  // The pattern lands in a gst-launch description, so only nick-like names are allowed.
  if (!/^[a-z0-9-]+$/.test(pattern)) fail(`has pattern=${pattern}: use a videotestsrc pattern name such as ball or smpte`);
  return {
    kind: 'test',
    pattern,
    width: integer('width', 640, 16, 7680),
    height: integer('height', 480, 16, 4320),
    fps: integer('fps', 30, 1, 240),
  };
}

/** Camera URIs carry credentials; never log them. */
export function redactUri(uri: string): string {
  return uri.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_match, scheme: string, userinfo: string) => {
    const user = userinfo.split(':')[0] ?? '';
    return `${scheme}${user}:***@`;
  });
}
