import { AlprError, EX_CONFIG, EX_UNAVAILABLE } from '../errors.js';

/** A camera is configured in a way capture cannot honour; the message says what to change. */
export class CaptureConfigError extends AlprError {
  constructor(
    readonly cameraId: string | undefined,
    message: string,
  ) {
    super(cameraId === undefined ? message : `camera ${cameraId}: ${message}`, cameraId === undefined ? 'cameras' : `cameras.${cameraId}`, EX_CONFIG);
  }
}

/** The GStreamer binding could not be loaded, so no camera can run on this machine. */
export class GstreamerUnavailableError extends AlprError {
  constructor(cause: unknown) {
    super(
      'the GStreamer addon (native/gst-capture) failed to load: install GStreamer 1.x with libgstreamer1.0-dev and ' +
        'libgstreamer-plugins-base1.0-dev, then build it with `npm run build:native` (scripts/setup does both)',
      'native/gst-capture',
      EX_UNAVAILABLE,
      { cause },
    );
  }
}
