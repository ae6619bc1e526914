// The MQTT topic contract (docs/mqtt-api.md). Everything a device publishes or accepts lives under
// alpr/v1/<deviceId>/; a breaking change to any payload gets a new version segment (alpr/v2/...).

export const API_ROOT = 'alpr/v1';

export interface DeviceTopics {
  /** Retained: online (with version, cameras, hot-list versions and ages) or offline (last will). */
  state: string;
  /** One message per hot-list hit (P13), QoS 1, from the durable outbox. */
  hits: string;
  /** Read metadata, no images, for the central store (QoS 1, outbox; dropped first when full). */
  reads: string;
  /** Retained health telemetry every `mqtt.telemetryIntervalS`: fps, drops, ages, outbox, disk, clock; no plate text. */
  telemetry: string;
  /** Device events: stale hot list, refused list, camera down, tamper, disk, outbox drops. */
  events: string;
  /** Access-log entries (hot-list changes today). */
  audit: string;
  /** Signed heads of the access-log chain (P6): kept off the device, they expose a rewritten log. */
  anchors: string;
  /** Subscription filter for requests: alpr/v1/<id>/cmd/<command>. */
  commands: string;
  /** Prefix of request topics; the command name follows it. */
  commandPrefix: string;
  /** Where responses go when the request names no MQTT 5 response topic. */
  responsePrefix: string;
}

export function deviceTopics(deviceId: string): DeviceTopics {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(deviceId)) throw new Error(`device id "${deviceId}" cannot be an MQTT topic level`);
  const base = `${API_ROOT}/${deviceId}`;
  return {
    state: `${base}/state`,
    hits: `${base}/hits`,
    reads: `${base}/reads`,
    telemetry: `${base}/telemetry`,
    events: `${base}/events`,
    audit: `${base}/audit`,
    anchors: `${base}/anchors`,
    commands: `${base}/cmd/#`,
    commandPrefix: `${base}/cmd/`,
    responsePrefix: `${base}/response/`,
  };
}

/** Fleet-wide filters for central consumers; `$share/<group>/` splits load across consumers (MQTT 5). */
export const FLEET_HITS = `${API_ROOT}/+/hits`;
export const FLEET_STATE = `${API_ROOT}/+/state`;
export const FLEET_TELEMETRY = `${API_ROOT}/+/telemetry`;
export const FLEET_ANCHORS = `${API_ROOT}/+/anchors`;

export function sharedSubscription(group: string, filter: string): string {
  return `$share/${group}/${filter}`;
}

export const COMMANDS = ['hotlist/update', 'hotlist/chunk', 'hotlist/status', 'reads/ack', 'state/get'] as const;
export type CommandName = (typeof COMMANDS)[number];
