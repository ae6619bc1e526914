import { describe, expect, it } from 'vitest';
import { checkTargets, formatTable, parseOptions, precisionPairs, summarise, variantFor } from '../../scripts/bench.js';
import type { ModelEntry } from '../../src/inference/manifest.js';

const entry = (name: string, kind: string, architecture: string, precision?: 'fp32' | 'int8'): ModelEntry => ({
  name,
  kind,
  architecture,
  file: `${name}.onnx`,
  sha256: '0',
  version: '1',
  ...(precision === undefined ? {} : { precision }),
});
const configured = { detector: 'det-fp32', reader: 'rec-fp32' };

describe('bench: INT8/FP32 pairing from the manifest', () => {
  it('finds no pair when only FP32 models ship (the interim state)', () => {
    const manifest = { models: [entry('det-fp32', 'detector', 'ppocr-db', 'fp32'), entry('rec-fp32', 'reader', 'ppocr-crnn', 'fp32')] };
    expect(precisionPairs(manifest, configured)).toEqual([]);
  });

  it('pairs by kind and architecture, treating a missing precision as FP32', () => {
    const manifest = { models: [entry('det-fp32', 'detector', 'ppocr-db'), entry('rec-fp32', 'reader', 'crnn', 'fp32'), entry('rec-int8', 'reader', 'crnn', 'int8')] };
    const pairs = precisionPairs(manifest, configured);
    expect(pairs).toEqual([{ kind: 'reader', fp32: 'rec-fp32', int8: 'rec-int8' }]);
    // The unpaired detector stays the configured one in both variants.
    expect(variantFor(pairs, configured, 'int8')).toEqual({ detector: 'det-fp32', reader: 'rec-int8' });
    expect(variantFor(pairs, configured, 'fp32')).toEqual(configured);
  });

  it('counts the exporter\'s int8-qdq as INT8', () => {
    const qdq = { ...entry('rec-int8', 'reader', 'crnn'), precision: 'int8-qdq' } as unknown as ModelEntry;
    const manifest = { models: [entry('rec-fp32', 'reader', 'crnn', 'fp32'), qdq] };
    expect(precisionPairs(manifest, configured)).toEqual([{ kind: 'reader', fp32: 'rec-fp32', int8: 'rec-int8' }]);
  });

  it("prefers the configured model's architecture when a kind has several pairs", () => {
    const manifest = {
      models: [entry('other-fp32', 'detector', 'yolo', 'fp32'), entry('other-int8', 'detector', 'yolo', 'int8'), entry('det-fp32', 'detector', 'ppocr-db', 'fp32'), entry('det-int8', 'detector', 'ppocr-db', 'int8')],
    };
    expect(precisionPairs(manifest, configured)).toEqual([{ kind: 'detector', fp32: 'det-fp32', int8: 'det-int8' }]);
  });
});

describe('bench: figures and verdicts', () => {
  it('summarises with a nearest-rank p95', () => {
    const s = summarise(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s).toEqual({ mean: 50.5, p95: 95, n: 100 });
    expect(summarise([])).toEqual({ mean: 0, p95: 0, n: 0 });
  });

  const stat = (mean: number) => ({ mean, p95: mean, n: 10 });
  const readerRuns = (runs: number[]) => {
    const sorted = [...runs].sort((a, b) => a - b);
    return { plates: 40, runs, cpuMsPerPlate: { min: sorted[0]!, median: sorted[2]!, max: sorted[4]! }, msPerPlate: stat(1.5) };
  };
  const startup = (readS: number, runS: number) => ({
    read: { image: 'one-car.jpg', runs: [{ wallS: readS, cpuS: 0.5 }], medianWallS: readS },
    run: { clip: 'clip.mp4', runs: [{ wallS: runS, cpuS: 1, modelsLoadedS: 0.5, httpListeningS: 0.8 }], medianWallS: runS },
  });
  const run = (threads: number) => ({
    options: { frames: 90, intraOpThreads: threads, detectorMaxSide: 960 },
    peakRssMb: 200,
    readerAlone: readerRuns([1.4, 1.5, 1.6, 1.5, 1.9]),
    precision: { measured: false as const, reason: 'only FP32 interim models shipped' },
    startup: null,
    endToEnd: {
      frames: 90, fps: 30, msPerFrame: 33, detectMs: stat(40), readMsPerFrame: stat(3), readMsPerCrop: { ...stat(1.5), crops: 20 }, analyseMs: stat(45),
      cpuPctOneCore: 150, cpuPctAllCores: 75, cpuMsPerFrame: 24, rssMb: { mean: 180, max: 190 }, reads: { count: 1, plates: ['QXZ482'] },
    },
  });

  it('marks each target met or not, and n/a where it cannot apply', () => {
    const byName = Object.fromEntries(checkTargets(run(1)).map((t) => [t.name, t.met]));
    expect(byName).toEqual({
      'end to end, every 1080p30 frame': true,
      'CPU per analysed 1080p frame, whole process': true,
      'peak RSS': true,
      'detector per 1080p frame, one core': false,
      'reader per plate, one core': true,
      'INT8 speed-up over FP32': null,
      'read of one image, start to exit': null,
      'run to first analysed frame': null,
    });
    // INT8 is judged on the networks (the slower speed-up of the two), not on the pipeline's
    // precision-independent scaling and tensor building.
    const measured = {
      measured: true as const,
      pairs: [],
      frames: 32,
      fp32: { models: { detector: 'd32', reader: 'r32' }, detectMs: stat(10), readMs: stat(2) },
      int8: { models: { detector: 'd8', reader: 'r8' }, detectMs: stat(9), readMs: stat(1) },
      speedup: { total: 1.2 },
      networks: [
        { kind: 'detector' as const, shape: [1, 3, 384, 640], fp32Ms: 6, int8Ms: 3.5, speedup: 6 / 3.5 },
        { kind: 'reader' as const, shape: [2, 3, 48, 160], fp32Ms: 3, int8Ms: 1.1, speedup: 3 / 1.1 },
      ],
    };
    const int8 = checkTargets({ ...run(1), precision: measured }).find((t) => t.name === 'INT8 speed-up over FP32')!;
    expect(int8.met).toBe(true);
    expect(int8.value).toBeCloseTo(6 / 3.5, 6);
    const slow = { ...measured, networks: [measured.networks[0]!, { ...measured.networks[1]!, speedup: 1.3 }] };
    expect(checkTargets({ ...run(1), precision: slow }).find((t) => t.name === 'INT8 speed-up over FP32')!.met).toBe(false);
    // The detector target is for one core; a multi-threaded figure is reported, not judged.
    expect(checkTargets(run(2)).find((t) => t.name === 'detector per 1080p frame, one core')?.met).toBeNull();
    expect(checkTargets(run(2)).find((t) => t.name === 'reader per plate, one core')?.met).toBeNull();
    // Judged on the reader alone, not on the pipeline's per-crop time, which shares the cores with decoding.
    // In every run: one slow run of five misses it, however good the median.
    expect(checkTargets({ ...run(1), readerAlone: readerRuns([1.4, 1.5, 2.1, 1.5, 1.5]) }).find((t) => t.name === 'reader per plate, one core')?.met).toBe(false);
    // Start-up, from the spawned CLI when it ran.
    const spawned = Object.fromEntries(checkTargets({ ...run(1), startup: startup(0.7, 2.5) }).map((t) => [t.name, t.met]));
    expect([spawned['read of one image, start to exit'], spawned['run to first analysed frame']]).toEqual([true, false]);
    expect(checkTargets({ ...run(1), endToEnd: { ...run(1).endToEnd, cpuMsPerFrame: 30 } }).find((t) => t.name === 'CPU per analysed 1080p frame, whole process')?.met).toBe(false);
    expect(checkTargets({ ...run(1), readerAlone: null }).find((t) => t.name === 'reader per plate, one core')?.met).toBeNull();
  });

  it('aligns the table columns', () => {
    const lines = formatTable([['a', 'one', '>= 1', 'met'], ['longer measure', '2']]).split('\n');
    expect(lines[0]!.indexOf('ours')).toBe(lines[2]!.indexOf('one'));
    expect(lines[3]!.indexOf('2')).toBe(lines[2]!.indexOf('one'));
  });

  it('takes the documented options and refuses nonsense', () => {
    expect(parseOptions([])).toEqual({ frames: 90, threads: 1, maxSide: undefined, manifest: undefined, json: 'bench-results/bench.json', decoderThreads: 2, startup: true, scaleInCapture: true, unitEnv: true });
    expect(parseOptions(['--frames', '30', '--threads', '2', '--max-side', '640', '--json', 'x.json', '--decoder-threads', '0', '--no-startup', '--resize-in-js', '--no-unit-env'])).toEqual({ frames: 30, threads: 2, maxSide: 640, manifest: undefined, json: 'x.json', decoderThreads: 0, startup: false, scaleInCapture: false, unitEnv: false });
    expect(() => parseOptions(['--decoder-threads', '-1'])).toThrow(/--decoder-threads/);
    expect(() => parseOptions(['--frames', '0'])).toThrow(/--frames/);
  });
});

describe('fleet bench options', () => {
  it('refuses a broker other than loopback and bounds the fleet', async () => {
    const { parseFleetOptions, percentile } = await import('../../scripts/bench-fleet.js');
    expect(parseFleetOptions([]).devices).toBe(200);
    expect(() => parseFleetOptions(['--broker', 'mqtt://10.1.2.3:1883'])).toThrow(/127\.0\.0\.1/);
    expect(() => parseFleetOptions(['--broker', 'mqtts://127.0.0.1:8883'])).toThrow(/mqtt:\/\//);
    expect(() => parseFleetOptions(['--devices', '100000'])).toThrow(/--devices/);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.5)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.99)).toBe(10);
  });
});
