import type { CameraStatus } from '../capture/frame.js';

export interface CameraHealth {
  id: string;
  state: CameraStatus['state'];
  reason?: string;
  lastFrameAgeMs: number | null;
  lastInferenceAgeMs: number | null;
  framesIn: number;
  framesDropped: number;
  framesAnalysed: number;
  decodeErrors: number;
  reconnects: number;
  decoder?: string;
  healthy: boolean;
}

export interface HealthReport {
  status: 'ok' | 'starting' | 'stalled';
  uptimeS: number;
  version: string;
  models: { version: string; interim: boolean };
  cameras: CameraHealth[];
}

export interface CameraProgress {
  status: CameraStatus;
  lastAnalysedAtMs: number | undefined;
  framesAnalysed: number;
}

/**
 * Progress-based health (balena-supervisor style): a camera is healthy only while frames arrive and
 * inference keeps up with them, not merely because the process is up. Counts only: no plate,
 * image or location ever appears here (P1).
 */
export function assessHealth(cams: CameraProgress[], nowMs: number, stallMs: number, startedAtMs: number, version: string, models: HealthReport['models']): HealthReport {
  const cameras = cams.map(({ status, lastAnalysedAtMs, framesAnalysed }): CameraHealth => {
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
      decodeErrors: status.decodeErrors,
      reconnects: status.reconnects,
      ...(status.decoder ? { decoder: status.decoder } : {}),
      healthy,
    };
  });
  const starting = cameras.some((c) => c.lastInferenceAgeMs === null && c.state !== 'ended') && nowMs - startedAtMs < stallMs * 3;
  const status = cameras.every((c) => c.healthy) ? 'ok' : starting ? 'starting' : 'stalled';
  return { status, uptimeS: Math.round((nowMs - startedAtMs) / 1000), version, models, cameras };
}
