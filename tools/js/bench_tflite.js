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
const path = require('path');

function fail(code, msg) {
  process.stderr.write(`bench_tflite: ${msg}\n`);
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
    fail(1, 'usage: bench_tflite.js MODEL.tflite [--runs N] [--warmup N] [--input INPUT.raw] [--output OUT.json]');
  }
  const modelPath = pos[0];
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
    for (let i = 0; i < view.length; i++) view[i] = -6 + 4 * Math.sin(0.37 * i) * Math.cos(0.011 * i);
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
  const result = Object.assign({runtime: 'tflite-wasm-simd', model: modelPath, runs}, stats(samples),
                               {output: Array.from(output.data())});
  const text = JSON.stringify(result);
  if (outPath) fs.writeFileSync(outPath, text + '\n');
  process.stdout.write(text + '\n');
}

main().catch((e) => fail(3, e && e.stack ? e.stack : String(e)));
