import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { validateConfig } from '../../src/config/load.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import type { CameraHealth, HealthReport } from '../../src/health/health.js';
import { openStateDatabase } from '../../src/state/database.js';
import { appendAccessLog, verifyAccessLog, type AccessLogEntry } from '../../src/access/access-log.js';
import { GpioExtension } from '../../src/device/gpio-extension.js';
import { LED_PATTERNS, StatusLed, ledStateFor, type LedState } from '../../src/device/status-led.js';
import { illuminatorWanted, sunElevationDeg } from '../../src/device/ir-illuminator.js';
import { onoffBoard, type InputPin, type OutputPin, type PinBoard, type PinValue } from '../../src/device/gpio-pins.js';
import type { TamperEvent } from '../../src/device/tamper-switch.js';
import { DeviceEventBus, type DeviceEvent } from '../../src/device-events.js';
import { checkGpio } from '../../src/device/selftest.js';

// The logic is tested through the smallest interface at the hardware edge (PinBoard: write a pin,
// read a pin, hear an edge); a fake board stands in there and nowhere else.
//
// What only real hardware can prove, and this test cannot:
// - that the configured numbers are the right pins on the board (sysfs numbering differs by kernel,
//   e.g. a 512 offset on recent Raspberry Pi kernels) and that onoff can export them under the
//   systemd sandbox (ReadWritePaths=/sys/class/gpio, gpio group);
// - that edges reach us: onoff's epoll watch on the sysfs value file firing on a real switch, the
//   switch's pull-up/pull-down wiring, and that 100 ms of debounce is enough for that switch;
// - electrical levels: the LED visible in daylight, the illuminator's relay or MOSFET switching its
//   current, active-low wiring matching the *ActiveLow settings;
// - that the illuminator really comes on at dusk on the pole (the sun model is checked below, the
//   camera's night picture is not).

class FakeOutput implements OutputPin {
  writes: { atMs: number; value: PinValue }[] = [];
  closed = false;
  write(value: PinValue): void {
    this.writes.push({ atMs: Date.now(), value });
  }
  close(): void {
    this.closed = true;
  }
  get value(): PinValue | undefined {
    return this.writes.at(-1)?.value;
  }
}

class FakeInput implements InputPin {
  private listeners: ((v: PinValue) => void)[] = [];
  closed = false;
  constructor(public value: PinValue) {}
  read(): PinValue {
    return this.value;
  }
  onChange(listener: (v: PinValue) => void): void {
    this.listeners.push(listener);
  }
  /** The wire changes; the kernel reports an edge. */
  set(v: PinValue): void {
    this.value = v;
    this.listeners.forEach((l) => l(v));
  }
  close(): void {
    this.closed = true;
  }
}

class FakeBoard implements PinBoard {
  outputs = new Map<number, FakeOutput>();
  inputs = new Map<number, FakeInput>();
  constructor(readonly accessible = true, private readonly initial: Record<number, PinValue> = {}) {}
  output(gpio: number): OutputPin {
    const o = new FakeOutput();
    this.outputs.set(gpio, o);
    return o;
  }
  input(gpio: number): InputPin {
    const i = new FakeInput(this.initial[gpio] ?? 0);
    this.inputs.set(gpio, i);
    return i;
  }
}

function camera(over: Partial<CameraHealth> = {}): CameraHealth {
  return { id: 'c1', state: 'online', lastFrameAgeMs: 10, lastInferenceAgeMs: 20, framesIn: 5, framesDropped: 0, framesAnalysed: 5, analysedFps: 10, lastReadAgeMs: null, decodeErrors: 0, reconnects: 0, healthy: true, ...over };
}

function report(cams: CameraHealth[], mqttConnected?: boolean): HealthReport {
  return { status: 'ok', uptimeS: 1, version: '0', models: { version: 'm', interim: false }, cameras: cams, components: mqttConnected === undefined ? {} : { mqtt: { status: mqttConnected ? 'ok' : 'degraded', connected: mqttConnected } } };
}

// San Francisco; 2026-06-21 20:00 UTC is 13:00 local (sun high), 08:00 UTC is 01:00 local (night).
const SF = { latitude: 37.7793, longitude: -122.4193, headingDeg: 90 };
const NOON = new Date('2026-06-21T20:00:00Z');
const MIDNIGHT = new Date('2026-06-21T08:00:00Z');

function config(gpio: Record<string, unknown>) {
  return validateConfig({ deviceId: 'gpio-pole', location: SF, cameras: [{ id: 'c1', uri: 'test://' }], gpio });
}

function context(cfg: ReturnType<typeof config>, logger = pino({ level: 'silent' }), events = new DeviceEventBus()) {
  return { config: cfg, logger, metrics: createMetrics(), events };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('status LED', () => {
  it('picks the worst state: camera down, then broker down, then starting, else healthy', () => {
    expect(ledStateFor(report([camera({ state: 'reconnecting', healthy: false })], false), true)).toBe('camera-down');
    expect(ledStateFor(report([camera({ lastInferenceAgeMs: 9000, healthy: false })]), true)).toBe('camera-down');
    expect(ledStateFor(report([camera()], false), true)).toBe('broker-down');
    expect(ledStateFor(report([camera({ state: 'starting', lastInferenceAgeMs: null, healthy: false })]), false)).toBe('starting');
    expect(ledStateFor(report([camera()], true), false)).toBe('starting');
    expect(ledStateFor(report([camera()], true), true)).toBe('healthy');
  });

  it('plays each state as its own rhythm on the pin and switches when the state changes', () => {
    vi.useFakeTimers({ now: 0 });
    const pin = new FakeOutput();
    let state: LedState = 'starting';
    const led = new StatusLed(pin, () => state);
    onTestFinished(() => {
      if (!pin.closed) led.stop();
    });
    led.start();
    vi.advanceTimersByTime(2000);
    // starting: on 500 ms, off 500 ms.
    expect(pin.writes.map((w) => [w.atMs, w.value])).toEqual([[0, 1], [500, 0], [1000, 1], [1500, 0], [2000, 1]]);
    state = 'broker-down';
    pin.writes = [];
    vi.advanceTimersByTime(500 + 1000);
    // The started cycle is finished, then the double blink (100 on, 150 off, 100 on, 650 off).
    expect(pin.writes.map((w) => [w.atMs, w.value])).toEqual([[2500, 0], [3000, 1], [3100, 0], [3250, 1], [3350, 0]]);
    expect(LED_PATTERNS['camera-down']).toEqual([100, 100]);
    led.stop();
    expect(pin.value).toBe(0);
    expect(pin.closed).toBe(true);
  });
});

describe('IR illuminator by sun elevation', () => {
  it('computes the sun high at noon and below the horizon at night (suncalc)', () => {
    expect(sunElevationDeg(NOON, SF.latitude, SF.longitude)).toBeGreaterThan(70);
    expect(sunElevationDeg(MIDNIGHT, SF.latitude, SF.longitude)).toBeLessThan(-20);
  });

  it('switches on below the threshold and off only above threshold + hysteresis', () => {
    expect(illuminatorWanted(-3.5, false, -3, 1)).toBe(true);
    expect(illuminatorWanted(-2.5, false, -3, 1)).toBe(false);
    expect(illuminatorWanted(-2.5, true, -3, 1)).toBe(true); // dawn: still on within the hysteresis
    expect(illuminatorWanted(-1.9, true, -3, 1)).toBe(false);
  });
});

describe('GPIO extension on a fake board', () => {
  it('turns the illuminator on at night and off at noon at the configured location', async () => {
    let now = MIDNIGHT;
    const board = new FakeBoard();
    const ext = new GpioExtension({ health: () => report([camera()]), board: async () => board, now: () => now, irCheckIntervalMs: 20 });
    onTestFinished(() => ext.stop());
    await ext.start(context(config({ irIlluminatorPin: 17 })));
    expect(board.outputs.get(17)?.value).toBe(1);
    expect(ext.health()).toMatchObject({ status: 'ok', illuminator: 'on' });
    now = NOON;
    await vi.waitFor(() => expect(board.outputs.get(17)?.value).toBe(0));
    await ext.stop();
    expect(board.outputs.get(17)?.closed).toBe(true);
  });

  it('follows a light sensor input in sensor mode', async () => {
    const board = new FakeBoard(true, { 27: 0 });
    const ext = new GpioExtension({ health: () => report([camera()]), board: async () => board, now: () => NOON });
    onTestFinished(() => ext.stop());
    await ext.start(context(config({ irIlluminatorPin: 17, irMode: 'sensor', lightSensorPin: 27, lightSensorDarkValue: 1 })));
    expect(board.outputs.get(17)?.value).toBe(0);
    board.inputs.get(27)!.set(1);
    expect(board.outputs.get(17)?.value).toBe(1);
  });

  it('a tamper switch opening (after contact bounce) is one tamper event and one access-log entry in a real store', async () => {
    const db = openStateDatabase(mkdtempSync(join(tmpdir(), 'gpio-store-')), 64 * 1024 * 1024);
    const events: TamperEvent[] = [];
    const board = new FakeBoard(true, { 22: 0 });
    const ext = new GpioExtension({ health: () => report([camera()]), board: async () => board, recordAccess: (e) => appendAccessLog(db, e), onTamper: (e) => events.push(e) });
    const bus = new DeviceEventBus();
    const published: DeviceEvent[] = [];
    bus.on('event', (e) => published.push(e));
    await ext.start(context(config({ tamperPin: 22, tamperOpenValue: 1, tamperDebounceMs: 30 }), undefined, bus));
    onTestFinished(async () => {
      await ext.stop();
      await db.root.close();
    });
    // The debounce runs on a clock the test moves, so "no second event" does not rest on a sleep.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    onTestFinished(() => void vi.useRealTimers());
    const sw = board.inputs.get(22)!;
    // Bounce: 1, 0, 1 within a few ms, then it stays open.
    sw.set(1);
    vi.advanceTimersByTime(5);
    sw.set(0);
    vi.advanceTimersByTime(5);
    sw.set(1);
    vi.advanceTimersByTime(29);
    expect(events).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(events).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ state: 'open', gpio: 22 });
    expect(ext.health()).toMatchObject({ status: 'degraded', tamper: 'open', reason: 'enclosure open' });
    // A bounce that settles back where it was is no event.
    sw.set(0);
    vi.advanceTimersByTime(5);
    sw.set(1);
    vi.advanceTimersByTime(1000);
    expect(events).toHaveLength(1);
    sw.set(0);
    vi.advanceTimersByTime(30);
    expect(events).toHaveLength(2);
    vi.useRealTimers();
    expect(events[1]!.state).toBe('closed');
    // The same changes reach the device event bus that MQTT publishes on alpr/v1/<id>/events.
    expect(published.map((e) => [e.type, e.severity, e.detail['state']])).toEqual([['tamper', 'critical', 'open'], ['tamper', 'info', 'closed']]);
    const log = [...db.accessLog.getRange()].map((e) => e.value as AccessLogEntry);
    expect(log.map((e) => [e.user, e.action, e.parameters['state'], e.result])).toEqual([['system', 'tamper', 'open', 'ok'], ['system', 'tamper', 'closed', 'ok']]);
    expect(verifyAccessLog(db).ok).toBe(true);
    await ext.stop();
    expect(sw.closed).toBe(true);
  });

  it('drives the status LED from the daemon health', async () => {
    const board = new FakeBoard();
    let h = report([camera({ state: 'reconnecting', healthy: false })]);
    const ext = new GpioExtension({ health: () => h, ready: () => true, board: async () => board });
    onTestFinished(() => ext.stop());
    await ext.start(context(config({ statusLedPin: 5 })));
    expect(ext.health()).toMatchObject({ led: 'camera-down' });
    h = report([camera()]);
    await vi.waitFor(() => expect(ext.health()).toMatchObject({ led: 'healthy' }), { timeout: 1000 });
  });
});

describe('without GPIO (this machine: onoff reports Gpio.accessible false)', () => {
  it('logs once and runs on, health degraded with the reason', async () => {
    const board = await onoffBoard();
    expect(board.accessible).toBe(false);
    const lines: { msg: string; level: number }[] = [];
    const logger = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }));
    const ext = new GpioExtension({ health: () => report([camera()]) });
    onTestFinished(() => ext.stop());
    await ext.start(context(config({ statusLedPin: 5, tamperPin: 22 }), logger));
    expect(lines.filter((l) => l.msg.includes('GPIO not accessible'))).toHaveLength(1);
    expect(ext.health()).toEqual({ status: 'degraded', reason: 'GPIO not accessible on this machine' });
  });

  it('with no pins configured it does nothing and says so', async () => {
    const ext = new GpioExtension({ health: () => report([camera()]), board: async () => { throw new Error('must not be opened'); } });
    await ext.start(context(config({})));
    expect(ext.health()).toEqual({ status: 'ok', enabled: false });
  });

  it('the self-test fails the GPIO check here, skips it without pins, and reads pins on a board', async () => {
    const g = (over: Record<string, unknown>) => config(over).gpio;
    expect(await checkGpio(g({}))).toMatchObject({ status: 'skip' });
    expect(await checkGpio(g({ statusLedPin: 5 }))).toMatchObject({ status: 'fail', detail: expect.stringContaining('not accessible') });
    expect(await checkGpio(g({ statusLedPin: 5, tamperPin: 22 }), async () => new FakeBoard(true, { 22: 0 }))).toMatchObject({ status: 'pass', detail: 'status LED (GPIO 5) ok, tamper switch (GPIO 22) reads 0' });
    expect(await checkGpio(g({ tamperPin: 22 }), async () => new FakeBoard(true, { 22: 1 }))).toMatchObject({ status: 'warn', next: expect.stringContaining('enclosure reports open') });
  });
});
