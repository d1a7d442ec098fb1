#include "export/export_model.h"

#include <algorithm>
#include <filesystem>

#include "audio/audio.h"
#include "data/dataset.h"
#include "export/from_model.h"
#include "export/micro_header.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "model/train_options.h"
#include "runtime/interpreter.h"
#include "tflite/detector_options.h"
#include "tflite/metadata.h"
#include "util/bounded_read.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/rng.h"

namespace kws {

namespace fs = std::filesystem;

void ModelExportOptions::Validate() const {
  if (model.empty()) throw UsageError("--model: required (a training run folder or a .ckpt file)");
  if (out.empty()) throw UsageError("--out: required");
  if (format != "tflite" && format != "c") throw UsageError("--format: '" + format + "' (expected tflite or c)");
  if (quant == QuantMode::kInt8 && calibration_data.empty() && !calibration_dataset)
    throw UsageError("--calibration-data: required for --quant int8 (a folder of clips, e.g. the training data)");
  if (calibration_count && *calibration_count < 1) throw UsageError("--calibration-count: must be >= 1");
  if (max_bytes && *max_bytes < 1) throw UsageError("--max-bytes: must be >= 1");
}

std::string ResolveCheckpointPath(const std::string& model) {
  std::error_code ec;
  if (fs::is_directory(model, ec)) {
    fs::path p = fs::path(model) / "model.ckpt";
    if (!fs::exists(p, ec)) throw BadInput(model + ": run folder has no model.ckpt (train it first)");
    return p.string();
  }
  if (!fs::exists(model, ec)) throw BadInput(model + ": no such run folder or checkpoint");
  return model;
}

std::vector<std::vector<float>> LoadCalibrationFeatures(const std::vector<std::string>& dirs,
                                                        const FeatureOptions& features, int count, uint64_t seed,
                                                        size_t expected_values) {
  DatasetOptions lo;
  lo.skip_bad_files = true;
  lo.probe = false;
  return LoadCalibrationFeatures(LoadDataset(dirs, lo), features, count, seed, expected_values);
}

std::vector<std::vector<float>> LoadCalibrationFeatures(const Dataset& ds, const FeatureOptions& features, int count,
                                                        uint64_t seed, size_t expected_values) {
  const std::string& dir = ds.root;
  std::vector<std::string> files;
  for (const Clip& c : ds.clips) files.push_back(c.path);
  if (files.empty()) throw BadInput(dir + ": no audio clips found for calibration");
  std::sort(files.begin(), files.end());
  Rng rng(seed);
  rng.Shuffle(files);
  FeatureExtractor fx(features);
  const size_t window = size_t(features.window_samples());
  std::vector<std::vector<float>> out;
  for (const std::string& f : files) {
    if (int(out.size()) >= count) break;
    Audio a;
    try {
      a = ReadAudio(f, features.sample_rate);
    } catch (const Error& e) {
      LogWarn("calibration: skipping %s", e.what());
      continue;
    }
    auto w = Windows(a.samples, window, LongClipPolicy::kFirstWindow, window);
    if (w.empty()) continue;
    FeatureMatrix m = fx.Compute(w[0].data(), int(w[0].size()));
    if (m.data.size() != expected_values)
      throw BadInput(f + ": features have " + std::to_string(m.frames) + "x" + std::to_string(m.bins) +
                     " values, the model input needs " + std::to_string(expected_values));
    out.push_back(std::move(m.data));
  }
  if (out.empty()) throw BadInput(dir + ": no readable audio clips for calibration");
  return out;
}

nlohmann::json DetectorSettingsWithOverrides(const nlohmann::json& detector, const std::vector<std::string>& overrides) {
  const DetectorOptions base =
      detector.is_null() ? DetectorOptions{} : DetectorOptionsFromJson(detector, DetectorOptions{}, "checkpoint");
  nlohmann::json table = {{"detector", DetectorOptionsToJson(base)}};
  for (const std::string& item : overrides) {
    if (item.rfind("detector.", 0) != 0)
      throw UsageError("--set " + item + ": kws export sets only detector.* settings (the training settings are "
                       "fixed in the checkpoint)");
    ApplyOverride(table, item);
  }
  DetectorOptionsFromJson(table["detector"], DetectorOptions{}, "--set").Validate(SettingNames::kConfig);
  return table["detector"];
}

namespace {

// The recipe's [export] settings stored in the checkpoint (the defaults for older checkpoints).
ExportConfigOptions RecipeExportSettings(const Checkpoint& ck, const std::string& path) {
  nlohmann::json table = settings::ToJson(ExportSettings(), ExportConfigOptions{});
  if (ck.config.is_object() && ck.config.contains("export") && ck.config["export"].is_object())
    for (const auto& [key, value] : ck.config["export"].items()) table[key] = value;
  try {
    ExportConfigOptions e = settings::Read(ExportSettings(), table, "export");
    settings::Validate(ExportSettings(), e, "export");
    return e;
  } catch (const Error& e) {
    throw BadInput(path + ": its stored [export] settings: " + e.what());
  }
}

std::string Int8WeightsSummary(const ir::Graph& g, Int8Weights w, const std::vector<int>& per_tensor_ops) {
  if (w != Int8Weights::kFit) return Int8WeightsName(w);
  const size_t n = PerChannelCandidates(g).size();
  return "fit: per-channel on " + std::to_string(n - per_tensor_ops.size()) + " of " + std::to_string(n) + " layers";
}

}  // namespace

std::vector<int> FitPerChannel(const ir::Graph& g, const ExportOptions& eo, const Calibration& cal, long max_bytes) {
  // Candidates in the order they give up per-channel scales: least noise cut per byte first.
  std::vector<std::pair<int, int>> ops = PerChannelCandidates(g);
  std::vector<double> value(g.ops.size(), 0.0);
  for (const auto& [i, channels] : ops) value[size_t(i)] = PerChannelGain(g.ops[size_t(i)]) / double(channels);
  std::stable_sort(ops.begin(), ops.end(), [&](const auto& a, const auto& b) { return value[size_t(a.first)] < value[size_t(b.first)]; });
  auto bytes_with_first = [&](size_t k) {  // file size when the first k candidates are per-tensor
    ExportOptions trial = eo;
    trial.int8_weights = Int8Weights::kPerChannel;
    trial.per_tensor_ops.clear();
    for (size_t j = 0; j < k; ++j) trial.per_tensor_ops.push_back(ops[j].first);
    return long(ExportTflite(g, trial, &cal).size());
  };
  // The size only shrinks as more ops go per-tensor: the fewest that fit, by bisection.
  size_t lo = 0, hi = ops.size();
  if (bytes_with_first(hi) > max_bytes) lo = hi;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (bytes_with_first(mid) <= max_bytes) hi = mid;
    else lo = mid + 1;
  }
  std::vector<int> out;
  for (size_t j = 0; j < lo; ++j) out.push_back(ops[j].first);
  return out;
}

ModelExportResult ExportModel(const ModelExportOptions& o) {
  o.Validate();
  if (o.write) CheckOutputPath(o.out, OutputKind::kFile, "--out");
  ModelExportResult r;
  r.checkpoint = ResolveCheckpointPath(o.model);
  Checkpoint ck = LoadCheckpoint(r.checkpoint);
  Model model = ModelFromCheckpoint(ck, r.checkpoint);
  ir::Graph g = GraphFromModel(model, o.softmax);
  r.graph_summary = g.Summary();
  r.labels = ck.labels;

  ExportOptions eo;
  eo.quant = o.quant;
  eo.int8_io = o.int8_io;
  const ExportConfigOptions recipe = RecipeExportSettings(ck, r.checkpoint);
  const Int8Weights weights = o.int8_weights.value_or(ParseInt8Weights(recipe.int8_weights));
  const long max_bytes = o.max_bytes.value_or(recipe.max_bytes);
  if (weights == Int8Weights::kFit && max_bytes <= 0 && o.quant == QuantMode::kInt8)
    throw UsageError("--int8-weights fit: needs --max-bytes (the int8 file's budget)");
  eo.int8_weights = weights == Int8Weights::kFit ? Int8Weights::kPerChannel : weights;
  eo.global_pool = o.global_pool;
  eo.description = "kws " KWS_VERSION;
  tfl::KwsMetadata md;
  md.labels = ck.labels;
  md.features = ck.features;
  md.extra = nlohmann::json{{"checkpoint_sha256", Sha256Hex(ReadFileLimited(r.checkpoint, Limits().model_bytes, "checkpoint"))}, {"softmax", o.softmax}};
  // The config's [detector] settings travel with the model (kws listen / stream-eval defaults).
  if (ck.config.is_object() && ck.config.contains("detector")) md.detector = ck.config["detector"];
  if (!o.detector_overrides.empty()) md.detector = DetectorSettingsWithOverrides(md.detector, o.detector_overrides);
  r.detector = md.detector;
  eo.metadata = md;
  // The micro front end: the int8 input IS its int8 output (no calibrated range, no float step).
  if (ck.features.is_micro()) eo.input_quant = AffineQuant{micro::kInputScale, micro::kInputZeroPoint};

  Calibration cal;
  if (o.quant == QuantMode::kInt8) {
    const int count = o.calibration_count.value_or(recipe.calibration_count);
    auto samples = o.calibration_dataset
                       ? LoadCalibrationFeatures(*o.calibration_dataset, ck.features, count, o.seed, g.NumElements(g.input))
                       : LoadCalibrationFeatures(o.calibration_data, ck.features, count, o.seed, g.NumElements(g.input));
    r.calibration_samples = int(samples.size());
    cal = Calibrate(g, samples);
    if (weights == Int8Weights::kFit) eo.per_tensor_ops = FitPerChannel(g, eo, cal, max_bytes);
    r.int8_weights = Int8WeightsSummary(g, weights, eo.per_tensor_ops);
  }
  std::string bytes = ExportTflite(g, eo, o.quant == QuantMode::kInt8 ? &cal : nullptr, &r.info);
  r.bytes = bytes.size();
  if (o.quant == QuantMode::kInt8 && weights == Int8Weights::kFit && long(r.bytes) > max_bytes)
    LogWarn("%s: %zu bytes with one weight scale per tensor everywhere, over the %ld-byte budget (export.max_bytes)",
            o.out.c_str(), r.bytes, max_bytes);
  r.zip_bytes = ZipSize(bytes, fs::path(o.out).stem().string() + ".tflite");
  // Self-check: the file must load in kws's own runtime (its exact arena size goes into the report).
  try {
    r.runtime_arena_bytes = rt::Interpreter::FromBuffer(o.out, bytes).arena_bytes();
  } catch (const Error& e) {
    throw InternalError(std::string("export: the exported model does not load in kws's runtime (a kws bug): ") + e.what());
  }
  r.out = o.out;
  if (o.format == "tflite") {
    r.content = std::move(bytes);
  } else {
    std::string name = o.c_name;
    if (name.empty()) {
      name = fs::path(o.out).stem().string();
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) name = "g_" + name;
    }
    std::string comment = "Model: " + r.checkpoint + " (" + QuantModeName(o.quant) + ", " + std::to_string(r.bytes) +
                          " bytes)\nLabels:";
    for (const auto& l : r.labels) comment += " " + l;
    comment += "\nOps:";
    for (const auto& op : r.info.ops_used) comment += " " + op;
    comment += "\nTFLite Micro tensor arena: start from " + std::to_string(r.info.arena_bytes_estimate) +
               " bytes (the activations, approximate) plus TFLite Micro's own bookkeeping (a few KB);"
               "\n  MicroInterpreter::arena_used_bytes() gives the exact need after AllocateTensors().";
    if (r.runtime_arena_bytes)
      comment += "\n(kws's own runtime lays activations out differently and uses " +
                 std::to_string(r.runtime_arena_bytes) + " bytes: not a TFLite Micro size.)";
    if (o.quant == QuantMode::kDynamic) comment += "\nNote: dynamic-range (hybrid) models do not run on TFLite Micro.";
    if (ck.features.is_micro()) {
      // The front end's settings as a C header beside the array (MicroFrontendHeader).
      r.frontend_header = (fs::path(o.out).parent_path() / (name + "_frontend.h")).string();
      r.frontend_header_content = MicroFrontendHeader(ck.features, name, r.checkpoint);
      comment += "\nFeatures: TFLite Micro's audio front end, settings in " + fs::path(r.frontend_header).filename().string();
    }
    r.content = ToCSource(bytes, name, comment);
  }
  if (o.write) {
    if (!r.frontend_header.empty()) AtomicWriteFile(r.frontend_header, r.frontend_header_content);
    AtomicWriteFile(o.out, r.content);
  }
  return r;
}

}  // namespace kws
