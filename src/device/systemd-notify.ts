import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { HealthReport } from '../health/health.js';
import { AlprError, EX_UNAVAILABLE } from '../errors.js';

// systemd's notify protocol (sd_notify(3)): KEY=VALUE lines in one datagram to the unix socket named
// by $NOTIFY_SOCKET. Node has no unix datagram sockets, so each message is handed to systemd-notify(1)
// rather than to a native addon (unix-dgram, sd-notify): systemd-notify ships with systemd on every
// target, needs no compiler for arm64 or Yocto, and since systemd 246 it waits on a BARRIER=1 until
// systemd has read the message, which closes the race where a short-lived sender exits before
// systemd can attribute its datagram to the unit. The cost: the sender's PID is the child's, not
// the daemon's, so the unit needs NotifyAccess=all (any process of the unit's cgroup; the daemon
// starts no other children). One process per message, at most a few a minute.

export type NotifyFields = Record<string, string>;

/** Where notify messages go: systemd-notify in production, anything that speaks the protocol in tests. */
export interface NotifyTransport {
  send(fields: NotifyFields): Promise<void>;
}

export class NotifyError extends AlprError {
  constructor(message: string, field = 'NOTIFY_SOCKET') {
    super(message, field, EX_UNAVAILABLE);
  }
}

/** Sends each message by running `systemd-notify KEY=VALUE ...` with NOTIFY_SOCKET set. */
export class SystemdNotifyCommand implements NotifyTransport {
  constructor(
    private readonly socketPath: string,
    private readonly command = 'systemd-notify',
    private readonly timeoutMs = 10_000,
  ) {}

  send(fields: NotifyFields): Promise<void> {
    // One message per line; a newline inside a value would start a new field.
    const args = Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\s*\n\s*/g, ' ')}`);
    return new Promise((resolve, reject) => {
      const child = spawn(this.command, args, { env: { ...process.env, NOTIFY_SOCKET: this.socketPath }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), this.timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new NotifyError(`cannot run ${this.command}: ${err.message}`));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new NotifyError(`${this.command} exited ${code ?? 'on a signal'}: ${stderr.trim()}`));
      });
    });
  }
}

/** The transport systemd asked for through the environment, or none when not started as Type=notify. */
export function notifyTransportFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyTransport | undefined {
  const socket = env['NOTIFY_SOCKET'];
  return socket ? new SystemdNotifyCommand(socket) : undefined;
}

/**
 * Watchdog ping interval from WATCHDOG_USEC (half the timeout, as sd_watchdog_enabled(3) advises), or
 * undefined when no watchdog is set or it is meant for another process (WATCHDOG_PID).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  const forPid = env['WATCHDOG_PID'];
  if (forPid && Number(forPid) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

/** Ready to serve: at least one camera has had a frame analysed (so config, models and capture work). */
export function firstFrameAnalysed(report: HealthReport): boolean {
  return report.cameras.some((c) => c.lastInferenceAgeMs !== null);
}

export interface Progress {
  progressing: boolean;
  /** Why not, for the log and STATUS=. */
  reason?: string;
}

/**
 * Is the pipeline advancing? A camera that is online must deliver fresh frames and have them
 * analysed; one that is reconnecting or offline is in its capture loop's hands (a restart of the
 * daemon brings no camera back, and STATUS= says it is down). So a stall means: frames arrive but
 * inference stopped, or the camera says online yet no frame came for longer than its stall timeout.
 */
export function assessProgress(report: HealthReport): Progress {
  for (const c of report.cameras) {
    if (c.state !== 'online' || c.healthy) continue;
    const inference = c.lastInferenceAgeMs === null ? 'no frame analysed yet' : `last frame analysed ${Math.round(c.lastInferenceAgeMs / 1000)} s ago`;
    const frames = c.lastFrameAgeMs === null ? 'no frame yet' : `last frame ${Math.round(c.lastFrameAgeMs / 1000)} s ago`;
    return { progressing: false, reason: `camera ${c.id} stalled: ${frames}, ${inference}` };
  }
  return { progressing: true };
}

function age(ms: number | null): string {
  if (ms === null) return 'never';
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/** One human line for `systemctl status` (STATUS=). Counts and ages only, never a plate (P1). */
export function statusSummary(report: HealthReport): string {
  const online = report.cameras.filter((c) => c.state === 'online' || c.state === 'ended').length;
  const fps = report.cameras.reduce((a, c) => a + c.analysedFps, 0);
  const lastRead = report.cameras.map((c) => c.lastReadAgeMs).filter((a): a is number => a !== null);
  const parts = [`${report.status}: ${online}/${report.cameras.length} cameras online, ${fps.toFixed(1)} fps, last read ${age(lastRead.length ? Math.min(...lastRead) : null)}`];
  const down = report.cameras.filter((c) => c.state !== 'online' && c.state !== 'ended');
  for (const c of down) parts.push(`camera ${c.id} ${c.state}${c.reason ? ` (${c.reason})` : ''}`);
  const mqtt = report.components['mqtt'];
  if (mqtt && mqtt['enabled'] !== false) parts.push(`broker ${mqtt['connected'] ? 'connected' : 'down'}, outbox ${String(mqtt['outboxMessages'] ?? 0)}`);
  const hot = report.components['hotlist'];
  if (hot && hot.status !== 'ok') parts.push(`hot lists ${hot.status}${hot['reason'] ? ` (${String(hot['reason'])})` : ''}`);
  return parts.join('; ');
}

export interface SupervisorOptions {
  transport: NotifyTransport;
  health: () => HealthReport;
  logger: Logger;
  /** WATCHDOG=1 period; undefined: no watchdog configured. */
  watchdogMs?: number;
  /** How often readiness is checked and STATUS= refreshed. */
  pollMs?: number;
}

/**
 * Speaks the notify protocol for the daemon: STATUS= while starting, READY=1 once the daemon has
 * started and a first frame was analysed, WATCHDOG=1 only while the pipeline progresses, STOPPING=1
 * at shutdown. A failed send is logged once and retried with the next message; it never stops the
 * daemon.
 */
export class SystemdSupervisor {
  private started = false;
  private ready = false;
  private stopped = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private watchdogTimer: NodeJS.Timeout | undefined;
  private lastStatus = '';
  private stallLogged = false;
  private sendFailed = false;
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly opts: SupervisorOptions) {}

  get isReady(): boolean {
    return this.ready;
  }

  /** Before the daemon starts: says what it is doing while models load. */
  begin(): void {
    this.send({ STATUS: 'starting: loading config, models and cameras' });
    this.pollTimer = setInterval(() => this.poll(), this.opts.pollMs ?? 2000);
    this.pollTimer.unref();
  }

  /** After Daemon.start() resolved: models are loaded and cameras opened. */
  daemonStarted(): void {
    this.started = true;
    this.poll();
  }

  private poll(): void {
    if (this.stopped) return;
    const report = this.opts.health();
    if (!this.ready && this.started && firstFrameAnalysed(report)) {
      this.ready = true;
      const status = statusSummary(report);
      this.lastStatus = status;
      this.send({ READY: '1', STATUS: status });
      this.opts.logger.info({ status }, 'ready: first frame analysed');
      if (this.opts.watchdogMs) {
        this.watchdogTimer = setInterval(() => this.feedWatchdog(), this.opts.watchdogMs);
        this.watchdogTimer.unref();
        this.feedWatchdog();
      }
      return;
    }
    if (!this.ready) {
      const waiting = this.started ? 'starting: waiting for the first camera frame' : 'starting: loading config, models and cameras';
      if (waiting !== this.lastStatus) this.send({ STATUS: (this.lastStatus = waiting) });
      return;
    }
    const status = statusSummary(report);
    if (status !== this.lastStatus) this.send({ STATUS: (this.lastStatus = status) });
  }

  private feedWatchdog(): void {
    if (this.stopped) return;
    const p = assessProgress(this.opts.health());
    if (p.progressing) {
      this.stallLogged = false;
      this.send({ WATCHDOG: '1' });
      return;
    }
    // No ping: if the stall lasts a whole WatchdogSec, systemd restarts the daemon.
    if (!this.stallLogged) {
      this.stallLogged = true;
      this.opts.logger.error({ reason: p.reason }, 'pipeline stalled: watchdog not fed');
      this.send({ STATUS: (this.lastStatus = `stalled: ${p.reason}`) });
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.watchdogTimer);
    this.send({ STOPPING: '1', STATUS: 'stopping' });
    await this.sending;
  }

  /** Sends in order, one at a time, so READY never overtakes an earlier STATUS. */
  private send(fields: NotifyFields): void {
    this.sending = this.sending.then(() =>
      this.opts.transport.send(fields).then(
        () => {
          this.sendFailed = false;
        },
        (err: unknown) => {
          if (!this.sendFailed) this.opts.logger.warn({ err }, 'systemd notify failed; will retry with the next message');
          this.sendFailed = true;
        },
      ),
    );
  }
}
