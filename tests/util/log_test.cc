// Progress in plain mode (stderr not a terminal, as under ctest): one line when the work ends (a
// line per tenth only on phases longer than 30 s), and Done() does not repeat the last line.
#include "util/log.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <sstream>
#include <string>

namespace {

int Count(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  int n = 0;
  for (std::string l; std::getline(in, l);) n += l.rfind(line, 0) == 0;
  return n;
}

class PlainProgress : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* ci = std::getenv("CI")) ci_ = ci;
    unsetenv("CI");  // CI=... silences progress; these tests need it on
    ASSERT_FALSE(kws::StderrIsTerminal());
  }
  void TearDown() override {
    if (ci_) setenv("CI", ci_->c_str(), 1);
  }
  std::optional<std::string> ci_;
};

TEST_F(PlainProgress, AShortPhaseIsOneLine) {
  testing::internal::CaptureStderr();
  {
    kws::Progress p("work", 20);
    for (int i = 0; i < 20; ++i) p.Tick();
    p.Done();
  }
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(Count(out, "work: "), 1) << out;
  EXPECT_EQ(Count(out, "work: 20/20 (100%)"), 1) << out;
}

TEST_F(PlainProgress, DoneShowsTheFinalCountOnce) {
  testing::internal::CaptureStderr();
  {
    kws::Progress p("part", 10);
    p.Set(7);
    p.Done();  // same state as the line Set printed: not repeated
    p.Done();
  }
  std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(Count(out, "part: 7/10 (70%)"), 1) << out;
  EXPECT_EQ(Count(out, "part: "), 1) << out;

  testing::internal::CaptureStderr();
  {
    kws::Progress p("st", 10);
    p.Set(10);
    p.Status("loss 0.1");
    p.Done();  // the status changed: one more line
  }
  out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(Count(out, "st: 10/10 (100%)"), 1) << out;  // the last state only
  EXPECT_EQ(Count(out, "st: 10/10 (100%) 0s loss 0.1"), 1) << out;
}

}  // namespace
