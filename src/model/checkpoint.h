// Checkpoints: a trained model plus everything needed to use it (labels,
// feature settings, config) or to continue training it (optimizer state,
// trainer state).
//
// File layout (version 1, little-endian):
//   "KWSCKPT\0"             8 bytes magic
//   uint32 version          = 1
//   uint64 header_bytes     length of the JSON header
//   header                  UTF-8 JSON: {"config": <resolved settings>, "labels": [...],
//                           "features": {...}, "input_shape": [h,w,c], "layers": [...],
//                           "state": {...trainer state...},
//                           "tensors": [{"name","dims","offset","count"}...]}
//   zero padding to a multiple of 64 bytes (from the file start)
//   float32 data            every tensor, at header offset (in floats from the data start)
//   32 bytes                SHA-256 of every byte before it
// Tensor names: parameters and buffers by their Param name ("conv2d_1/kernel"),
// masks as "<param>:mask" (0/1 floats), optimizer slots as "optimizer/<param>/<slot>".
//
//   kws::Checkpoint c = kws::CaptureModel(model);  c.labels = ...;  kws::SaveCheckpoint("m.ckpt", c);
//   kws::Checkpoint c = kws::LoadCheckpoint("m.ckpt");  kws::Model m = kws::ModelFromCheckpoint(c);
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "features/features.h"
#include "model/model.h"

namespace kws {

inline constexpr char kCheckpointMagic[8] = {'K', 'W', 'S', 'C', 'K', 'P', 'T', '\0'};
inline constexpr uint32_t kCheckpointVersion = 1;

struct NamedTensor {
  std::string name;
  std::vector<int> dims;
  std::vector<float> data;
};


struct Checkpoint {
  nlohmann::json config = nlohmann::json::object();  // Config::table (resolved settings)
  std::vector<std::string> labels;
  // The head's classes when they refine the labels (data.unknown_subclasses): the labels, then
  // "_unknown_/<word>" classes merged into _unknown_ (OutputMapOf). Empty = the labels are the classes.
  std::vector<std::string> classes;
  FeatureOptions features;
  Shape input;
  nlohmann::json layers = nlohmann::json::array();   // Model::LayersConfig()
  nlohmann::json state = nlohmann::json::object();   // trainer state (epoch, step, history, ...)
  std::vector<NamedTensor> tensors;

  const NamedTensor* Find(const std::string& name) const;
};

// The output label of each class: k for the labels, _unknown_'s index for the word classes after them.
// Empty when `classes` is. BadInput/InternalError-free: throws UsageError if the classes do not start
// with the labels or there is no _unknown_ label.
std::vector<int> OutputMapOf(const std::vector<std::string>& labels, const std::vector<std::string>& classes);

// Weights, buffers and masks of a model (config/labels/features left for the caller).
Checkpoint CaptureModel(Model& model);
// Builds the model the checkpoint describes and loads its weights, buffers and masks.
// Throws BadInput("<what>: ...") for missing or mis-shaped tensors.
Model ModelFromCheckpoint(const Checkpoint& c, const std::string& what = "checkpoint");

// Serialized bytes (deterministic: same checkpoint -> same bytes).
std::string SerializeCheckpoint(const Checkpoint& c);
// Parses bytes; `what` names the file in errors ("run/model.ckpt: checksum mismatch (file corrupted)").
Checkpoint ParseCheckpoint(const std::string& bytes, const std::string& what);
// Atomic write (temp + rename) / read.
void SaveCheckpoint(const std::string& path, const Checkpoint& c);
Checkpoint LoadCheckpoint(const std::string& path);

}  // namespace kws
