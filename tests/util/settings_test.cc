// util/settings.h: one table per options struct drives defaults, reading, checks and docs (hand-made struct).
#include "util/settings.h"

#include <gtest/gtest.h>

#include <limits>

#include "util/error.h"

namespace {

using nlohmann::json;
namespace s = kws::settings;

struct Inner {
  double lo = 1, hi = 2;
};
struct Opts {
  int count = 3;
  std::string mode = "a";
  uint64_t seed = 7;
  long steps = 0;  // 0 = "auto"
  std::vector<std::string> names;
  Inner range;
};

std::vector<s::Setting<Opts>> Table() {
  std::vector<s::Setting<Opts>> t = {
      s::Member("count", &Opts::count, "how many", s::AtLeast(1)),
      s::Member("mode", &Opts::mode, "a mode", s::OneOf({"a", "b", "c"})),
      s::Member("seed", &Opts::seed, "seed"),
      s::Member("names", &Opts::names, "names"),
  };
  auto steps = s::Custom<Opts>(
      "steps", "steps or auto", [](const Opts& o) { return o.steps == 0 ? json("auto") : json(o.steps); },
      [](Opts& o, const json& j, const std::string&) { o.steps = j.is_string() ? 0 : j.get<long>(); });
  steps.keyword = "auto";
  t.push_back(steps);
  std::vector<s::Setting<Inner>> inner = {
      s::Member("lo", &Inner::lo, "low", s::InRange(0, 10)),
      s::Member("hi", &Inner::hi, "high").Also([](const Inner& i, const std::string& p) {
        s::CheckRange(p, i.hi, i.lo, 10);
      }),
  };
  for (auto& x : s::Nested("range", &Opts::range, inner)) t.push_back(x);
  return t;
}

std::string Message(const std::function<void()>& f) {
  try {
    f();
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kUsage);
    return e.what();
  }
  return "(no error)";
}

TEST(Settings, DefaultsAreTheStructsValuesAsNestedTables) {
  const json d = s::ToJson(Table(), Opts{});
  EXPECT_EQ(d, json::parse(R"({"count": 3, "mode": "a", "seed": 7, "names": [], "steps": "auto",
                               "range": {"lo": 1.0, "hi": 2.0}})"));
  EXPECT_TRUE(d["count"].is_number_integer());
  EXPECT_TRUE(d["range"]["lo"].is_number_float());
  EXPECT_EQ(s::KeywordOf(Table(), "steps"), "auto");
  EXPECT_EQ(s::KeywordOf(Table(), "count"), "");
}

TEST(Settings, ReadsEverySettingBackFromATable) {
  json j = s::ToJson(Table(), Opts{});
  j["count"] = 5;
  j["mode"] = "c";
  j["names"] = {"x", "y"};
  j["steps"] = 40;
  j["range"]["hi"] = 4.5;
  const Opts o = s::Read(Table(), j, "opts");
  EXPECT_EQ(o.count, 5);
  EXPECT_EQ(o.mode, "c");
  EXPECT_EQ(o.names, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(o.steps, 40);
  EXPECT_EQ(o.range.hi, 4.5);
  EXPECT_EQ(s::ToJson(Table(), o), j);
}

TEST(Settings, ReadingRejectsWhatTheMemberCannotHold) {
  json j = s::ToJson(Table(), Opts{});
  j["seed"] = -1;
  EXPECT_EQ(Message([&] { s::Read(Table(), j, "opts"); }), "opts.seed: must be >= 0 (got -1)");
  j["seed"] = 1;
  j["names"] = {"x", 3};
  EXPECT_EQ(Message([&] { s::Read(Table(), j, "opts"); }), "opts.names: must be an array of strings");
}

TEST(Settings, ChecksNameTheFullKeyInTableOrder) {
  Opts o;
  EXPECT_EQ(Message([&] { s::Validate(Table(), o, "opts"); }), "(no error)");
  o.count = 0;
  o.mode = "z";
  EXPECT_EQ(Message([&] { s::Validate(Table(), o, "opts"); }), "opts.count: must be >= 1 (got 0)");
  o.count = 1;
  EXPECT_EQ(Message([&] { s::Validate(Table(), o, "opts"); }), "opts.mode: must be \"a\", \"b\" or \"c\" (got \"z\")");
  o.mode = "b";
  o.range.lo = 3;  // hi = 2 < lo
  EXPECT_EQ(Message([&] { s::Validate(Table(), o, "opts"); }), "opts.range.hi: must be in [3, 10] (got 2)");
  o.range.lo = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Message([&] { s::Validate(Table(), o, "opts"); }), "opts.range.lo: must be a finite number (got inf)");
}

TEST(Settings, DocsListEveryKeyWithItsDefaultAndHelp) {
  const auto docs = s::Docs(Table(), "opts");
  ASSERT_EQ(docs.size(), 7u);
  EXPECT_EQ(docs[0].key, "opts.count");
  EXPECT_EQ(docs[0].default_value, "3");
  EXPECT_EQ(docs[0].help, "how many");
  EXPECT_EQ(docs[3].default_value, "[]");
  EXPECT_EQ(docs[4].default_value, "\"auto\"");
  EXPECT_EQ(docs[6].key, "opts.range.hi");
}

}  // namespace
