#!/usr/bin/env node
// Benchmark-only: batch-1 latency of an .onnx model in ONNX Runtime (npm onnxruntime-node, CPU
// execution provider), one intra-op thread, one inter-op thread, sequential execution.
//
//   node bench_ort.js MODEL.onnx [--runs 1000] [--warmup 100] [--input INPUT.raw] [--output OUT.json]
//
// INPUT.raw: float32 little-endian values of input 0 (default: a fixed pseudo-random pattern). Each of
// --runs session.run() calls is timed with process.hrtime.bigint() (this includes onnxruntime-node's
// JS <-> native binding overhead per call). Prints one JSON line like bench_tflite.js, runtime "onnxruntime".
'use strict';
const fs = require('fs');

function fail(code, msg) {
  process.stderr.write(`bench_ort: ${msg}\n`);
  process.exit(code);
}

function stats(samples) {
  const v = Float64Array.from(samples).sort();
  const n = v.length;
  const median = n % 2 ? v[(n - 1) / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  const p90 = v[Math.min(n, Math.max(1, Math.ceil(0.9 * n))) - 1];
  let sum = 0;
  for (const x of v) sum += x;
  return {median_us: median, p90_us: p90, mean_us: sum / n, min_us: v[0]};
}

async function main() {
  const args = process.argv.slice(2);
  let runs = 1000, warmup = 100, inputPath = null, outPath = null;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--runs') runs = parseInt(args[++i], 10);
    else if (args[i] === '--warmup') warmup = parseInt(args[++i], 10);
    else if (args[i] === '--input') inputPath = args[++i];
    else if (args[i] === '--output') outPath = args[++i];
    else pos.push(args[i]);
  }
  if (pos.length !== 1 || !(runs >= 1) || !(warmup >= 0)) {
    fail(1, 'usage: bench_ort.js MODEL.onnx [--runs N] [--warmup N] [--input INPUT.raw] [--output OUT.json]');
  }
  const modelPath = pos[0];
  if (!fs.existsSync(modelPath)) fail(2, `${modelPath}: no such file`);
  let ort;
  try {
    ort = require('onnxruntime-node');
  } catch (e) {
    fail(3, `onnxruntime-node not usable (run npm install in tools/js): ${e.message}`);
  }
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata.find?.((m) => m.name === inName) : undefined;
  let dims = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' ? d : 1)) : null;
  if (!dims) fail(3, `${modelPath}: cannot read the input shape`);
  const n = dims.reduce((a, b) => a * b, 1);
  let data;
  if (inputPath) {
    const raw = fs.readFileSync(inputPath);
    if (raw.length !== 4 * n) fail(2, `${inputPath}: ${raw.length} bytes, input needs ${4 * n}`);
    data = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
  } else {
    data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = -6 + 4 * Math.sin(0.37 * i) * Math.cos(0.011 * i);
  }
  const feeds = {[inName]: new ort.Tensor('float32', data, dims)};
  let out;
  for (let i = 0; i < warmup; i++) out = await session.run(feeds);
  const samples = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    out = await session.run(feeds);
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const result = Object.assign({runtime: 'onnxruntime', version: ort.env.versions ? ort.env.versions.common : undefined,
                                model: modelPath, runs}, stats(samples),
                               {output: Array.from(out[outName].data)});
  const text = JSON.stringify(result);
  if (outPath) fs.writeFileSync(outPath, text + '\n');
  process.stdout.write(text + '\n');
}

main().catch((e) => fail(3, e && e.stack ? e.stack : String(e)));
