import { EventEmitter } from 'node:events';

// Things the central side should know about the device, from whichever component notices them:
// stale or refused hot lists (hotlist), a camera going down or coming back (daemon), disk alarms
// (store), outbox drops (mqtt), tamper (GPIO). One small typed bus in the DaemonContext, so a leaf
// raises an event without importing the daemon or MQTT; the MQTT extension publishes every event on
// alpr/v1/<deviceId>/events (docs/mqtt-api.md, schema docs/schemas/event.json).

export const DEVICE_EVENT_TYPES = ['hotlist-stale', 'hotlist-fresh', 'hotlist-refused', 'hotlist-installed', 'hotlist-versions', 'camera-down', 'camera-up', 'tamper', 'disk', 'outbox-dropped'] as const;
export type DeviceEventType = (typeof DEVICE_EVENT_TYPES)[number];
export type EventSeverity = 'info' | 'warning' | 'critical';

export interface DeviceEvent {
  type: DeviceEventType;
  severity: EventSeverity;
  /** UTC, ISO 8601. */
  at: string;
  /** Counts, names, ages and reasons; never plate text (P16). */
  detail: Record<string, unknown>;
}

/**
 * The bus's channels and what each carries. `event` (device events) is declared here; a part that
 * raises something else adds its channel where its type lives, by module augmentation, so this file
 * imports no part (hotlist/hit.ts adds `hit`, `hotlist-change` and `hotlists-changed`).
 */
export interface DeviceBusChannels {
  event: [DeviceEvent];
}

export class DeviceEventBus extends EventEmitter<DeviceBusChannels> {
  /** Raises an event; every listener gets it synchronously. Returns what was sent. */
  publish(type: DeviceEventType, severity: EventSeverity, detail: Record<string, unknown> = {}): DeviceEvent {
    const ev: DeviceEvent = { type, severity, at: new Date().toISOString(), detail };
    this.emit('event', ev);
    return ev;
  }

  /** Calls `listener` for every event until the returned function is called. */
  subscribe(listener: (ev: DeviceEvent) => void): () => void {
    return this.listen('event', listener);
  }

  /** Sends on any channel (a hit, a hot-list change); every listener gets it synchronously. */
  send<K extends keyof DeviceBusChannels>(channel: K, ...args: DeviceBusChannels[K]): void {
    (this.emit as (channel: K, ...args: DeviceBusChannels[K]) => boolean)(channel, ...args);
  }

  /** Calls `listener` for everything sent on `channel` until the returned function is called. */
  listen<K extends keyof DeviceBusChannels>(channel: K, listener: (...args: DeviceBusChannels[K]) => void): () => void {
    const on = this.on as (channel: K, listener: (...args: DeviceBusChannels[K]) => void) => this;
    const off = this.off as typeof on;
    on.call(this, channel, listener);
    return () => void off.call(this, channel, listener);
  }
}
