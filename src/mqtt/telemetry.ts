import type { HealthReport } from '../health/health.js';
import type { HotListSummary } from '../hotlist/list.js';
import type { ClockSync } from '../host/clock.js';
import type { DiskSpace } from '../host/disk.js';
import type { OutboxKind } from './outbox.js';
import type { TelemetryPayload } from './messages.js';

/** What one telemetry message is made of; every part is counts, names and ages (never plate text, P1). */
export interface TelemetryInput {
  deviceId: string;
  intervalS: number;
  version: string;
  commit: string;
  /** The daemon's health report; absent where no daemon runs (a test of MQTT alone). */
  health?: HealthReport;
  hotlists: HotListSummary[];
  outbox: { messages: number; hits: number; bytes: number; dropped: Record<OutboxKind, number> };
  disk?: DiskSpace;
  clock?: ClockSync;
}

const seconds = (ms: number | null) => (ms === null ? null : Math.round(ms / 100) / 10);

/**
 * Builds the retained `telemetry` message (docs/mqtt-api.md). Keeps each camera's dropped-frame count
 * from the previous message, so `droppedFps` is the rate since then rather than since start.
 */
export class TelemetryBuilder {
  private previous = new Map<string, { atMs: number; framesDropped: number }>();

  build(input: TelemetryInput, nowMs = Date.now()): TelemetryPayload {
    const h = input.health;
    const cameras = (h?.cameras ?? []).map((c) => {
      const before = this.previous.get(c.id);
      const spanS = before ? (nowMs - before.atMs) / 1000 : 0;
      const droppedFps = before && spanS > 0 ? Math.max(0, c.framesDropped - before.framesDropped) / spanS : 0;
      this.previous.set(c.id, { atMs: nowMs, framesDropped: c.framesDropped });
      return {
        id: c.id,
        state: c.state,
        healthy: c.healthy,
        analysedFps: Math.round(c.analysedFps * 100) / 100,
        droppedFps: Math.round(droppedFps * 100) / 100,
        framesIn: c.framesIn,
        framesAnalysed: c.framesAnalysed,
        framesDropped: c.framesDropped,
        lastFrameAgeS: seconds(c.lastFrameAgeMs),
        lastReadAgeS: seconds(c.lastReadAgeMs),
      };
    });
    return {
      schema: 'alpr-edge/telemetry/1',
      deviceId: input.deviceId,
      at: new Date(nowMs).toISOString(),
      intervalS: input.intervalS,
      version: h?.version ?? input.version,
      commit: input.commit,
      models: h?.models.version ?? 'not loaded',
      status: h?.status ?? 'unknown',
      uptimeS: h?.uptimeS ?? Math.round(process.uptime()),
      cameras,
      hotlists: input.hotlists.map((l) => ({ name: l.name, version: l.version, entries: l.entries, ageHours: l.ageHours, stale: l.stale })),
      outbox: { messages: input.outbox.messages, hits: input.outbox.hits, bytes: input.outbox.bytes, dropped: { ...input.outbox.dropped } },
      disk: input.disk ? { freeBytes: input.disk.freeBytes, sizeBytes: input.disk.sizeBytes } : null,
      clock: input.clock ? { synced: input.clock.synced ?? null, source: input.clock.source, detail: input.clock.detail } : { synced: null, source: 'none', detail: 'not asked yet' },
    };
  }
}
