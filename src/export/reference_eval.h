// A plain float evaluator for the export IR (TFLite semantics: SAME padding split floor/ceil,
// average pooling divides by the number of valid (non-padding) taps, softmax over the last axis).
// Used for int8 calibration and as the "truth" in exporter and loader tests. Accumulates in double.
#pragma once
#include <vector>

#include "export/graph.h"

namespace kws::ir {

// Every value of the graph (values[v] holds value v flattened, NHWC); values[0] is a copy of the input.
std::vector<std::vector<float>> EvaluateAll(const Graph& g, const float* input);

// Just the output value.
std::vector<float> Evaluate(const Graph& g, const float* input);

}  // namespace kws::ir
