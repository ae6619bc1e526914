import type { CameraStatus } from '../capture/frame.js';

/** A component's own view of its health, merged into /healthz (counts and ages only, P1). */
export interface ComponentHealth {
  /** degraded: working but needs attention (stale hot list, disk nearly full); failed: not working. */
  status: 'ok' | 'degraded' | 'failed';
  [detail: string]: unknown;
}

export interface CameraHealth {
  id: string;
  state: CameraStatus['state'];
  reason?: string;
  lastFrameAgeMs: number | null;
  lastInferenceAgeMs: number | null;
  framesIn: number;
  framesDropped: number;
  framesAnalysed: number;
  /** Frames analysed per second over the last 10 s. */
  analysedFps: number;
  /** Age of this camera's last read (a plate pass), null before the first. */
  lastReadAgeMs: number | null;
  decodeErrors: number;
  reconnects: number;
  decoder?: string;
  healthy: boolean;
}

export interface HealthReport {
  /** ok/degraded answer 200; starting answers 200 during the start-up grace; stalled and failed 503. */
  status: 'ok' | 'degraded' | 'starting' | 'stalled' | 'failed';
  uptimeS: number;
  version: string;
  models: { version: string; interim: boolean };
  cameras: CameraHealth[];
  /** Store, hot lists, MQTT, ...: each extension's own health. */
  components: Record<string, ComponentHealth>;
}

export interface CameraProgress {
  status: CameraStatus;
  lastAnalysedAtMs: number | undefined;
  framesAnalysed: number;
  analysedFps?: number;
  lastReadAtMs?: number;
}

/**
 * Progress-based health (balena-supervisor style): a camera is healthy only while frames arrive and
 * inference keeps up with them, not merely because the process is up. Counts only: no plate,
 * image or location ever appears here (P1).
 */
export function assessHealth(
  cams: CameraProgress[],
  nowMs: number,
  stallMs: number,
  startedAtMs: number,
  version: string,
  models: HealthReport['models'],
  components: Record<string, ComponentHealth> = {},
): HealthReport {
  const cameras = cams.map(({ status, lastAnalysedAtMs, framesAnalysed, analysedFps, lastReadAtMs }): CameraHealth => {
    const lastFrameAgeMs = status.lastFrameAtMs === undefined ? null : nowMs - status.lastFrameAtMs;
    const lastInferenceAgeMs = lastAnalysedAtMs === undefined ? null : nowMs - lastAnalysedAtMs;
    const fresh = (age: number | null) => age !== null && age <= stallMs;
    const healthy = status.state === 'ended' || (status.state === 'online' && fresh(lastFrameAgeMs) && fresh(lastInferenceAgeMs));
    return {
      id: status.id,
      state: status.state,
      ...(status.reason ? { reason: status.reason } : {}),
      lastFrameAgeMs,
      lastInferenceAgeMs,
      framesIn: status.framesIn,
      framesDropped: status.framesDropped,
      framesAnalysed,
      analysedFps: analysedFps ?? 0,
      lastReadAgeMs: lastReadAtMs === undefined ? null : nowMs - lastReadAtMs,
      decodeErrors: status.decodeErrors,
      reconnects: status.reconnects,
      ...(status.decoder ? { decoder: status.decoder } : {}),
      healthy,
    };
  });
  const starting = cameras.some((c) => c.lastInferenceAgeMs === null && c.state !== 'ended') && nowMs - startedAtMs < stallMs * 3;
  const parts = Object.values(components);
  const camerasOk = cameras.every((c) => c.healthy);
  let status: HealthReport['status'] = camerasOk ? 'ok' : starting ? 'starting' : 'stalled';
  if (parts.some((p) => p.status === 'failed')) status = 'failed';
  else if (status === 'ok' && parts.some((p) => p.status === 'degraded')) status = 'degraded';
  return { status, uptimeS: Math.round((nowMs - startedAtMs) / 1000), version, models, cameras, components };
}
