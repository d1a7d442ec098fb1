#include "runtime/deployed_model.h"

#include <cmath>
#include <cstring>

#include "features/micro/frontend.h"
#include "util/bounded_read.h"
#include "util/error.h"

namespace kws {
namespace {

std::string ShapeText(const rt::TensorInfo& t) {
  std::string s = "[";
  for (size_t i = 0; i < t.shape.size(); ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + "]";
}

// Features for a model without metadata: the front end named on the command line, with as many frames
// as the input holds.
FeatureOptions FeaturesForInput(const rt::TensorInfo& in, const std::string& name, const std::string& frontend) {
  FeatureOptions f;
  if (frontend == "micro") f.frontend = "micro";
  else if (frontend != "tf.signal")
    throw UsageError("--frontend must be micro or tf.signal (got '" + frontend + "')");
  const int bins = f.num_features();
  if (in.elements() <= 0 || in.elements() % bins != 0)
    throw BadInput(name + ": input " + ShapeText(in) + " does not fit the " + frontend + " front end's " +
                   std::to_string(bins) + " values per frame");
  const int64_t frames = in.elements() / bins;
  // clip_seconds covering exactly `frames` frames: (frames - 1) steps plus one window.
  const int64_t samples = (frames - 1) * f.frame_step() + f.frame_length();
  f.clip_seconds = double(samples) / f.sample_rate;
  if (f.num_frames(f.window_samples()) != frames)
    throw InternalError(name + ": clip length for " + std::to_string(frames) + " frames is off");
  f.Validate();
  return f;
}

}  // namespace

tfl::KwsMetadata ModelMetadata(const rt::Interpreter& it, const std::string& name, const ModelOverrides& o) {
  if (it.num_inputs() < 1 || it.num_outputs() < 1) throw BadInput(name + ": expected an input and an output tensor");
  const std::string raw = it.metadata(tfl::kKwsMetadataName);
  tfl::KwsMetadata md;
  if (!raw.empty()) {
    md = tfl::KwsMetadataFromJson(raw, name);
    if (!o.frontend.empty() && o.frontend != md.features.frontend)
      throw UsageError("--frontend " + o.frontend + ": " + name + " was trained on the " + md.features.frontend +
                       " front end (its kws metadata says so); leave --frontend out");
    if (!o.labels.empty()) {
      if (o.labels.size() != md.labels.size())
        throw UsageError("--labels gives " + std::to_string(o.labels.size()) + " labels, " + name + " has " +
                         std::to_string(md.labels.size()));
      md.labels = o.labels;
    }
    return md;
  }
  if (o.frontend.empty() || o.labels.empty())
    throw UsageError(name + ": model has no kws metadata; say which front end and labels it takes, e.g. "
                     "--frontend micro --labels silence,unknown,yes,no");
  md.features = FeaturesForInput(it.input(0), name, o.frontend);
  md.labels = o.labels;
  md.input = md.features.is_micro() ? "micro" : "log-mel";
  const int64_t outputs = it.output(0).elements();
  if (outputs != int64_t(md.labels.size()))
    throw UsageError("--labels gives " + std::to_string(md.labels.size()) + " labels but " + name + "'s output " +
                     ShapeText(it.output(0)) + " has " + std::to_string(outputs) + " values");
  return md;
}

bool FeedsRawInt8(const rt::Interpreter& it, const FeatureOptions& f) {
  const rt::DType t = it.input(0).type;
  return f.is_micro() && (t == rt::DType::kInt8 || t == rt::DType::kUInt8);
}

void RunModel(rt::Interpreter& it, const FeatureOptions& f, const float* features, float* out) {
  if (!FeedsRawInt8(it, f)) {
    it.RunFloat(features, out);
    return;
  }
  const rt::TensorInfo in = it.input(0);
  const bool u8 = in.type == rt::DType::kUInt8;
  void* dst = it.input_data(0);
  for (int64_t i = 0; i < in.elements(); ++i) {
    // features[i] = (q + 128) * kInputScale exactly, so the division gives the integer back.
    const int q = int(std::lround(features[i] / micro::kInputScale)) + micro::kInputZeroPoint;
    if (u8) static_cast<uint8_t*>(dst)[i] = uint8_t(q + 128);
    else static_cast<int8_t*>(dst)[i] = int8_t(q);
  }
  it.Invoke();
  const rt::TensorInfo y = it.output(0);
  const float scale = y.scale > 0 ? y.scale : 1.0f;  // an int8 output without parameters: the raw values
  const void* src = it.output_data(0);
  for (int64_t i = 0; i < y.elements(); ++i) {
    switch (y.type) {
      case rt::DType::kFloat32: out[i] = static_cast<const float*>(src)[i]; break;
      case rt::DType::kInt8: out[i] = (float(static_cast<const int8_t*>(src)[i]) - float(y.zero_point)) * scale; break;
      case rt::DType::kUInt8: out[i] = (float(static_cast<const uint8_t*>(src)[i]) - float(y.zero_point)) * scale; break;
      default: throw BadInput(it.output(0).name + ": output 0 is int32 (needs float32, int8 or uint8)");
    }
  }
}

namespace {

// The checks every command relies on: metadata present (or overridden) and valid, one input of
// frames x bins features, one output score per label.
void CheckAgainstMetadata(DeployedModel& m, const ModelOverrides& o) {
  const std::string& name = m.path;
  if (!m.interpreter.has_metadata(tfl::kKwsMetadataName) && o.frontend.empty() && o.labels.empty())
    throw BadInput(name + ": no kws metadata (labels and feature settings); export the model with 'kws export' "
                          "(infer and listen also run a model without it given --frontend and --labels)");
  m.meta = ModelMetadata(m.interpreter, name, o);  // feature settings validated (KwsMetadataFromJson, FeaturesForInput)
  if (m.meta.labels.empty()) throw BadInput(name + ": kws metadata has no labels");
  if (m.interpreter.num_inputs() != 1 || m.interpreter.num_outputs() < 1)
    throw BadInput(name + ": expected one input tensor and at least one output");
  const rt::TensorInfo in = m.interpreter.input(0), out = m.interpreter.output(0);
  m.bins = m.meta.features.num_features();
  const int expect_frames = m.meta.features.num_frames(m.meta.features.window_samples());
  if (in.elements() % m.bins != 0)
    throw BadInput(name + ": input has " + std::to_string(in.elements()) + " values, not a multiple of " +
                   std::to_string(m.bins) + " features");
  m.frames = int(in.elements() / m.bins);
  if (m.frames != expect_frames)
    throw BadInput(name + ": input has " + std::to_string(m.frames) + " frames but the metadata's feature settings give " +
                   std::to_string(expect_frames));
  m.classes = int(out.elements());
  if (m.classes != int(m.meta.labels.size()))
    throw BadInput(name + ": output has " + std::to_string(m.classes) + " values but the metadata lists " +
                   std::to_string(m.meta.labels.size()) + " labels");
  for (const auto& op : m.interpreter.ops())
    if (op.op == "SOFTMAX") m.softmax_in_model = true;
}

}  // namespace

DeployedModel DeployedModel::Load(const std::string& path, const ModelOverrides& overrides) {
  return FromBuffer(path, ReadTfliteFile(path), overrides);
}

DeployedModel DeployedModel::FromBuffer(const std::string& name, std::string_view bytes, const ModelOverrides& overrides) {
  DeployedModel m{name, rt::Interpreter::FromBuffer(name, bytes)};
  CheckAgainstMetadata(m, overrides);
  return m;
}

FeatureExtractor& DeployedModel::extractor() {
  if (!extractor_) extractor_ = std::make_unique<FeatureExtractor>(meta.features);
  return *extractor_;
}

}  // namespace kws
