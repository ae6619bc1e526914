import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeSlideShowClip } from '../support/gst-clips.js';

// The CLI as a user runs it. Synthetic plates only (test/fixtures/plates): no real registrations.
const MAIN = 'dist/src/bin.cjs';
const PLATES = 'test/fixtures/plates';
const SCENE = 'test/fixtures/scenes/one-car.jpg';
const SCENE_BOX = { left: 766, top: 316, width: 180, height: 90 }; // one-car.jpg's labelled plate

describe('read on video: one read per vehicle', () => {
  it('gives every vehicle of a queue in the same place its own read (hard cuts, plates where the last one was)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'passes-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const labels = readFileSync(join(PLATES, 'labels.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { image: string; plates: { text: string }[] });
    // Each fixture plate over the car's own plate: the same car, the same place, another plate: what
    // a camera at a stop line sees as the queue moves up, cut to the next car with no gap.
    const slides: Buffer[] = [];
    for (const l of labels) {
      const plate = await sharp(join(PLATES, l.image)).resize(SCENE_BOX.width, SCENE_BOX.height, { fit: 'fill' }).toBuffer();
      slides.push(await sharp(SCENE).composite([{ input: plate, left: SCENE_BOX.left, top: SCENE_BOX.top }]).jpeg({ quality: 92 }).toBuffer());
    }
    const clip = join(dir, 'queue.mp4');
    await makeSlideShowClip(clip, slides, { hold: 14, fps: 30, dir });
    const r = spawnSync('node', [MAIN, 'read', '--fps', '30', clip], { encoding: 'utf8', timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    const reads = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { time: number; plates: { text: string }[] });
    const texts = reads.map((x) => x.plates[0]!.text);
    // One read per vehicle, in the order they stood there, each with its own text.
    expect(texts).toEqual(labels.map((l) => l.plates[0]!.text));
  }, 320_000);
});
