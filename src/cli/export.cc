// kws export: a trained model (run folder or checkpoint) -> .tflite (float32, dynamic-range, int8) or C source.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.h"
#include "export/export_model.h"
#include "util/text.h"

namespace {

struct Opts {
  kws::ModelExportOptions e;
  std::string quant = "dynamic";
  std::string int8_weights;  // "" = the recipe's export.int8_weights
  long max_bytes = 0;        // unless given: the recipe's export.max_bytes
  int calibration_count = 0; // unless given: the recipe's export.calibration_count
  std::string global_pool = "mean";
  bool float_io = false;
  bool logits = false;
  bool json = false;
  bool bytes = false;
};

kws::cli::Registrar reg(
    "export", "Export a trained model to .tflite (float, dynamic-range or int8) or C source",
    [](CLI::App& app) {
      auto o = std::make_shared<Opts>();
      app.add_option("--model", o->e.model, "Training run folder (uses RUN_DIR/model.ckpt) or a .ckpt file")->required();
      app.add_option("--out", o->e.out, "Output file (.tflite, or .c/.cc with --format c)")->required();
      app.add_option("--quant", o->quant,
                     "float | dynamic (TFLite converter default: int8 weights, float activations) | int8 "
                     "(full integer, needs --calibration-data)")
          ->capture_default_str();
      app.add_option("--format", o->e.format, "tflite | c (a C array for microcontrollers)")->capture_default_str();
      app.add_option("--name", o->e.c_name, "C array name for --format c (default: from the output file name)");
      app.add_option("--calibration-data", o->e.calibration_data,
                     "int8: dataset folder (label sub-folders of clips, e.g. the training data) used to calibrate "
                     "activation ranges; repeatable");
      CLI::Option* calibration_count = app.add_option("--calibration-count", o->calibration_count,
                     "int8: clips used for calibration (shuffled; default: the recipe's export.calibration_count, 200)");
      app.add_option("--seed", o->e.seed, "Shuffle seed for the calibration clips")->capture_default_str();
      app.add_option("--int8-weights", o->int8_weights,
                     "int8: weight scales per output channel, one per tensor, or per-channel where it helps most "
                     "within --max-bytes (per-channel | per-tensor | fit; default: the recipe's export.int8_weights, "
                     "per-tensor)");
      CLI::Option* max_bytes = app.add_option("--max-bytes", o->max_bytes,
                     "int8, --int8-weights fit: the file's budget in bytes (default: the recipe's export.max_bytes)");
      app.add_option("--global-pool", o->global_pool,
                     "Global average pool as MEAN or as a whole-extent AVERAGE_POOL_2D (mean | avg-pool)")
          ->capture_default_str();
      app.add_flag("--float-io", o->float_io, "int8: keep float input/output (adds QUANTIZE/DEQUANTIZE ops)");
      app.add_flag("--logits", o->logits, "Output logits instead of softmax probabilities");
      app.add_option("--set", o->e.detector_overrides,
                     "detector.KEY=VALUE: change a streaming detector setting stored in the model (e.g. a threshold "
                     "chosen with kws stream-eval on a tuning stream); repeatable");
      app.add_flag("--bytes", o->bytes, "Also print where the .tflite's bytes go (buffers, tensors, operators, ...)");
      app.add_flag("--json", o->json, "Print the result as JSON");
      return [o, calibration_count, max_bytes]() -> int {
        o->e.quant = kws::ParseQuantMode(o->quant);
        o->e.int8_io = !o->float_io;
        if (!o->int8_weights.empty()) o->e.int8_weights = kws::ParseInt8Weights(o->int8_weights);
        if (max_bytes->count()) o->e.max_bytes = o->max_bytes;
        if (calibration_count->count()) o->e.calibration_count = o->calibration_count;
        o->e.global_pool = kws::ParseGlobalPool(o->global_pool);
        o->e.softmax = !o->logits;
        kws::ModelExportResult r = kws::ExportModel(o->e);
        if (o->json) {
          nlohmann::json j = {{"checkpoint", r.checkpoint},
                              {"out", r.out},
                              {"format", o->e.format},
                              {"quant", kws::QuantModeName(o->e.quant)},
                              {"int8_weights", r.int8_weights},
                              {"global_pool", kws::GlobalPoolName(o->e.global_pool)},
                              {"tflite_bytes", r.bytes},
                              {"zip_bytes", r.zip_bytes},
                              {"labels", r.labels},
                              {"ops", r.info.ops_used},
                              {"arena_bytes_estimate", r.info.arena_bytes_estimate},
                              {"runtime_arena_bytes", r.runtime_arena_bytes},
                              {"quantized_weight_tensors", r.info.quantized_weight_tensors},
                              {"float_weight_tensors", r.info.float_weight_tensors},
                              {"calibration_samples", r.calibration_samples},
                              {"detector", r.detector}};
          if (o->bytes) {
            nlohmann::json parts = nlohmann::json::object();
            for (const auto& [part, n] : r.info.bytes.parts) parts[part] = n;
            j["bytes"] = parts;
          }
          if (o->e.quant == kws::QuantMode::kInt8) {
            j["input_scale"] = r.info.input_quant.scale;
            j["input_zero_point"] = r.info.input_quant.zero_point;
          }
          if (!r.frontend_header.empty()) j["frontend_header"] = r.frontend_header;
          std::printf("%s\n", j.dump(2).c_str());
        } else {
          std::printf("wrote %s (%s, %s)\n", r.out.c_str(), kws::QuantModeName(o->e.quant), o->e.format.c_str());
          std::printf("  .tflite size   %zu bytes (zipped %zu bytes)\n", r.bytes, r.zip_bytes);
          std::printf("  labels         ");
          for (size_t i = 0; i < r.labels.size(); ++i)
            std::printf("%s%s", i ? ", " : "", kws::Printable(r.labels[i]).c_str());
          std::printf("\n  ops            ");
          for (size_t i = 0; i < r.info.ops_used.size(); ++i)
            std::printf("%s%s", i ? ", " : "", r.info.ops_used[i].c_str());
          std::printf("\n  weights        %d int8 tensors, %d float tensors\n", r.info.quantized_weight_tensors,
                      r.info.float_weight_tensors);
          if (r.calibration_samples) std::printf("  calibration    %d clips\n", r.calibration_samples);
          if (!r.int8_weights.empty()) std::printf("  weight scales  %s\n", r.int8_weights.c_str());
          std::printf("  arena          %zu bytes (kws runtime)\n", r.runtime_arena_bytes);
          if (!r.detector.is_null()) std::printf("  detector       %s\n", r.detector.dump().c_str());
          if (!r.frontend_header.empty())
            std::printf("  front end      %s (TFLite Micro audio front-end settings)\n", r.frontend_header.c_str());
          if (o->bytes) std::printf("%s", r.info.bytes.Table().c_str());
        }
        return 0;
      };
    },
    "Examples:\n"
    "  kws export --model runs/seed --quant dynamic --out seed.tflite\n"
    "  kws export --model runs/seed --quant int8 --calibration-data data/ --out seed_int8.tflite\n"
    "  kws export --model runs/seed/model.ckpt --quant int8 --calibration-data data/ --format c --out model_data.cc\n"
    "    (a model trained with [features] frontend = \"micro\" also gets model_data_frontend.h: the front end's settings)\n"
    "  kws export --model runs/stream --quant int8 --calibration-data data/ --set detector.threshold=0.85 --out m.tflite");

}  // namespace
