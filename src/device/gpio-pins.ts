import type { GpioConfig } from '../config/schema.js';

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

/** The pins a configuration uses, with their role, for the self-test and start-up. */
export function configuredPins(g: GpioConfig): { role: string; gpio: number; direction: 'in' | 'out' }[] {
  const pins: { role: string; gpio: number; direction: 'in' | 'out' }[] = [];
  if (g.statusLedPin !== undefined) pins.push({ role: 'status LED', gpio: g.statusLedPin, direction: 'out' });
  if (g.irIlluminatorPin !== undefined) pins.push({ role: 'IR illuminator', gpio: g.irIlluminatorPin, direction: 'out' });
  if (g.irMode === 'sensor' && g.lightSensorPin !== undefined) pins.push({ role: 'light sensor', gpio: g.lightSensorPin, direction: 'in' });
  if (g.tamperPin !== undefined) pins.push({ role: 'tamper switch', gpio: g.tamperPin, direction: 'in' });
  return pins;
}
