/** One decoded video frame as handed from capture to inference. */
export interface Frame {
  cameraId: string;
  /** Monotonic per camera, starting at 0 for each (re)connection's first frame + frames before it. */
  seq: number;
  /** Wall-clock time (ms since epoch, UTC) when the frame left the decoder. */
  capturedAtMs: number;
  /** Presentation timestamp from the stream, ms, when known. */
  ptsMs?: number;
  width: number;
  height: number;
  /** Packed RGB24, row stride = width * 3. This is also the frame the overview JPEG is made from. */
  rgb: Buffer;
  /**
   * Smaller copies of this frame that the capture made off the JS thread, largest first, packed
   * RGB24 (CameraSourceOptions.scaledLongSides: the detector's working resolution and its coarse
   * look); absent when none was asked for or made.
   */
  scaled?: { width: number; height: number; rgb: Buffer }[];
}

export type CameraState = 'starting' | 'online' | 'reconnecting' | 'offline' | 'stopped' | 'ended';

export interface CameraStatus {
  id: string;
  state: CameraState;
  /** Why the camera is not online (last error, end of stream, ...). */
  reason?: string;
  lastFrameAtMs?: number;
  framesIn: number;
  framesDropped: number;
  decodeErrors: number;
  reconnects: number;
  /** Decoder element chosen for the stream (hardware when present). */
  decoder?: string;
}
