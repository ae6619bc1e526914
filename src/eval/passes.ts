import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Frame } from '../capture/frame.js';
import { playFile } from '../capture/play-file.js';
import type { PlateEngine } from '../inference/engine.js';
import { CameraPipeline } from '../pipeline/camera-pipeline.js';
import { scorePasses, type ClipVehicle, type PassRead, type PassSummary, type VehicleOutcome } from './pass-score.js';

/** One clip of passes.json (scripts/synth/make_pass_clips.py). */
export interface PassClip {
  file: string;
  scenario: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  vehicles: ClipVehicle[];
}

export interface PassClipSet {
  split: string;
  clips: PassClip[];
}

export interface ClipResult {
  scenario: string;
  fps: number;
  frames: number;
  summary: PassSummary;
  outcomes: VehicleOutcome[];
}

export function isPassClipDir(dir: string): boolean {
  try {
    readFileSync(join(dir, 'passes.json'));
    return true;
  } catch {
    return false;
  }
}

/** Reads DIR/passes.json; throws naming what is wrong with it. */
export function loadPassClips(dir: string): PassClipSet {
  const raw = JSON.parse(readFileSync(join(dir, 'passes.json'), 'utf8')) as { version?: unknown; split?: unknown; clips?: unknown };
  if (raw.version !== 1 || !Array.isArray(raw.clips)) throw new Error(`${dir}/passes.json: not a version 1 pass-clip index (make it with scripts/synth/make_pass_clips.py)`);
  for (const [i, c] of (raw.clips as PassClip[]).entries()) {
    const ok = typeof c.file === 'string' && typeof c.fps === 'number' && c.fps > 0 && Array.isArray(c.vehicles) &&
      c.vehicles.every((v) => typeof v.text === 'string' && typeof v.ref === 'string' && Number.isInteger(v.startFrame) && Number.isInteger(v.endFrame) && Array.isArray(v.region) && v.region.length === 4 && Array.isArray(v.plateBoxes));
    if (!ok) throw new Error(`${dir}/passes.json: clips[${i}] is malformed`);
  }
  return { split: String(raw.split ?? 'unknown'), clips: raw.clips as PassClip[] };
}

/**
 * Plays one clip through the daemon's own per-camera pipeline (detector, reader, tracker, vote)
 * on the video's clock, every frame analysed, and scores the reads per vehicle.
 */
export async function evaluateClip(dir: string, clip: PassClip, engine: PlateEngine, config: Config, logger: Logger): Promise<ClipResult> {
  const videoMs = (f: Frame) => (f.seq * 1000) / clip.fps;
  const pipeline = new CameraPipeline(engine, { deviceId: config.deviceId, cameraId: 'eval', location: config.location, tracker: config.thresholds, fineLookEvery: config.models.fineLookEveryFrames, logger }, videoMs);
  const reads: PassRead[] = [];
  const collect = (rs: Awaited<ReturnType<CameraPipeline['analyse']>>) => {
    for (const r of rs) {
      const t = pipeline.passTimes.get(r);
      reads.push({ text: r.plate, firstSeenMs: t?.firstSeenMs ?? 0, lastSeenMs: t?.lastSeenMs ?? 0, box: r.box });
    }
  };
  const played = await playFile(join(dir, clip.file), { fps: clip.fps, logger, scaledLongSides: engine.scaledLongSides, onFrame: async (frame) => collect(await pipeline.analyse(frame)) });
  collect(await pipeline.flush());
  const { summary, outcomes } = scorePasses(clip.vehicles, reads, clip.fps);
  return { scenario: clip.scenario, fps: clip.fps, frames: played.frames, summary, outcomes };
}
