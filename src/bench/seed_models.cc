#include "bench/seed_models.h"

#include <filesystem>

#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "tflite/metadata.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws {

SeedModelPaths WriteSeedModels(const std::string& dir, const std::string& prefix, const SeedModelOptions& o) {
  ir::SyntheticOptions so;
  so.kind = "seed";
  so.classes = o.classes;
  so.sparsity = o.sparsity;
  so.seed = o.seed;
  ir::Graph g = ir::MakeSyntheticGraph(so);

  tfl::KwsMetadata md;
  md.labels = o.labels;
  if (md.labels.empty()) {
    if (o.classes == 2) md.labels = {"yes", "no"};
    else
      for (int i = 0; i < o.classes; ++i) md.labels.push_back("label" + std::to_string(i));
  }
  if (int(md.labels.size()) != o.classes) throw UsageError("seed models: labels must have `classes` entries");
  md.extra = {{"synthetic", true}, {"sparsity", o.sparsity}, {"seed", o.seed}};
  // Default features (the course recipe: README): 97 frames x 20 log-mel bins, matching the graph's input.
  if (md.features.num_frames(md.features.window_samples()) != so.height || md.features.num_features() != so.width)
    throw InternalError("seed models: default features do not match the synthetic graph input");

  std::filesystem::create_directories(dir);
  SeedModelPaths p;
  const std::string base = (std::filesystem::path(dir) / prefix).string();
  p.float_path = base + "_float.tflite";
  p.dynamic_path = base + "_dynamic.tflite";
  p.int8_path = base + "_int8.tflite";

  ExportOptions e;
  e.metadata = md;
  e.quant = QuantMode::kFloat;
  AtomicWriteFile(p.float_path, ExportTflite(g, e));
  e.quant = QuantMode::kDynamic;
  AtomicWriteFile(p.dynamic_path, ExportTflite(g, e));
  e.quant = QuantMode::kInt8;
  Calibration cal = Calibrate(g, ir::SyntheticInputs(g, 64, o.seed + 1));
  AtomicWriteFile(p.int8_path, ExportTflite(g, e, &cal));
  return p;
}

}  // namespace kws
