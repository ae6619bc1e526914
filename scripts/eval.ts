// `npm run eval -- PATH [--mode crops|scenes] [--models int8|fp32] [--split val|test|train|all] [--docs docs/models.md]
//  [--plate-scale far:PX:WxH|close:SHARE]`
// Scores the `read` path on a labelled set: detection recall, top-1/top-N exact plates, character
// and state accuracy, confusion pairs, speed. Every rate comes with its count and 95 % interval
// (the splits are 3–170 plates). Val is what thresholds and rules are chosen on; test is only
// reported. Prints a table, writes JSON. Never prints plate text (the shared sets are photographs
// of real vehicles).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { defaultConfig } from '../src/config/defaults.js';
import { PlateEngine, engineOptions } from '../src/inference/engine.js';
import { readManifest } from '../src/inference/manifest.js';
import { decodeImageFile, type Box, type RgbImage } from '../src/inference/image.js';
import { inSplit, loadLabelledSet, SPLIT_CHOICES, type LabelledImage, type SplitChoice } from '../src/eval/labelled-set.js';
import { countFalsePlates, formatRate, scoreDetector, scorePlate, summarise, type DetectorCount, type PlateFailure, type PlateOutcome, type PredictedPlate, type SetSummary } from '../src/eval/metrics.js';
import { createProgress } from '../src/cli/progress.js';
import { mergeEvalTable, type EvalRow } from '../src/eval/docs-table.js';
import { normalisePlateText } from '../src/plate/text.js';
import { evaluateClip, isPassClipDir, loadPassClips, type ClipResult } from '../src/eval/passes.js';
import { summarisePasses, type PassSummary } from '../src/eval/pass-score.js';
import { createLogger } from '../src/log.js';
import { parsePlateScale, rescalePlate, type PlateScale } from '../src/eval/plate-scale.js';

/** OpenALPR's published end-to-end top-1 on its own benchmark sets, for the table. */
const OPENALPR_TOP1: Record<string, number> = { us: 0.51, eu: 0.72, br: 0.42 };

interface EvalOptions {
  mode?: Mode | 'passes';
  models: 'fp32' | 'int8';
  split: SplitChoice;
  json?: string;
  limit?: number;
  threads: number;
  manifest?: string;
  reader?: string;
  detector?: string;
  maxSide?: number;
  fineSide?: number;
  fineEvery?: number;
  docs?: string;
  failures?: boolean;
  plateScale?: string;
  detection?: number;
}

function pickModels(precision: 'fp32' | 'int8', manifestPath: string): { detector: string; reader: string } {
  const config = defaultConfig();
  const manifest = readManifest(manifestPath);
  const isPrecision = (p: string | undefined) => (p ?? 'fp32').startsWith(precision);
  // The configured model when it has that precision, else the manifest's first of that kind and precision.
  const find = (kind: string, configured: string) =>
    manifest.models.find((m) => m.name === configured && m.kind === kind && isPrecision(m.precision))?.name ??
    manifest.models.find((m) => m.kind === kind && isPrecision(m.precision))?.name;
  const detector = find('detector', config.models.detector);
  const reader = find('reader', config.models.reader);
  if (!detector || !reader) throw new Error(`no ${precision} ${!detector ? 'detector' : 'reader'} in ${manifestPath}`);
  return { detector, reader };
}

async function predict(engine: PlateEngine, img: RgbImage): Promise<{ plates: PredictedPlate[]; boxes: Box[] }> {
  const { plates, boxes } = await engine.readStill(img);
  return { plates: plates.map((p) => ({ text: p.text, state: p.state ?? null, box: p.box, candidates: p.candidates })), boxes: boxes.map((b) => b.box) };
}

/** The reader alone on a labelled box, read the way the engine reads a detected box. */
async function readBox(engine: PlateEngine, img: RgbImage, box: Box): Promise<PredictedPlate[]> {
  const [r] = await engine.readPlates(img, [box]);
  if (!r || !r.text) return [];
  return [{ text: normalisePlateText(r.text), state: r.state ?? null, box, candidates: r.candidates.map((c) => ({ text: normalisePlateText(c.text) })) }];
}

/** A plate not read right, and the image it is in (by its place in the set's label file). */
type ListedFailure = PlateFailure & { image: string };

/** What one image adds to a set's score. */
interface ImageScore {
  outcomes: PlateOutcome[];
  falsePlates: number;
  detector?: DetectorCount;
}

type ScoreImage = (engine: PlateEngine, img: RgbImage, item: LabelledImage) => Promise<ImageScore>;

/** The whole read path on the picture; each labelled plate matched to the read over it. */
const scoreScene: ScoreImage = async (engine, img, item) => {
  const { plates: predicted, boxes } = await predict(engine, img);
  const truthBoxes = item.plates.flatMap((p) => (p.box ? [p.box] : []));
  return {
    outcomes: item.plates.map((truth) => scorePlate(truth, predicted)),
    falsePlates: countFalsePlates(truthBoxes, predicted),
    detector: scoreDetector(truthBoxes, boxes),
  };
};

/** The reader alone on each labelled plate (a crop image is the plate). */
const scoreCrop: ScoreImage = async (engine, img, item) => {
  const outcomes: PlateOutcome[] = [];
  for (const truth of item.plates) {
    const box: Box = truth.box ?? [0, 0, img.width, img.height];
    outcomes.push(scorePlate({ ...truth, box: undefined }, await readBox(engine, img, box)));
  }
  return { outcomes, falsePlates: 0 };
};

interface ModeRun {
  images: LabelledImage[];
  engine: PlateEngine;
  plateScale?: PlateScale;
}

/**
 * The eval's modes, and the one place a mode is chosen: each runs on the chosen split's images and
 * gives a set summary and its failures. A new mode is a new entry.
 */
const MODES = {
  crops: { help: 'the reader alone on the labelled plate', run: (r: ModeRun) => evaluateImages(r, 'crops', scoreCrop) },
  scenes: { help: 'the whole read path', run: (r: ModeRun) => evaluateImages(r, 'scenes', scoreScene) },
} satisfies Record<string, { help: string; run: (r: ModeRun) => Promise<{ summary: SetSummary; failures: ListedFailure[] }> }>;
type Mode = keyof typeof MODES;

/** The asked mode, else crops for a set of crops and scenes for the rest. */
function chooseMode(asked: Mode | undefined, images: LabelledImage[], plateScale: PlateScale | undefined): Mode {
  const mode = asked ?? (images.every((i) => i.kind === 'crop') ? 'crops' : 'scenes');
  if (plateScale && mode !== 'scenes') throw new Error('--plate-scale needs --mode scenes');
  return mode;
}

async function evaluateImages({ images, engine, plateScale }: ModeRun, label: string, scoreImage: ScoreImage): Promise<{ summary: SetSummary; failures: ListedFailure[] }> {
  const outcomes: PlateOutcome[] = [];
  const failures: ListedFailure[] = [];
  let totalMs = 0;
  let decoded = 0;
  const progress = createProgress(images.length, `eval ${label}`);
  let falsePlates = 0;
  let detector: DetectorCount | undefined;
  for (let item of images) {
    progress.tick();
    let img: RgbImage;
    try {
      img = await decodeImageFile(item.path);
    } catch {
      continue; // counted below: images that could not be decoded do not score
    }
    if (plateScale) {
      // Re-framed around its first labelled plate; plates the close-up crops off are not scored.
      const first = item.plates[0]?.box;
      if (!first) continue;
      const { image, map } = await rescalePlate(img, first, plateScale);
      img = image;
      item = { ...item, plates: item.plates.flatMap((p) => (p.box && map(p.box) ? [{ ...p, box: map(p.box)! }] : [])) };
    }
    decoded++;
    const started = performance.now();
    const scored = await scoreImage(engine, img, item);
    totalMs += performance.now() - started;
    for (const o of scored.outcomes) {
      outcomes.push(o);
      if (o.failure) failures.push({ image: item.ref, ...o.failure });
    }
    falsePlates += scored.falsePlates;
    if (scored.detector) {
      detector ??= { plates: 0, found: 0, falseBoxes: 0 };
      detector.plates += scored.detector.plates;
      detector.found += scored.detector.found;
      detector.falseBoxes += scored.detector.falseBoxes;
    }
  }
  progress.stop();
  return { summary: summarise(outcomes, decoded, falsePlates, totalMs, detector), failures };
}

const perImage = (count: number, perImage: number, images: number, digits: number) => `${perImage.toFixed(digits)} (${count} in ${images} images)`;

function printTable(name: string, mode: string, split: string, models: string, s: SetSummary): void {
  const ref = Object.entries(OPENALPR_TOP1).find(([k]) => name.includes(k))?.[1];
  const rows: [string, string][] = [
    ['images / plates', `${s.images} / ${s.plates}`],
    ['plates read at IoU≥0.3', formatRate(s.detectionRecall03)],
    ['plates read at IoU≥0.5', formatRate(s.detectionRecall05)],
    ...(s.detector
      ? ([
          ['detector alone: plates boxed IoU≥0.5', formatRate(s.detector.recall05)],
          ['detector alone: false boxes / image', perImage(s.detector.falseBoxes, s.detector.falseBoxesPerImage, s.images, 2)],
        ] as [string, string][])
      : []),
    ['top-1 exact', `${formatRate(s.top1)}${ref !== undefined ? `   (OpenALPR, full set: ${(ref * 100).toFixed(1)} %)` : ''}`],
    ['top-N exact (any candidate)', formatRate(s.topN)],
    ['character accuracy (characters)', formatRate(s.charAccuracy)],
    ['state coverage (US)', formatRate(s.stateCoverage)],
    ['state accuracy (US, of given)', formatRate(s.stateAccuracy)],
    ['US state on a non-US plate', formatRate(s.foreignStateRate)],
    ['false plates / image', perImage(s.falsePlates, s.falsePlatesPerImage, s.images, 3)],
    ['ms per image', s.msPerImage.toFixed(1)],
    ['top confusions (truth>read)', s.confusions.map((c) => `${c.truth}>${c.read}×${c.count}`).join(' ') || '-'],
  ];
  process.stdout.write(`\n${name} — mode ${mode}, split ${split}, models ${models}   (rates: % (k/n, 95 % Wilson interval))\n`);
  for (const [k, v] of rows) process.stdout.write(`  ${k.padEnd(38)} ${v}\n`);
}

function printFailures(failures: ListedFailure[]): void {
  process.stdout.write(`  not read right (${failures.length}):\n`);
  for (const f of failures) {
    const subs = f.substitutions.length ? ` ${f.substitutions.join(' ')}` : '';
    const rank = f.rightAt >= 0 ? `, right text is candidate ${f.rightAt + 1}` : '';
    process.stdout.write(`    ${f.image.padEnd(18)} ${f.kind.padEnd(7)} IoU ${f.iou.toFixed(2)}, length ${f.length[0]}/${f.length[1]}${subs}${rank}\n`);
  }
}

const PASSES_HELP = 'video clips of vehicle passes (a folder made by scripts/synth/make_pass_clips.py), scored per vehicle: read once and right, once but wrong, twice, missed';

/** `--mode passes`: each clip through the daemon's pipeline; one table row per clip and the total. */
async function evaluatePasses(dir: string, engine: PlateEngine, config: ReturnType<typeof defaultConfig>, opts: EvalOptions): Promise<void> {
  const set = loadPassClips(dir);
  const logger = createLogger('warn');
  const results: ClipResult[] = [];
  for (const clip of opts.limit ? set.clips.slice(0, opts.limit) : set.clips) {
    const started = process.cpuUsage();
    const result = await evaluateClip(dir, clip, engine, config, logger);
    const cpu = process.cpuUsage(started);
    results.push(result);
    process.stderr.write(`eval passes: ${clip.scenario}: ${result.frames} frames, ${((cpu.user + cpu.system) / 1000 / result.frames).toFixed(1)} CPU ms/frame\n`);
  }
  const all = results.flatMap((r) => r.outcomes);
  const sum = (k: 'strayReads' | 'otherPlateReads' | 'reads') => results.reduce((s, r) => s + r.summary[k], 0);
  const total = summarisePasses(all, sum('strayReads'), sum('otherPlateReads'), sum('reads'));
  process.stdout.write(`\n${basename(resolve(dir))} — mode passes, split ${set.split}\n`);
  process.stdout.write(`  ${'clip'.padEnd(20)} ${'vehicles'.padStart(8)}  ${'once, right'.padEnd(24)} ${'once, wrong'.padEnd(24)} ${'twice or more'.padEnd(24)} ${'missed'.padEnd(24)} stray reads, unlabelled plates read\n`);
  const row = (name: string, n: number, s: PassSummary) =>
    process.stdout.write(`  ${name.padEnd(20)} ${String(n).padStart(8)}  ${formatRate(s.onceRight).padEnd(24)} ${formatRate(s.onceWrong).padEnd(24)} ${formatRate(s.twice).padEnd(24)} ${formatRate(s.missed).padEnd(24)} ${s.strayReads}, ${s.otherPlateReads}\n`);
  for (const r of results) row(r.scenario, r.summary.vehicles, r.summary);
  row('all', total.vehicles, total);
  if (opts.failures) {
    for (const r of results) for (const o of r.outcomes) if (o.kind !== 'once-right') process.stdout.write(`    ${r.scenario.padEnd(20)} ${o.ref.padEnd(18)} ${o.kind}${o.kind === 'twice' ? ` (${o.reads} reads${o.anyRight ? ', one right' : ''})` : ''}\n`);
  }
  const out = opts.json ?? `bench-results/eval-passes-${set.split}-${opts.models}.json`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ mode: 'passes', split: set.split, date: new Date().toISOString(), total, clips: results }, null, 2));
  process.stdout.write(`  → ${out}\n`);
}

const program = new Command()
  .name('eval')
  .argument('<paths...>', 'labelled set folders (labels.jsonl, or NAME.jpg + NAME.txt)')
  .addOption(new Option('--mode <mode>', [...Object.entries(MODES).map(([name, m]) => `${name}: ${m.help}`), `passes: ${PASSES_HELP}`].join('; ')).choices([...Object.keys(MODES), 'passes']))
  .addOption(new Option('--models <precision>', 'model precision (int8: what the device runs)').choices(['fp32', 'int8']).default('int8'))
  .addOption(new Option('--split <split>', 'which fixed split to score: val (chosen on), test (only reported, never chosen on), train, all').choices(SPLIT_CHOICES).default('val'))
  .option('--json <file>', 'write results here (default bench-results/eval-SET-MODE-SPLIT-MODELS.json)')
  .addOption(new Option('--limit <n>', 'score at most n images').argParser(Number))
  .addOption(new Option('--threads <n>', 'onnxruntime threads').default(1).argParser(Number))
  .option('--manifest <file>', 'model manifest (default models/manifest.json)')
  .option('--reader <name>', 'reader model name from the manifest (overrides --models for the reader)')
  .option('--detector <name>', 'detector model name from the manifest (overrides --models for the detector)')
  .option('--docs <file>', 'also put each set\'s row into the generated table of this markdown file (e.g. docs/models.md)')
  .option('--failures', 'list every plate not read right: image (label line), missed or misread, IoU, lengths, character pairs, rank of the right text (no plate text)')
  .addOption(new Option('--max-side <px>', 'detector working resolution (long side); default from the config').argParser(Number))
  .addOption(new Option('--fine-side <px>', "long side of the detector's fine look (stills, and video frames with --fine-every; 0: none); default from the config").argParser(Number))
  .addOption(new Option('--fine-every <frames>', 'passes: every this many analysed frames one gets the fine look (0: none); default from the config (models.fineLookEveryFrames)').argParser(Number))
  .addOption(new Option('--detection <score>', 'minimum detector score for a plate box; default from the config (thresholds.detection)').argParser(Number))
  .option('--plate-scale <spec>', 'scenes re-framed so the (first) plate is far:PX wide in a WxH frame (far:40:1280x720) or spans close:SHARE of the width of a 1280 px picture (close:0.6)')
  .action(async (paths: string[], opts: EvalOptions) => {
    const config = defaultConfig();
    if (opts.fineEvery !== undefined) config.models.fineLookEveryFrames = opts.fineEvery;
    const manifestPath = opts.manifest ? resolve(opts.manifest) : config.models.manifest;
    const picked = pickModels(opts.models, manifestPath);
    const detector = opts.detector ?? picked.detector;
    const reader = opts.reader ?? picked.reader;
    const engine = await PlateEngine.load(engineOptions(config, { manifestPath, detector, reader, intraOpThreads: opts.threads, ...(opts.maxSide ? { detectorMaxSide: opts.maxSide } : {}), ...(opts.fineSide !== undefined ? { fineLookSide: opts.fineSide } : {}), ...(opts.detection !== undefined ? { detectionThreshold: opts.detection } : {}) }));
    const rows: EvalRow[] = [];
    for (const path of paths) {
      const name = basename(resolve(path));
      if (opts.mode === 'passes' || isPassClipDir(path)) {
        await evaluatePasses(path, engine, config, opts);
        continue;
      }
      const all = loadLabelledSet(path).filter((i) => inSplit(i, opts.split));
      const images = opts.limit ? all.slice(0, opts.limit) : all;
      const plateScale = opts.plateScale ? parsePlateScale(opts.plateScale) : undefined;
      const mode = chooseMode(opts.mode, images, plateScale);
      const { summary, failures } = await MODES[mode].run({ images, engine, ...(plateScale ? { plateScale } : {}) });
      // Re-framed scenes are another measurement of the set: their own row, never the set's.
      const label = opts.plateScale ? `${name} (${opts.plateScale})` : name;
      printTable(label, mode, opts.split, `${detector}+${reader}`, summary);
      if (opts.failures) printFailures(failures);
      const out = opts.json ?? `bench-results/eval-${name}-${mode}${opts.plateScale ? `-${opts.plateScale.replace(/:/g, '-')}` : ''}-${opts.split}-${opts.models}.json`;
      mkdirSync(dirname(out), { recursive: true });
      const date = new Date().toISOString();
      writeFileSync(out, JSON.stringify({ set: name, split: opts.split, mode, ...(opts.plateScale ? { plateScale: opts.plateScale } : {}), models: { detector, reader, precision: opts.models }, date, summary, failures }, null, 2));
      process.stdout.write(`  → ${out}\n`);
      const ref = Object.entries(OPENALPR_TOP1).find(([k]) => name.includes(k))?.[1];
      rows.push({ set: label, mode, split: opts.split, models: `${detector === picked.detector && reader === picked.reader ? opts.models : `${detector}+${reader}`}`, date, summary, ...(ref !== undefined ? { openalpr: ref } : {}) });
    }
    if (opts.docs) {
      const doc = existsSync(opts.docs) ? readFileSync(opts.docs, 'utf8') : '';
      writeFileSync(opts.docs, mergeEvalTable(doc, rows));
      process.stdout.write(`  → table in ${opts.docs}\n`);
    }
    await engine.close();
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`eval: ${(err as Error).message}\n`);
  process.exit(1);
});
