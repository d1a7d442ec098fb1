// DeployedModel: the one loader every command uses checks a model's kws metadata against its tensors
// and names the file in every refusal.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "export/synthetic.h"
#include "export/tflite_export.h"
#include "runtime/deployed_model.h"
#include "util/error.h"

namespace {

// A float seed-shaped model (input 97 x 20) with `classes` outputs and, unless `metadata` is false,
// kws metadata with these labels and feature settings.
std::string Model(int classes, const std::vector<std::string>& labels, const kws::FeatureOptions& f = {},
                  bool metadata = true) {
  kws::ir::SyntheticOptions so;
  so.classes = classes;
  kws::ExportOptions eo;
  if (metadata) {
    kws::tfl::KwsMetadata md;
    md.labels = labels;
    md.features = f;
    eo.metadata = md;
  }
  return kws::ExportTflite(kws::ir::MakeSyntheticGraph(so), eo);
}

std::string Refusal(const std::string& bytes, const kws::ModelOverrides& o = {}) {
  try {
    kws::DeployedModel::FromBuffer("m.tflite", bytes, o);
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput) << e.what();
    return e.what();
  }
  return "";
}

TEST(DeployedModel, LoadsShapesLabelsAndSoftmaxFromTheModel) {
  kws::DeployedModel m = kws::DeployedModel::FromBuffer("m.tflite", Model(3, {"a", "b", "c"}));
  EXPECT_EQ(m.path, "m.tflite");
  EXPECT_EQ(m.frames, 97);
  EXPECT_EQ(m.bins, 20);
  EXPECT_EQ(m.classes, 3);
  EXPECT_EQ(m.feature_values(), 97u * 20u);
  EXPECT_TRUE(m.softmax_in_model);
  EXPECT_EQ(m.meta.labels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(m.extractor().options().num_features(), 20);
}

TEST(DeployedModel, RefusesMetadataThatDoesNotFitTheTensors) {
  EXPECT_EQ(Refusal(Model(3, {"a", "b"})), "m.tflite: output has 3 values but the metadata lists 2 labels");
  kws::FeatureOptions shorter;
  shorter.clip_seconds = 0.5;
  EXPECT_NE(Refusal(Model(2, {"a", "b"}, shorter)).find("m.tflite: input has 97 frames but the metadata's feature"),
            std::string::npos);
  EXPECT_NE(Refusal(Model(2, {}, {}, false)).find("m.tflite: no kws metadata"), std::string::npos);
}

TEST(DeployedModel, OverridesStandInForMissingMetadata) {
  kws::DeployedModel m = kws::DeployedModel::FromBuffer("m.tflite", Model(2, {}, {}, false), {"tf.signal", {"x", "y"}});
  EXPECT_EQ(m.meta.labels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(m.frames, 97);
}

}  // namespace
