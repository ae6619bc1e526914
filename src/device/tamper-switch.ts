import type { InputPin, PinValue } from './gpio-pins.js';

export type EnclosureState = 'open' | 'closed';

/** The enclosure was opened or closed. What the MQTT `tamper` event and the access log carry. */
export interface TamperEvent {
  state: EnclosureState;
  gpio: number;
  at: string;
}

/**
 * Watches the door/tamper switch. A change counts only once it has held for `debounceMs` (contact
 * bounce, vibration of the pole in wind); each settled change is reported once.
 */
export class TamperSwitch {
  private stable: EnclosureState;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pin: InputPin,
    private readonly opts: { gpio: number; openValue: PinValue; debounceMs: number; onChange: (e: TamperEvent) => void; now?: () => Date },
  ) {
    this.stable = this.stateOf(pin.read());
  }

  get state(): EnclosureState {
    return this.stable;
  }

  private stateOf(v: PinValue): EnclosureState {
    return v === this.opts.openValue ? 'open' : 'closed';
  }

  start(): void {
    this.pin.onChange(() => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.settle(), this.opts.debounceMs);
    });
  }

  private settle(): void {
    const now = this.stateOf(this.pin.read());
    if (now === this.stable) return;
    this.stable = now;
    this.opts.onChange({ state: now, gpio: this.opts.gpio, at: (this.opts.now?.() ?? new Date()).toISOString() });
  }

  stop(): void {
    clearTimeout(this.timer);
    this.pin.close();
  }
}
