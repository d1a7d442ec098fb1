#!/usr/bin/env node
// Test-only reference loader: runs a .tflite file in Google's LiteRT (npm
// @litertjs/core, its WebAssembly build of the TFLite/LiteRT interpreter with
// the XNNPACK CPU accelerator), which, unlike @tensorflow/tfjs-tflite, runs
// resource variables (VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE) and
// CALL_ONCE: microWakeWord's streaming models.
//
//   node litert_run.js MODEL.tflite INPUT.raw [OUTPUT.json]
//
// INPUT.raw holds K inputs for input tensor 0 back to back (raw little-endian
// bytes of its type); they run in order on ONE compiled model, so a streaming
// model carries its state from one run to the next. Output JSON as
// tflite_run.js: {"type", "shape", "batches": K, "values": [...]} with output
// tensor 0's raw values of every run concatenated (uint8/int8 stay integers).
// The package's JS entry is browser-only (it loads its wasm through a script
// tag); this loads the Emscripten module (the "compat" build: no relaxed SIMD,
// which Node 20 lacks) directly and drives its bindings.
// Exit code: 0 ok, 2 bad input / model rejected, 3 internal error.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(code, msg) {
  process.stderr.write(`litert_run: ${msg}\n`);
  process.exit(code);
}

const kTypes = {1: ['float32', Float32Array], 2: ['int32', Int32Array], 3: ['uint8', Uint8Array],
                6: ['bool', Uint8Array], 9: ['int8', Int8Array]};

async function loadLiteRt() {
  const dir = path.join(__dirname, 'node_modules', '@litertjs', 'core', 'wasm');
  const js = path.join(dir, 'litert_wasm_compat_internal.js');
  if (!fs.existsSync(js)) fail(3, `${js}: missing (run npm install in tools/js)`);
  const factory = new Function('require', '__dirname', '__filename',
                               fs.readFileSync(js, 'utf8') + '\nreturn ModuleFactory;')(require, dir, js);
  return factory({
    wasmBinary: fs.readFileSync(path.join(dir, 'litert_wasm_compat_internal.wasm')),
    print: () => {},
    printErr: (s) => { if (!/^(INFO|WARNING)/.test(s)) process.stderr.write(`[litert] ${s}\n`); },
  });
}

const toArray = (v) => { const a = []; for (let i = 0; i < v.size(); i++) a.push(v.get(i)); return a; };

async function main() {
  const [modelPath, inputPath, outPath] = process.argv.slice(2);
  if (!inputPath) fail(1, 'usage: litert_run.js MODEL.tflite INPUT.raw [OUTPUT.json]');
  const W = await loadLiteRt();
  const env = W.LiteRtEnvironment.create(null);
  const bytes = fs.readFileSync(modelPath);
  const ptr = W._malloc(bytes.length);
  W.HEAPU8.set(bytes, ptr);
  let model, compiled;
  try {
    model = W.loadModel(env, ptr, bytes.length);
    compiled = await W.compileModel(env, model, {environment: {liteRtEnvironment: env}, accelerator: 'wasm',
                                                 cpuOptions: {numThreads: 1}, gpuOptions: {}, webNNOptions: {}});
  } catch (e) {
    fail(2, `${modelPath}: rejected by LiteRT: ${e && e.message ? e.message : e}`);
  }
  const inType = model.getInputTensorType(0, 0);
  const outType = model.getOutputTensorType(0, 0);
  const n = inType.bytes();
  const raw = fs.readFileSync(inputPath);
  if (raw.length === 0 || raw.length % n !== 0) fail(2, `${inputPath}: ${raw.length} bytes, input needs a multiple of ${n}`);
  const [outName, OutArray] = kTypes[outType.elementType().value] || fail(3, 'unsupported output type');
  const values = [];
  for (let b = 0; b < raw.length / n; b++) {
    const buf = W.LiteRtTensorBuffer.createManaged(env, W.LiteRtTensorBufferType.HOST_MEMORY, inType, n);
    const p = buf.lock(W.LiteRtTensorBufferLockMode.WRITE);
    W.HEAPU8.set(raw.subarray(b * n, (b + 1) * n), p);
    buf.unlock();
    const outs = await compiled.run(0, [buf]);
    const q = outs[0].lock(W.LiteRtTensorBufferLockMode.READ);
    const view = new OutArray(W.HEAPU8.buffer, q, outType.bytes() / OutArray.BYTES_PER_ELEMENT);
    for (const v of view) values.push(v);
    outs[0].unlock();
    for (const o of outs) o.delete();
    buf.delete();
  }
  const result = {type: outName, shape: toArray(outType.layout().dimensions()), batches: raw.length / n, values};
  const text = JSON.stringify(result, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
  if (outPath) fs.writeFileSync(outPath, text + '\n');
  else process.stdout.write(text + '\n');
}

main().catch((e) => fail(3, e && e.stack ? e.stack : String(e)));
