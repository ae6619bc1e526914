import type { HitPayload } from './messages.js';

// Apart from watch.ts, which needs the MQTT client: `run --print-hits` formats hits with it, and a
// daemon start should not load the client library for that (issue 23, start-up).

/**
 * One console line per hit. It shows the plate: this is the agency's own console, where an officer
 * verifies the hit (P13); it is not a device log, where plate text stays at debug level (P16).
 */
export function formatHitLine(hit: HitPayload): string {
  const r = hit.read;
  const loc = r.location.description || `${r.location.latitude.toFixed(5)},${r.location.longitude.toFixed(5)}`;
  return [
    hit.matchedAt,
    hit.deviceId,
    r.cameraId,
    `${r.plate}${r.state ? ` (${r.state})` : ''}`,
    `conf ${r.confidence.toFixed(2)}`,
    // A partial entry matches as kind `partial`: said once; only another kind adds that the entry is partial.
    `${hit.entry.type} ${hit.match.kind}${hit.entry.partial && hit.match.kind !== 'partial' ? ' (partial entry)' : ''}`,
    `${hit.list.name} v${hit.list.version}${hit.list.stale ? ' STALE' : ''}`,
    `record ${hit.entry.recordNumber}`,
    hit.entry.reason,
    `at ${loc} heading ${r.location.headingDeg}`,
    'VERIFY IMAGE + STATE, CONFIRM VIA CLETS',
  ].join(' | ');
}
