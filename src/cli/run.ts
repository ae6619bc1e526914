import closeWithGrace from 'close-with-grace';
import type { Logger } from 'pino';
import { loadConfig } from '../config/load.js';
import { checkConfigForRun } from './config-check.js';
import { createLogger } from '../log.js';
import type { Daemon } from '../daemon.js';
import { buildApp } from '../app.js';
import { EX_TEMPFAIL } from '../errors.js';
import { hitLine, readLine, type PrintFormat } from './print-lines.js';
import { notifyTransportFromEnv, SystemdSupervisor, watchdogIntervalMs } from '../device/systemd-notify.js';

export interface RunOptions {
  config: string;
  printReads?: boolean;
  /** Demo: print hits as the embedded broker carries them. */
  printHits?: boolean;
  /** How reads and hits are printed: one readable line each, or JSON (the default). */
  printFormat?: PrintFormat;
}

/**
 * SIGHUP: the config file is read and checked as at start; a file `run` would refuse is logged and
 * the daemon goes on with what it has. What changes live and what waits for a restart:
 * src/config/live.ts, docs/device.md.
 */
async function reloadConfig(file: string, daemon: Daemon, logger: Logger): Promise<void> {
  const log = logger.child({ component: 'daemon' });
  log.info({ config: file }, 'SIGHUP: reloading the configuration');
  let next;
  try {
    next = loadConfig(file);
    checkConfigForRun(next, file);
  } catch (err) {
    log.error({ config: file, err: (err as Error).message }, 'configuration not reloaded: the file has a problem; running with the previous one');
    return;
  }
  await daemon.reload(next);
}

export async function runDaemon(opts: RunOptions): Promise<void> {
  const config = loadConfig(opts.config);
  // What `config check` checks, before anything starts (exit 78 naming the field).
  checkConfigForRun(config, opts.config);
  const logger = createLogger(config.log.level);
  // Late-bound: the systemd supervisor is made after the daemon.
  let supervisor: SystemdSupervisor | undefined;
  let wedged = false;
  // Every extension and HTTP plugin is built in one place, src/app.ts.
  const { daemon } = buildApp(config, logger, {
    configFile: opts.config,
    ready: () => supervisor?.isReady,
    onBrokerHit: opts.printHits ? (hit) => process.stdout.write(hitLine(hit, opts.printFormat ?? 'json') + '\n') : undefined,
    onRead: opts.printReads ? (read) => process.stdout.write(readLine(read, opts.printFormat ?? 'json') + '\n') : undefined,
    onWedged: () => {
      wedged = true;
      void closer.close();
    },
  });
  // Started by systemd as Type=notify: READY=1 after the first analysed frame, watchdog on progress.
  const transport = notifyTransportFromEnv();
  const running = daemon;
  supervisor = transport
    ? new SystemdSupervisor({ transport, health: () => running.health(), logger: logger.child({ component: 'systemd' }), watchdogMs: watchdogIntervalMs() })
    : undefined;
  // Signals are wired before start so a SIGTERM during model loading still stops cleanly. SIGHUP is
  // `systemctl reload` (ExecReload in systemd/alpr-edge.service), not a stop.
  const closer = closeWithGrace({ delay: 4500, skip: ['SIGHUP'] }, async ({ signal, err }) => {
    if (err) logger.fatal({ component: 'daemon', err }, 'unexpected error; stopping');
    else logger.info({ component: 'daemon', signal, wedged }, 'stopping');
    await supervisor?.stop();
    await running.stop();
    // close-with-grace would exit 0 after a manual close; systemd and the journal should see why.
    // Wedged capture pipelines: EX_TEMPFAIL, and systemd's Restart=always starts the daemon again.
    if (wedged) process.exit(EX_TEMPFAIL);
  });
  process.on('SIGHUP', () => void reloadConfig(opts.config, running, logger));
  supervisor?.begin();
  await running.start();
  // A SIGTERM during start ended it between its steps; close-with-grace finishes the stop.
  if (!running.isRunning) return;
  supervisor?.daemonStarted();
  logger.info({ component: 'daemon', deviceId: config.deviceId, cameras: config.cameras.length, http: running.httpAddress }, 'running');
}
