import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ClipOptions {
  frames: number;
  width?: number;
  height?: number;
  fps?: number;
}

/** Writes a small H.264 MP4 of videotestsrc frames with gst-launch-1.0. */
export async function makeH264Clip(path: string, opts: ClipOptions): Promise<void> {
  const { frames, width = 160, height = 120, fps = 30 } = opts;
  await run(
    'gst-launch-1.0',
    [
      '-q',
      'videotestsrc',
      `num-buffers=${frames}`,
      '!',
      `video/x-raw,format=I420,width=${width},height=${height},framerate=${fps}/1`,
      '!',
      'x264enc',
      'speed-preset=ultrafast',
      `key-int-max=${fps}`,
      '!',
      'mp4mux',
      '!',
      'filesink',
      `location=${path}`,
    ],
    { timeout: 20_000 },
  );
}
