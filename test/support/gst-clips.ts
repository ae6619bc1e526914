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

/**
 * Writes an H.264 MP4 that shows each JPEG picture for `hold` frames, with hard cuts between
 * them (a slide show of vehicles). The pictures must share one size.
 */
export async function makeSlideShowClip(path: string, jpegs: Buffer[], opts: { hold: number; fps: number; dir: string }): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  let n = 0;
  for (const jpeg of jpegs) for (let i = 0; i < opts.hold; i++) await writeFile(join(opts.dir, `slide-${String(n++).padStart(5, '0')}.jpg`), jpeg);
  await run(
    'gst-launch-1.0',
    [
      '-q',
      'multifilesrc',
      `location=${join(opts.dir, 'slide-%05d.jpg')}`,
      'index=0',
      `caps=image/jpeg,framerate=${opts.fps}/1`,
      '!',
      'jpegdec',
      '!',
      'videoconvert',
      '!',
      'video/x-raw,format=I420',
      '!',
      'x264enc',
      'speed-preset=ultrafast',
      'threads=1',
      `key-int-max=${opts.fps}`,
      '!',
      'mp4mux',
      '!',
      'filesink',
      `location=${path}`,
    ],
    { timeout: 60_000 },
  );
}
