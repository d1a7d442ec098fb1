// Shared by bench_tflite.js and bench_ort.js (benchmark-only): command line, error exit, timing
// statistics and the one-line JSON result, so both runtimes are reported the same way. (The timing loops
// stay in each script: ORT's run() is awaited, TFLite's Infer() is synchronous and must not be.)
'use strict';
const fs = require('fs');

// fail(code, msg) for a script called `name`: "name: msg" on stderr, exit code.
function failer(name) {
  return (code, msg) => {
    process.stderr.write(`${name}: ${msg}\n`);
    process.exit(code);
  };
}

// MODEL [--runs N] [--warmup N] [--input INPUT.raw] [--output OUT.json]; usage error (exit 1) otherwise.
function parseArgs(argv, usage, fail) {
  let runs = 1000, warmup = 100, inputPath = null, outPath = null;
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') runs = parseInt(argv[++i], 10);
    else if (argv[i] === '--warmup') warmup = parseInt(argv[++i], 10);
    else if (argv[i] === '--input') inputPath = argv[++i];
    else if (argv[i] === '--output') outPath = argv[++i];
    else pos.push(argv[i]);
  }
  if (pos.length !== 1 || !(runs >= 1) || !(warmup >= 0)) fail(1, usage);
  return {modelPath: pos[0], runs, warmup, inputPath, outPath};
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

// The fixed pseudo-random float input used when no INPUT.raw is given.
function fillFloat(view) {
  for (let i = 0; i < view.length; i++) view[i] = -6 + 4 * Math.sin(0.37 * i) * Math.cos(0.011 * i);
}

// {head..., median_us, p90_us, mean_us, min_us, output} as one JSON line on stdout (and in outPath).
function report(head, samples, output, outPath) {
  const text = JSON.stringify(Object.assign(head, stats(samples), {output}));
  if (outPath) fs.writeFileSync(outPath, text + '\n');
  process.stdout.write(text + '\n');
}

module.exports = {failer, parseArgs, stats, fillFloat, report};
