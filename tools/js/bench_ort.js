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
const {failer, parseArgs, fillFloat, report} = require('./bench_common');

const fail = failer('bench_ort');

async function main() {
  const {modelPath, runs, warmup, inputPath, outPath} =
      parseArgs(process.argv.slice(2), 'usage: bench_ort.js MODEL.onnx [--runs N] [--warmup N] [--input INPUT.raw] [--output OUT.json]', fail);
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
    fillFloat(data);
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
  report({runtime: 'onnxruntime', version: ort.env.versions ? ort.env.versions.common : undefined, model: modelPath,
          runs}, samples, Array.from(out[outName].data), outPath);
}

main().catch((e) => fail(3, e && e.stack ? e.stack : String(e)));
