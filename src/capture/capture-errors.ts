/** A camera is configured in a way capture cannot honour; the message says what to change. */
export class CaptureConfigError extends Error {
  override readonly name = 'CaptureConfigError';
  constructor(
    readonly cameraId: string | undefined,
    message: string,
  ) {
    super(cameraId === undefined ? message : `camera ${cameraId}: ${message}`);
  }
}

/** The GStreamer binding could not be loaded, so no camera can run on this machine. */
export class GstreamerUnavailableError extends Error {
  override readonly name = 'GstreamerUnavailableError';
  constructor(cause: unknown) {
    super(
      'the GStreamer addon (native/gst-capture) failed to load: install GStreamer 1.x with libgstreamer1.0-dev and ' +
        'libgstreamer-plugins-base1.0-dev, then build it with `npm run build:native` (scripts/setup does both)',
      { cause },
    );
  }
}
