import type { Logger } from 'pino';
import type { DaemonContext, DaemonExtension } from '../extension.js';
import type { GpioConfig, LocationConfig } from '../config/schema.js';
import type { ComponentHealth, HealthReport } from '../health/health.js';
import type { AccessLogInput } from '../access/access-log.js';
import { configuredPins, onoffBoard, type InputPin, type OutputPin, type PinBoard } from './gpio-pins.js';
import { StatusLed, ledStateFor } from './status-led.js';
import { illuminatorWanted, sunElevationDeg } from './ir-illuminator.js';
import { TamperSwitch, type TamperEvent } from './tamper-switch.js';

export interface GpioExtensionOptions {
  /** The daemon's health, for the LED (late-bound: the daemon is built after its extensions). */
  health: () => HealthReport;
  /** Has the daemon told systemd READY (first frame analysed)? Starting until then. */
  ready?: () => boolean;
  /** P6/P17: tamper changes go to the access log (wired to the store's database). */
  recordAccess?: (entry: AccessLogInput) => void;
  /**
   * The MQTT `tamper` event (docs/mqtt-api.md reserves it). The event-publishing seam lives on another
   * branch; until it is merged, whoever builds the daemon passes its publisher here.
   */
  onTamper?: (event: TamperEvent) => void;
  /** The hardware edge; tests inject a fake board here and only here. */
  board?: () => Promise<PinBoard>;
  now?: () => Date;
  irCheckIntervalMs?: number;
}

/**
 * Status LED, IR illuminator and tamper switch. Without any pin configured it does nothing; on a
 * machine without GPIO it logs that once and the daemon runs on without them.
 */
export class GpioExtension implements DaemonExtension {
  readonly name = 'gpio';
  private cfg: GpioConfig | undefined;
  private location: LocationConfig | undefined;
  private logger: Logger | undefined;
  private unavailable: string | undefined;
  private led: StatusLed | undefined;
  private ir: OutputPin | undefined;
  private irOn = false;
  private irTimer: NodeJS.Timeout | undefined;
  private lightSensor: InputPin | undefined;
  private tamper: TamperSwitch | undefined;
  private tamperEvents = 0;
  private events: DaemonContext['events'] | undefined;

  constructor(private readonly opts: GpioExtensionOptions) {}

  async start(ctx: DaemonContext): Promise<undefined> {
    const cfg = (this.cfg = ctx.config.gpio);
    this.location = ctx.config.location;
    this.logger = ctx.logger;
    this.events = ctx.events;
    const pins = configuredPins(cfg);
    if (pins.length === 0) return undefined;
    let board: PinBoard;
    try {
      board = await (this.opts.board ?? onoffBoard)();
    } catch (err) {
      this.unavailable = `GPIO library unavailable: ${(err as Error).message}`;
      ctx.logger.warn({ err }, 'GPIO library unavailable; status LED, IR illuminator and tamper switch are off');
      return undefined;
    }
    if (!board.accessible) {
      // Logged once: a development machine or a board without sysfs GPIO runs on without them.
      this.unavailable = 'GPIO not accessible on this machine';
      ctx.logger.warn({ pins: pins.map((p) => `${p.role}=${p.gpio}`) }, 'GPIO not accessible; status LED, IR illuminator and tamper switch are off');
      return undefined;
    }
    try {
      this.openPins(cfg, board);
    } catch (err) {
      // A wrong pin number or a pin held by another process: the cameras matter more than the LED.
      this.unavailable = `cannot open GPIO pins: ${(err as Error).message}`;
      ctx.logger.error({ err }, 'cannot open GPIO pins; running without them');
      await this.stop();
    }
    return undefined;
  }

  private openPins(cfg: GpioConfig, board: PinBoard): void {
    if (cfg.statusLedPin !== undefined) {
      this.led = new StatusLed(board.output(cfg.statusLedPin, cfg.statusLedActiveLow), () => ledStateFor(this.opts.health(), this.opts.ready?.() ?? true));
      this.led.start();
    }
    if (cfg.irIlluminatorPin !== undefined) {
      this.ir = board.output(cfg.irIlluminatorPin, cfg.irIlluminatorActiveLow);
      if (cfg.irMode === 'sensor' && cfg.lightSensorPin !== undefined) {
        this.lightSensor = board.input(cfg.lightSensorPin);
        this.lightSensor.onChange(() => this.updateIlluminator());
      }
      this.updateIlluminator();
      this.irTimer = setInterval(() => this.updateIlluminator(), this.opts.irCheckIntervalMs ?? 60_000);
      this.irTimer.unref();
    }
    if (cfg.tamperPin !== undefined) {
      this.tamper = new TamperSwitch(board.input(cfg.tamperPin), {
        gpio: cfg.tamperPin,
        openValue: cfg.tamperOpenValue,
        debounceMs: cfg.tamperDebounceMs,
        now: this.opts.now,
        onChange: (e) => this.onTamper(e),
      });
      this.tamper.start();
      if (this.tamper.state === 'open') this.logger?.warn({ gpio: cfg.tamperPin }, 'enclosure is open at start');
    }
  }

  private updateIlluminator(): void {
    const cfg = this.cfg!;
    let wanted: boolean;
    if (cfg.irMode === 'sensor' && this.lightSensor) wanted = this.lightSensor.read() === cfg.lightSensorDarkValue;
    else {
      const elevation = sunElevationDeg(this.opts.now?.() ?? new Date(), this.location!.latitude, this.location!.longitude);
      wanted = illuminatorWanted(elevation, this.irOn, cfg.irOnBelowSunElevationDeg, cfg.irHysteresisDeg);
    }
    if (wanted !== this.irOn) this.logger?.info({ on: wanted, mode: cfg.irMode }, 'IR illuminator switched');
    this.irOn = wanted;
    this.ir?.write(wanted ? 1 : 0);
  }

  private onTamper(e: TamperEvent): void {
    this.tamperEvents++;
    this.logger?.warn({ state: e.state, gpio: e.gpio }, e.state === 'open' ? 'enclosure opened (tamper switch)' : 'enclosure closed');
    try {
      this.opts.recordAccess?.({ user: 'system', action: 'tamper', parameters: { state: e.state, gpio: e.gpio }, result: 'ok', time: e.at });
    } catch (err) {
      this.logger?.error({ err }, 'tamper: access log entry failed');
    }
    try {
      // Published on alpr/v1/<id>/events through the durable outbox (docs/mqtt-api.md).
      this.events?.publish('tamper', e.state === 'open' ? 'critical' : 'info', { state: e.state, gpio: e.gpio });
      this.opts.onTamper?.(e);
    } catch (err) {
      this.logger?.error({ err }, 'tamper: event publisher failed');
    }
  }

  /** Tests and the self-test read these; the LED state is what the technician sees on the pole. */
  health(): ComponentHealth {
    if (!this.cfg || configuredPins(this.cfg).length === 0) return { status: 'ok', enabled: false };
    if (this.unavailable) return { status: 'degraded', reason: this.unavailable };
    const open = this.tamper?.state === 'open';
    return {
      status: open ? 'degraded' : 'ok',
      ...(this.led ? { led: this.led.state } : {}),
      ...(this.ir ? { illuminator: this.irOn ? 'on' : 'off' } : {}),
      ...(this.tamper ? { tamper: this.tamper.state, tamperEvents: this.tamperEvents } : {}),
      ...(open ? { reason: 'enclosure open' } : {}),
    };
  }

  async stop(): Promise<void> {
    clearInterval(this.irTimer);
    this.led?.stop();
    this.tamper?.stop();
    this.lightSensor?.close();
    this.ir?.write(0);
    this.ir?.close();
    this.led = undefined;
    this.tamper = undefined;
    this.ir = undefined;
    this.lightSensor = undefined;
  }
}
