// Replays the committed fuzz corpus (fuzz/corpus/model/*) through the loader
// in the normal build, so CI exercises it without clang/libFuzzer: every file
// must either load and run or be rejected with kws::Error (BadInput).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "runtime/interpreter.h"
#include "util/error.h"
#include "util/fs.h"

namespace fs = std::filesystem;

TEST(FuzzCorpus, EveryFileLoadsOrIsRejectedCleanly) {
  const fs::path dir = fs::path(KWS_SOURCE_DIR) / "fuzz/corpus/model";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " missing";
  int loaded = 0, rejected = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string bytes = kws::ReadFile(e.path());
    try {
      auto it = kws::rt::Interpreter::FromBuffer(e.path().filename().string(), bytes);
      for (int i = 0; i < it.num_inputs(); ++i) std::memset(it.input_data(i), 0, it.input(i).bytes);
      it.Invoke();
      ++loaded;
    } catch (const kws::Error& err) {
      EXPECT_EQ(err.kind(), kws::ErrorKind::kBadInput) << e.path() << ": " << err.what();
      ++rejected;
    }
  }
  EXPECT_GT(loaded + rejected, 0);
  EXPECT_GT(loaded, 0) << "the corpus should contain valid seed models";
  EXPECT_GT(rejected, 0) << "the corpus should contain broken files";
}

#include "support/synthetic_model.h"

// Regenerates the committed corpus (run with --gtest_also_run_disabled_tests
// --gtest_filter=FuzzCorpus.DISABLED_Regenerate): small valid models of every
// kind plus a few broken files; libFuzzer's own findings can be added beside them.
TEST(FuzzCorpus, DISABLED_Regenerate) {
  using kws::rt::SyntheticModelOptions;
  using Kind = SyntheticModelOptions::Kind;
  const fs::path dir = fs::path(KWS_SOURCE_DIR) / "fuzz/corpus/model";
  fs::create_directories(dir);
  struct Case {
    const char* name;
    Kind kind;
    bool pools, dw, keep, float_io;
  };
  for (const Case& c : {Case{"float", Kind::kFloat, false, false, false, false},
                        Case{"float_pools_dw", Kind::kFloat, true, true, true, false},
                        Case{"int8", Kind::kInt8, false, false, false, false},
                        Case{"int8_pools_dw_floatio", Kind::kInt8, true, true, true, true},
                        Case{"hybrid", Kind::kHybrid, false, false, false, false}}) {
    SyntheticModelOptions o;
    o.kind = c.kind;
    o.frames = 8;
    o.bins = 8;
    o.filters = c.kind == Kind::kHybrid ? 12 : 4;  // hybrid: 12·9·12 ≥ 1024 weights get quantized
    o.classes = 3;
    o.pools = c.pools;
    o.depthwise = c.dw;
    o.keep_dims_mean = c.keep;
    o.float_io = c.float_io;
    const std::string m = kws::rt::MakeSyntheticModel(o);
    kws::AtomicWriteFile(dir / (std::string(c.name) + ".tflite"), m);
    if (c.kind == Kind::kInt8 && !c.float_io) {
      kws::AtomicWriteFile(dir / "broken_truncated.tflite", m.substr(0, m.size() * 2 / 3));
      std::string bad = m;
      bad[4] = 'X';
      kws::AtomicWriteFile(dir / "broken_identifier.tflite", bad);
      bad = m;
      for (size_t i = 64; i < bad.size(); i += 97) bad[i] = char(bad[i] ^ 0x5a);
      kws::AtomicWriteFile(dir / "broken_bitflips.tflite", bad);
    }
  }
}
