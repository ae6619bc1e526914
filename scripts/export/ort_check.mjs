// Runs exported reader models with onnxruntime-node, the runtime the daemon ships with, so the
// export is judged by the integer kernels ORT actually picks rather than by an emulation.
// Called by export_reader.py:
//   node scripts/export/ort_check.mjs --input X.f32 --n N --out DIR model1.onnx [model2.onnx ...]
// Writes DIR/<model>.logits.f32, DIR/<model>.state.f32, DIR/<model>.opt.onnx (ORT's optimised
// graph, to see which nodes were fused) and prints {model: {ms_per_plate, optimized_path}}.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

const argv = process.argv.slice(2);
const opt = {};
const models = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i].startsWith('--')) opt[argv[i].slice(2)] = argv[++i];
  else models.push(argv[i]);
}
const n = Number(opt.n);
const per = 3 * 48 * 160;
const buf = fs.readFileSync(opt.input);
const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
if (all.length !== n * per) throw new Error(`input has ${all.length} floats, expected ${n * per}`);

const out = {};
for (const m of models) {
  const base = path.join(opt.out, path.basename(m));
  // Single intra-op thread: the daemon budget is one core per camera stream.
  const so = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
    graphOptimizationLevel: 'all', optimizedModelFilePath: base + '.opt.onnx' };
  const sess = await ort.InferenceSession.create(m, so);
  const logits = new Float32Array(n * 40 * 37);
  const state = new Float32Array(n * 52);
  const B = 32;
  for (let i = 0; i < n; i += B) {
    const b = Math.min(B, n - i);
    const x = new ort.Tensor('float32', all.subarray(i * per, (i + b) * per), [b, 3, 48, 160]);
    const r = await sess.run({ input: x });
    logits.set(r.logits.data, i * 40 * 37);
    state.set(r.state_logits.data, i * 52);
  }
  fs.writeFileSync(base + '.logits.f32', Buffer.from(logits.buffer));
  fs.writeFileSync(base + '.state.f32', Buffer.from(state.buffer));
  const one = new ort.Tensor('float32', all.slice(0, per), [1, 3, 48, 160]);
  for (let i = 0; i < 20; i++) await sess.run({ input: one });
  const times = [];
  for (let i = 0; i < 200; i++) {
    const t = process.hrtime.bigint();
    await sess.run({ input: one });
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  out[m] = { ms_per_plate: times[times.length >> 1], optimized_path: base + '.opt.onnx' };
  await sess.release?.();
}
process.stdout.write(JSON.stringify(out));
