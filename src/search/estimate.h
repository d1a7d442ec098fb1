// A candidate's figures before training: its config built into an untrained model, pruned to the
// config's final sparsity, exported like `kws train` exports, and loaded by kws's runtime.
//
//   kws::search::Estimate e = kws::search::EstimateFigures(cfg, dataset, "int8");
//   e.figures.macs, e.figures.arena_bytes   // exact: they depend on the shapes, not on the weights' values
//   e.figures.tflite_bytes   // within a few bytes (quantization parameters and padding depend on values)
//   e.figures.zip_bytes      // an estimate (e.estimated): deflate depends on the trained values
//
// The dataset gives the classes (data.labels; data.unknown_subclasses adds one class per word
// folder, as training does) and one calibration clip for int8 (the calibration's values do not
// change any of these figures). With structured pruning (prune.structured) each conv keeps the
// filter count the schedule ends at, as training removes them; that and the figures that follow from
// it are marked estimated too (a graph model may keep filters its pruning cannot follow).
#pragma once
#include <set>
#include <string>

#include "data/dataset.h"
#include "model/config.h"
#include "search/budget.h"

namespace kws::search {

struct Estimate {
  Figures figures;
  std::set<std::string> estimated;  // figures that are not exact
};

// UsageError for configs that cannot be built (impossible shapes) or labels the data lacks.
Estimate EstimateFigures(const Config& cfg, const Dataset& data, const std::string& quant);

}  // namespace kws::search
