import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import type { Metrics } from './metrics/metrics.js';
import type { ReadSink } from './pipeline/read.js';
import type { DeviceEventBus } from './device-events.js';
import type { ComponentHealth, HealthReport } from './health/health.js';
import type { ClockSync } from './host/clock.js';

/** What the daemon hands each extension at start. */
export interface DaemonContext {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Raise device events here (camera down, disk, tamper, ...); MQTT publishes them (docs/mqtt-api.md). */
  events: DeviceEventBus;
  /** The daemon's health report (cameras, components), for MQTT telemetry; absent where no daemon runs (tests). */
  health?: () => HealthReport;
  /** P2: the latest clock-sync answer (asked every minute); undefined before the first. */
  clock?: () => ClockSync | undefined;
}

/**
 * A feature plugged into the daemon (Zigbee2MQTT style): the store, the hot-list matcher, MQTT, GPIO.
 * Extensions start in the order given, after the models and before the cameras, and stop in reverse
 * order after the cameras; each gets reads through the sink it returns, in the same order.
 */
export interface DaemonExtension {
  readonly name: string;
  start(ctx: DaemonContext): Promise<ReadSink | undefined>;
  stop(): Promise<void>;
  health?(): ComponentHealth;
  /**
   * `systemctl reload` (SIGHUP) with a validated configuration: take the live settings
   * (src/config/live.ts) and re-read what they name (publisher key files). Throw to keep the old ones.
   */
  reconfigure?(config: Config): Promise<void>;
}
