// Checkpoint round trip, determinism of the bytes, and corruption detection.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "model/checkpoint.h"
#include "model/config.h"
#include "train/optimizer.h"
#include "util/error.h"
#include "util/fs.h"

namespace kws {
namespace {

nlohmann::json TinyLayers() {
  return nlohmann::json::parse(R"([
    {"type":"conv2d","filters":3,"kernel":[3,3],"strides":[2,2],"padding":"same","use_bias":true},
    {"type":"batchnorm"}, {"type":"relu"}, {"type":"global_average_pool"}, {"type":"dense"},
    {"type":"softmax"}])");
}

Checkpoint MakeTiny(Model& m) {
  Rng rng(7);
  for (Param* p : m.Params())
    for (auto& v : p->value) v = float(rng.Normal());
  for (Param* p : m.Buffers())
    for (auto& v : p->value) v = float(rng.Uniform(0.5, 1.5));
  m.Params()[0]->mask.assign(m.Params()[0]->value.size(), 1);
  m.Params()[0]->mask[3] = 0;
  m.Params()[0]->value[3] = 0;
  Checkpoint c = CaptureModel(m);
  c.labels = {"yes", "no"};
  c.features.num_mel_bins = 8;
  c.config = {{"train", {{"epochs", 3}}}};
  c.state = {{"epoch", 2}};
  return c;
}

std::filesystem::path TempDir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("kws_ckpt_test_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

TEST(Checkpoint, RoundTripRestoresEverything) {
  Model m = Model::Build(TinyLayers(), {10, 8, 1}, 2, 3);
  Checkpoint c = MakeTiny(m);
  Optimizer opt(OptimizerOptions{});
  opt.Slots()["conv2d_1/kernel"]["m"] = {1.f, 2.f, 3.f};
  opt.set_steps(17);
  CaptureOptimizer(opt, c);

  const auto dir = TempDir("rt");
  const std::string path = (dir / "m.ckpt").string();
  SaveCheckpoint(path, c);
  Checkpoint d = LoadCheckpoint(path);
  EXPECT_EQ(d.labels, c.labels);
  EXPECT_EQ(d.features.num_mel_bins, 8);
  EXPECT_EQ(d.config, c.config);
  EXPECT_EQ(d.state["epoch"], 2);
  EXPECT_EQ(d.input, (Shape{10, 8, 1}));
  ASSERT_EQ(d.tensors.size(), c.tensors.size());
  // Same bytes when serialised again.
  EXPECT_EQ(SerializeCheckpoint(d), ReadFile(path));

  Model m2 = ModelFromCheckpoint(d);
  auto p1 = m.Params(), p2 = m2.Params();
  ASSERT_EQ(p1.size(), p2.size());
  for (size_t i = 0; i < p1.size(); ++i) {
    EXPECT_EQ(p1[i]->name, p2[i]->name);
    EXPECT_EQ(p1[i]->value, p2[i]->value);
    EXPECT_EQ(p1[i]->mask, p2[i]->mask);
  }
  EXPECT_EQ(m.Buffers()[0]->value, m2.Buffers()[0]->value);
  // Same predictions.
  std::vector<float> x(3 * 80), a(6), b(6);
  Rng rng(1);
  for (auto& v : x) v = float(rng.Normal());
  m.Predict(x.data(), 3, a.data());
  m2.Predict(x.data(), 3, b.data());
  EXPECT_EQ(a, b);

  Optimizer opt2(OptimizerOptions{});
  RestoreOptimizer(d, opt2);
  EXPECT_EQ(opt2.steps(), 17);
  EXPECT_EQ(opt2.Slots()["conv2d_1/kernel"]["m"], (std::vector<float>{1.f, 2.f, 3.f}));
  std::filesystem::remove_all(dir);
}

TEST(Checkpoint, CorruptionIsDetectedAndNamed) {
  Model m = Model::Build(TinyLayers(), {10, 8, 1}, 2, 3);
  Checkpoint c = MakeTiny(m);
  const std::string good = SerializeCheckpoint(c);
  const auto dir = TempDir("bad");

  auto expect = [&](const std::string& bytes, const std::string& needle) {
    const std::string path = (dir / "bad.ckpt").string();
    AtomicWriteFile(path, bytes);
    try {
      LoadCheckpoint(path);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  };
  // A flipped byte in the data, the header and the checksum itself.
  for (size_t pos : {good.size() - 40, size_t(30), good.size() - 1}) {
    std::string b = good;
    b[pos] ^= 0x10;
    expect(b, "checksum mismatch");
  }
  expect(good.substr(0, good.size() - 7), "checksum mismatch");  // truncated
  std::string magic = good;
  magic[0] = 'X';
  expect(magic, "bad magic");
  std::string ver = good;
  ver[8] = 9;
  expect(ver, "version 9 is not supported");
  expect("", "bad magic");
  std::filesystem::remove_all(dir);
}

TEST(Checkpoint, MissingTensorIsNamed) {
  Model m = Model::Build(TinyLayers(), {10, 8, 1}, 2, 3);
  Checkpoint c = MakeTiny(m);
  c.tensors.erase(c.tensors.begin());
  try {
    ModelFromCheckpoint(c, "x.ckpt");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.ckpt: tensor 'conv2d_1/kernel' missing"), std::string::npos) << e.what();
  }
}

// A header that lies, inside a valid envelope (magic, version, length, checksum): offsets and
// counts that overflow, sizes that are not integers. Each is refused by name, never read out of bounds.
std::string Envelope(const std::string& header, size_t data_floats) {
  std::string b(kCheckpointMagic, 8);
  auto put = [&](uint64_t v, int n) {
    for (int i = 0; i < n; ++i) b.push_back(char((v >> (8 * i)) & 0xFF));
  };
  put(kCheckpointVersion, 4);
  put(header.size(), 8);
  b += header;
  while (b.size() % 64) b.push_back('\0');
  b += std::string(data_floats * 4, '\0');
  const std::string hex = Sha256Hex(b);
  for (size_t i = 0; i < hex.size(); i += 2) b.push_back(char(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return b;
}

TEST(Checkpoint, LyingHeaderIsRefusedByName) {
  const std::string head = R"({"config":{},"labels":["a","b"],"features":{},"layers":[],)";
  struct Case {
    std::string rest, needle;
  };
  const Case cases[] = {
      {R"("input_shape":[97,20,1],"tensors":[{"name":"w","dims":[4],"offset":4611686018427387904,"count":4}]})",
       "tensor 'w' lies outside the file"},
      {R"("input_shape":[97,20,1],"tensors":[{"name":"w","dims":[4],"offset":0,"count":18446744073709551615}]})",
       "tensor 'w' lies outside the file"},
      {R"("input_shape":[97,20,1],"tensors":[{"name":"w","dims":[4],"offset":2,"count":3}]})",
       "tensor 'w' lies outside the file"},
      {R"("input_shape":[1e20,20,1],"tensors":[]})", "input_shape: not a list of sizes"},
      {R"("input_shape":[97,20,1],"tensors":[{"name":"w","dims":[-4],"offset":0,"count":1}]})",
       "tensor 'w' dims: not a list of sizes"},
      {R"("input_shape":[97,20,1],"tensors":[{"name":"w","dims":[4],"offset":-1,"count":1}]})",
       "tensor 'w' offset: not a count"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.rest);
    try {
      ParseCheckpoint(Envelope(head + c.rest, 4), "lie.ckpt");
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
      EXPECT_NE(std::string(e.what()).find("lie.ckpt: " + c.needle), std::string::npos) << e.what();
    }
  }
  // The same envelope with an honest tensor is read.
  const Checkpoint ok = ParseCheckpoint(
      Envelope(head + R"("input_shape":[97,20,1],"tensors":[{"name":"w","dims":[4],"offset":0,"count":4}]})", 4),
      "ok.ckpt");
  ASSERT_EQ(ok.tensors.size(), 1u);
  EXPECT_EQ(ok.tensors[0].data.size(), 4u);
}

}  // namespace
}  // namespace kws
