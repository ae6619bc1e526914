import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Progress on stderr: a bar on a terminal, a line every few seconds in logs and pipes. */
export function createProgress(total: number, label: string): { tick(): void; stop(): void } {
  if (total < 5) return { tick() {}, stop() {} };
  if (process.stderr.isTTY) {
    // Loaded only to draw a bar: a `read` of one image never does (start-up, issue 23).
    const cliProgress = require('cli-progress') as typeof import('cli-progress');
    const bar = new cliProgress.SingleBar({ stream: process.stderr, format: `${label} [{bar}] {value}/{total} {eta_formatted} left`, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(total, 0);
    return { tick: () => bar.increment(), stop: () => bar.stop() };
  }
  let done = 0;
  let last = Date.now();
  const started = last;
  return {
    tick() {
      done++;
      const now = Date.now();
      if (now - last > 5000 || done === total) {
        last = now;
        const rate = done / ((now - started) / 1000);
        process.stderr.write(`${label}: ${done}/${total} (${rate.toFixed(1)}/s, ~${Math.round((total - done) / Math.max(rate, 1e-6))} s left)\n`);
      }
    },
    stop() {},
  };
}
