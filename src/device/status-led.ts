import type { HealthReport } from '../health/health.js';
import type { OutputPin } from './gpio-pins.js';

// The status LED tells a technician at the foot of the pole what the daemon is doing, without a
// laptop. Each state has its own rhythm; "healthy" is not solid on but a long on with a short blip,
// so a hung process (whose LED would freeze in one state) looks different from a healthy one.

export type LedState = 'starting' | 'healthy' | 'camera-down' | 'broker-down';

/** Alternating on/off durations in ms, starting with on. */
export const LED_PATTERNS: Record<LedState, readonly number[]> = {
  starting: [500, 500],
  healthy: [1900, 100],
  'camera-down': [100, 100],
  'broker-down': [100, 150, 100, 650],
};

/** Worst first: a camera down matters more than a broker down, both more than still starting. */
export function ledStateFor(report: HealthReport, ready: boolean): LedState {
  const camerasDown = report.cameras.some((c) => c.state === 'reconnecting' || c.state === 'offline' || (c.state === 'online' && !c.healthy && c.lastInferenceAgeMs !== null));
  if (camerasDown) return 'camera-down';
  const mqtt = report.components['mqtt'];
  if (mqtt && mqtt['enabled'] !== false && mqtt['connected'] === false) return 'broker-down';
  if (!ready || report.status === 'starting' || report.cameras.some((c) => c.state === 'starting')) return 'starting';
  return 'healthy';
}

/**
 * Plays the pattern of the current state on an output pin. The state is asked for at the start of
 * each cycle only (at most every 2 s): a pattern is always shown whole, and the daemon's health is
 * not assessed ten times a second for a fast blink.
 */
export class StatusLed {
  private timer: NodeJS.Timeout | undefined;
  private step = 0;
  private playing: LedState | undefined;

  constructor(
    private readonly pin: OutputPin,
    private readonly currentState: () => LedState,
  ) {}

  get state(): LedState | undefined {
    return this.playing;
  }

  start(): void {
    this.tick();
  }

  private tick(): void {
    if (this.playing === undefined || this.step % LED_PATTERNS[this.playing].length === 0) {
      this.playing = this.currentState();
      this.step = 0;
    }
    const pattern = LED_PATTERNS[this.playing];
    const i = this.step % pattern.length;
    this.pin.write(i % 2 === 0 ? 1 : 0);
    this.step = i + 1;
    this.timer = setTimeout(() => this.tick(), pattern[i]);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.pin.write(0);
    this.pin.close();
  }
}
