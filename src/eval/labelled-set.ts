import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Box } from '../inference/image.js';

/** One labelled plate: text (when known), region (`us-ca`, `eu`, ...) and box (scenes only). */
export interface LabelledPlate {
  text?: string;
  region?: string;
  box?: Box;
}

export interface LabelledImage {
  path: string;
  kind: 'scene' | 'crop';
  split: Split;
  plates: LabelledPlate[];
  /**
   * Where the image is listed (`labels.jsonl:12`, or `#3` in name order for the benchmark layout):
   * reports name images by this, because some sets name files after the plate.
   */
  ref: string;
}

/**
 * The fixed splits, the same rule as scripts/train/reader_data.py. Held out of training: the
 * source's own test/val/valid split where it has one, else 1 file name in 10 by sha1. A second sha1
 * of the name halves the held-out images into val (chooses checkpoints, thresholds and reading
 * rules) and test (only reported, never chosen on). Never random per run.
 */
export function splitOf(split: string | undefined, imageName: string): Split {
  const held = split === undefined ? sha1Mod(imageName, 10n) === 0n : ['test', 'val', 'valid'].includes(split);
  if (!held) return 'train';
  return sha1Mod(`test:${imageName}`, 2n) === 0n ? 'test' : 'val';
}

export type Split = 'train' | 'val' | 'test';

/** What `npm run eval --split` scores: one split, or every image ("all" includes train, so it flatters). */
export const SPLIT_CHOICES = ['val', 'test', 'train', 'all'] as const;
export type SplitChoice = (typeof SPLIT_CHOICES)[number];

export function inSplit(image: LabelledImage, choice: SplitChoice): boolean {
  return choice === 'all' || image.split === choice;
}

function isSplit(s: string | undefined): s is Split {
  return s === 'train' || s === 'val' || s === 'test';
}

function sha1Mod(s: string, m: bigint): bigint {
  return BigInt('0x' + createHash('sha1').update(s, 'utf8').digest('hex')) % m;
}

/** Reads a shared-datasets folder (labels.jsonl) or an openalpr-benchmarks folder (NAME.jpg + NAME.txt). */
export function loadLabelledSet(dir: string): LabelledImage[] {
  const manifest = join(dir, 'labels.jsonl');
  if (existsSync(manifest)) {
    return readFileSync(manifest, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((line, i) => {
        let raw: { image: string; kind?: string; split?: string; source?: string; plates?: LabelledPlate[] };
        try {
          raw = JSON.parse(line);
        } catch {
          throw new Error(`${manifest}:${i + 1}: not valid JSON`);
        }
        return {
          path: join(dir, raw.image),
          kind: raw.kind === 'crop' ? 'crop' : 'scene',
          // A generated scene (plate swap) carries its source scene's split, already decided.
          split: raw.source !== undefined && isSplit(raw.split) ? raw.split : splitOf(raw.split, basename(raw.image)),
          plates: (raw.plates ?? []).map((p) => ({ text: p.text, region: p.region, box: p.box })),
          ref: `labels.jsonl:${i + 1}`,
        };
      });
  }
  // openalpr-benchmarks end-to-end layout: one "file x y w h PLATE" line per image.
  const images: LabelledImage[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.txt')) continue;
    const fields = readFileSync(join(dir, f), 'utf8').trim().split(/\s+/);
    if (fields.length < 6) continue;
    const [file, x, y, w, h, text] = fields as [string, string, string, string, string, string];
    images.push({ path: join(dir, file), kind: 'scene', split: splitOf(undefined, file), plates: [{ text: text.toUpperCase(), box: [Number(x), Number(y), Number(w), Number(h)] }], ref: `#${images.length + 1}` });
  }
  if (!images.length) throw new Error(`${dir}: neither labels.jsonl nor NAME.txt label files found`);
  return images;
}
