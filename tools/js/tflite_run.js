#!/usr/bin/env node
// Test-only reference loader: runs a .tflite file in the official TFLite interpreter compiled to
// WebAssembly (npm @tensorflow/tfjs-tflite, wasm/tflite_web_api_cc_simd.{js,wasm}).
//
//   node tflite_run.js MODEL.tflite INPUT.raw [OUTPUT.json] [--repeat N]
//
// INPUT.raw holds the raw bytes of input tensor 0 (little-endian, the tensor's own type: float32 or
// int8), or K such inputs back to back: then the model runs K times. The output JSON is
// {"type": "...", "shape": [...], "batches": K, "values": [...]} with the raw values of output tensor 0
// (int8 stays int8, no dequantization), the K runs concatenated. Without OUTPUT.json it goes to stdout.
// With --repeat N it also reports the mean Infer() time in microseconds ("us_per_infer").
// Exit code: 0 ok, 2 bad input / model rejected by the interpreter, 3 internal error.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(code, msg) {
  process.stderr.write(`tflite_run: ${msg}\n`);
  process.exit(code);
}

async function main() {
  const args = process.argv.slice(2);
  let repeat = 0;
  const pos = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--repeat') repeat = parseInt(args[++i], 10);
    else pos.push(args[i]);
  }
  if (pos.length < 2) fail(1, 'usage: tflite_run.js MODEL.tflite INPUT.raw [OUTPUT.json] [--repeat N]');
  const [modelPath, inputPath, outPath] = pos;

  const wasmDir = path.join(__dirname, 'node_modules', '@tensorflow', 'tfjs-tflite', 'wasm');
  const factoryPath = path.join(wasmDir, 'tflite_web_api_cc_simd.js');
  if (!fs.existsSync(factoryPath)) fail(3, `${factoryPath}: missing (run npm install in tools/js)`);
  const factory = require(factoryPath);
  const mod = await factory({
    wasmBinary: fs.readFileSync(path.join(wasmDir, 'tflite_web_api_cc_simd.wasm')),
    print: () => {},
    printErr: (s) => process.stderr.write(`[tflite] ${s}\n`),
  });

  const model = fs.readFileSync(modelPath);
  const ptr = mod._malloc(model.length);
  mod.HEAPU8.set(model, ptr);
  const status = mod.TFLiteWebModelRunner.CreateFromBufferAndOptions(
      ptr, model.length, {numThreads: 1, enableProfiling: false, maxProfilingBufferEntries: 1024});
  if (!status.ok()) fail(2, `${modelPath}: rejected by the official interpreter: ${status.errorMessage()}`);
  const runner = status.value();

  const inputs = runner.GetInputs();
  const input = inputs.get(0);
  const inView = input.data();  // a typed view into the wasm heap
  const raw = fs.readFileSync(inputPath);
  const n = inView.byteLength;
  if (raw.length === 0 || raw.length % n !== 0) {
    fail(2, `${inputPath}: ${raw.length} bytes, input tensor '${input.name}' (${input.dataType} [${input.shape}]) needs a multiple of ${n}`);
  }
  const batches = raw.length / n;
  let output = runner.GetOutputs().get(0);
  const values = [];
  for (let b = 0; b < batches; b++) {
    // Views into the wasm heap are re-fetched each time (the heap may grow).
    const view = input.data();
    new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(raw.subarray(b * n, (b + 1) * n));
    if (!runner.Infer()) fail(2, `${modelPath}: Infer() failed`);
    // Fetched again after every run: a dynamic output (e.g. an IF's) gets a new buffer in Infer().
    output = runner.GetOutputs().get(0);
    for (const v of output.data()) values.push(v);
  }
  let usPerInfer;
  if (repeat > 0) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < repeat; i++) runner.Infer();
    usPerInfer = Number(process.hrtime.bigint() - t0) / 1000 / repeat;
  }
  const result = {
    type: output.dataType,
    shape: String(output.shape).split(',').filter((s) => s !== '').map(Number),
    batches,
    values,
  };
  if (usPerInfer !== undefined) result.us_per_infer = usPerInfer;
  const text = JSON.stringify(result, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  if (outPath) fs.writeFileSync(outPath, text + '\n');
  else process.stdout.write(text + '\n');
}

main().catch((e) => fail(3, e && e.stack ? e.stack : String(e)));
