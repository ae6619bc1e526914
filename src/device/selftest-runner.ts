import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import type { CheckResult } from './selftest.js';

// The self-test run from the console, beside the running daemon. It runs as a child process
// (`alpr-edge selftest --json`), never in the daemon: it loads the models and opens the state
// database a second time (LMDB allows one environment per process), which would stall the daemon's
// event loop and its cameras. The child runs at a lower priority, one at a time, and is killed
// when it takes longer than `timeoutMs`.

export interface SelftestReport {
  ok: boolean;
  startedAt: string;
  finishedAt: string;
  checks: CheckResult[];
}

export interface SelftestRunnerOptions {
  configFile: string;
  /** The program and its first arguments; default: this Node running the installed `alpr-edge`. */
  command: readonly string[];
  timeoutMs?: number;
}

export class SelftestRunner {
  private running: Promise<SelftestReport> | undefined;
  private last: SelftestReport | undefined;

  constructor(private readonly opts: SelftestRunnerOptions) {}

  /** The newest finished report, if any. */
  lastReport(): SelftestReport | undefined {
    return this.last;
  }

  /** Runs the self-test, or joins the run in progress: a second page never starts a second child. */
  run(): Promise<SelftestReport> {
    this.running ??= this.spawnOnce().then((r) => {
      this.last = r;
      return r;
    }).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private spawnOnce(): Promise<SelftestReport> {
    const startedAt = new Date().toISOString();
    const timeoutMs = this.opts.timeoutMs ?? 120_000;
    const [program, ...first] = this.opts.command;
    const args = [...first, 'selftest', '--json', '--config', this.opts.configFile, '--skip', 'camera', 'gpio'];
    const failed = (detail: string, next: string): SelftestReport => ({ ok: false, startedAt, finishedAt: new Date().toISOString(), checks: [{ check: 'selftest', status: 'fail', detail, next }] });
    return new Promise((resolve) => {
      let out = '';
      let err = '';
      const child = spawn(program!, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, UV_THREADPOOL_SIZE: '2' } });
      // Below the daemon's priority: the cameras come first.
      try {
        if (child.pid !== undefined) setPriority(child.pid, 10);
      } catch {
        // Not permitted here: the child still runs, at the daemon's priority.
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.setEncoding('utf8').on('data', (d: string) => { if (out.length < 1_000_000) out += d; });
      child.stderr.setEncoding('utf8').on('data', (d: string) => { if (err.length < 10_000) err += d; });
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve(failed(`could not start the self-test: ${e.message}`, 'run alpr-edge selftest over SSH'));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (signal === 'SIGKILL') return resolve(failed(`did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`, 'run alpr-edge selftest over SSH to see which check hangs'));
        try {
          const parsed = JSON.parse(out) as { ok: boolean; checks: CheckResult[] };
          resolve({ ok: parsed.ok, startedAt, finishedAt: new Date().toISOString(), checks: parsed.checks });
        } catch {
          resolve(failed(`exited ${code ?? signal} without a report${err.trim() ? `: ${err.trim().split('\n').at(-1)}` : ''}`, 'run alpr-edge selftest over SSH'));
        }
      });
    });
  }
}
