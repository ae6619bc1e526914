// The hardware edge of GPIO: the smallest interface the status LED, IR illuminator and tamper switch
// need. Production uses onoff (sysfs GPIO); tests inject a fake board here and nowhere else.

export type PinValue = 0 | 1;

export interface OutputPin {
  write(value: PinValue): void;
  close(): void;
}

export interface InputPin {
  read(): PinValue;
  /** Called on every edge (both directions) with the new value. */
  onChange(listener: (value: PinValue) => void): void;
  close(): void;
}

export interface PinBoard {
  /** False on machines without GPIO (no /sys/class/gpio, or no permission). */
  readonly accessible: boolean;
  output(gpio: number, activeLow: boolean): OutputPin;
  input(gpio: number): InputPin;
}

/** onoff's Gpio behind PinBoard. Imported lazily: its epoll addon exists only on Linux. */
export async function onoffBoard(): Promise<PinBoard> {
  const { Gpio } = (await import('onoff')).default;
  return {
    accessible: Gpio.accessible,
    output(gpio, activeLow) {
      const g = new Gpio(gpio, 'low', 'none', { activeLow });
      return { write: (v) => g.writeSync(v), close: () => g.unexport() };
    },
    input(gpio) {
      const g = new Gpio(gpio, 'in', 'both');
      return {
        read: () => g.readSync(),
        onChange: (listener) => g.watch((err, value) => {
          if (!err) listener(value);
        }),
        close: () => {
          g.unwatchAll();
          g.unexport();
        },
      };
    },
  };
}
