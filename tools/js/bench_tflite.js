#!/usr/bin/env node
// Benchmark-only: batch-1 latency of a .tflite in the official TFLite interpreter compiled to
// WebAssembly (npm @tensorflow/tfjs-tflite, wasm/tflite_web_api_cc_simd.{js,wasm}), one thread.
//
//   node bench_tflite.js MODEL.tflite [--runs 1000] [--warmup 100] [--input INPUT.raw] [--output OUT.json]
//
// Fills input tensor 0 with INPUT.raw (raw bytes of the tensor's own type) or with a fixed
// pseudo-random pattern, runs --warmup untimed Infer() calls, then times each of --runs Infer() calls
// with process.hrtime.bigint(). Prints one JSON line:
//   {"runtime": "tflite-wasm-simd", "model": ..., "runs": N, "median_us": ..., "p90_us": ..., "mean_us": ...,
//    "min_us": ..., "output": [...]}      (output = output tensor 0 after the last call, raw values)
'use strict';
const fs = require('fs');
const {failer, parseArgs, fillFloat, report} = require('./bench_common');
const path = require('path');

const fail = failer('bench_tflite');

async function main() {
  const {modelPath, runs, warmup, inputPath, outPath} =
      parseArgs(process.argv.slice(2), 'usage: bench_tflite.js MODEL.tflite [--runs N] [--warmup N] [--input INPUT.raw] [--output OUT.json]', fail);
  const wasmDir = path.join(__dirname, 'node_modules', '@tensorflow', 'tfjs-tflite', 'wasm');
  const factoryPath = path.join(wasmDir, 'tflite_web_api_cc_simd.js');
  if (!fs.existsSync(factoryPath)) fail(3, `${factoryPath}: missing (run npm install in tools/js)`);
  const mod = await require(factoryPath)({
    wasmBinary: fs.readFileSync(path.join(wasmDir, 'tflite_web_api_cc_simd.wasm')),
    print: () => {},
    printErr: (s) => process.stderr.write(`[tflite] ${s}\n`),
  });
  if (!fs.existsSync(modelPath)) fail(2, `${modelPath}: no such file`);
  const model = fs.readFileSync(modelPath);
  const ptr = mod._malloc(model.length);
  mod.HEAPU8.set(model, ptr);
  const status = mod.TFLiteWebModelRunner.CreateFromBufferAndOptions(
      ptr, model.length, {numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 1024});
  if (!status.ok()) fail(2, `${modelPath}: rejected by the official interpreter: ${status.errorMessage()}`);
  const runner = status.value();
  const input = runner.GetInputs().get(0);
  const output = runner.GetOutputs().get(0);

  const view = input.data();
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (inputPath) {
    const raw = fs.readFileSync(inputPath);
    if (raw.length !== bytes.length) fail(2, `${inputPath}: ${raw.length} bytes, input needs ${bytes.length}`);
    bytes.set(raw);
  } else if (view instanceof Float32Array) {
    fillFloat(view);
  } else {
    for (let i = 0; i < view.length; i++) view[i] = Math.round(60 * Math.sin(0.37 * i));
  }
  for (let i = 0; i < warmup; i++) if (!runner.Infer()) fail(2, `${modelPath}: Infer() failed`);
  const samples = new Array(runs);
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    runner.Infer();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  report({runtime: 'tflite-wasm-simd', model: modelPath, runs}, samples, Array.from(output.data()), outPath);
}

main().catch((e) => fail(3, e && e.stack ? e.stack : String(e)));
