// Used by scripts/arm64-check: a few frames from GStreamer's test source through our own
// CameraSource (through playSource, as `read` and the bench play files), and the GPIO binding loaded, so the arm64 builds of our GStreamer addon
// (native/gst-capture) and epoll (the addons we compile for the target) are exercised by the code
// that uses them.
// Prints one JSON line; the check runs it on x86 and under qemu-aarch64 and compares the lines.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { playSource } from '../../src/capture/play-file.js';
import type { Frame } from '../../src/capture/frame.js';
import { createLogger } from '../../src/log.js';

const FRAMES = 3;
const TIMEOUT_MS = 120_000; // emulated GStreamer start-up takes seconds; a wedged one must not hang the check

async function captureFrames(): Promise<Frame[]> {
  const frames: Frame[] = [];
  await playSource(
    // smpte is a fixed still pattern: its RGB bytes depend only on the conversion code, not on timing.
    'test://?pattern=smpte&width=320&height=240&fps=10',
    {
      id: 'smoke',
      fps: 10,
      // No frame within this counts as a failed capture: a wedged pipeline must not hang the check.
      stallTimeoutMs: TIMEOUT_MS,
      logger: createLogger('warn').child({ component: 'arm64-smoke' }),
      onFrame: async (frame) => {
        frames.push(frame);
        return frames.length === FRAMES ? 'stop' : undefined;
      },
    },
  );
  if (frames.length < FRAMES) throw new Error(`capture ended after ${frames.length} of ${FRAMES} frames`);
  return frames;
}

const frames = await captureFrames();
const gpio = createRequire(import.meta.url)('onoff') as { Gpio: { accessible: boolean } };
process.stdout.write(
  JSON.stringify({
    arch: process.arch,
    frames: frames.length,
    size: `${frames[0]?.width}x${frames[0]?.height}`,
    rgbSha256: createHash('sha256').update(frames[0]?.rgb ?? Buffer.alloc(0)).digest('hex').slice(0, 16),
    // Loading onoff loads the epoll addon; no GPIO exists under emulation, so accessible is false.
    gpioAccessible: gpio.Gpio.accessible,
  }) + '\n',
);
