// Times exported models in onnxruntime-node on one thread (the daemon's budget per stream) and
// saves ORT's optimised graph, to see which nodes it fused into integer kernels.
//   node scripts/export/ort_time.mjs --shape 1,3,384,640 model1.onnx [model2.onnx ...]
// Prints {model: {ms_per_frame, optimized_path}}. The input is mid-grey noise: speed does not
// depend on content for these conv-only graphs.
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';

const argv = process.argv.slice(2);
const opt = {};
const models = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith('--')) opt[argv[i].slice(2)] = argv[++i];
  else models.push(argv[i]);
}
const shape = (opt.shape ?? '1,3,384,640').split(',').map(Number);
const n = shape.reduce((a, b) => a * b, 1);
const data = new Float32Array(n);
for (let i = 0; i < n; i++) data[i] = Math.random() * 0.2 - 0.1;
const out = {};
for (const m of models) {
  const optimized = path.join(os.tmpdir(), path.basename(m) + '.opt.onnx');
  const sess = await ort.InferenceSession.create(m, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all', optimizedModelFilePath: optimized,
  });
  const x = new ort.Tensor('float32', data, shape);
  for (let i = 0; i < 5; i++) await sess.run({ [sess.inputNames[0]]: x });
  const times = [];
  for (let i = 0; i < 30; i++) {
    const t = process.hrtime.bigint();
    await sess.run({ [sess.inputNames[0]]: x });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  out[m] = { ms_per_frame: times[times.length >> 1], optimized_path: optimized };
  await sess.release?.();
}
process.stdout.write(JSON.stringify(out));
