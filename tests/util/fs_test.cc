#include "util/fs.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "util/error.h"
#include "util/parallel.h"
#include "util/rng.h"

namespace fs = std::filesystem;

TEST(AtomicWrite, WritesAndLeavesNoTemporary) {
  fs::path dir = fs::temp_directory_path() / "kws_fs_test";
  fs::remove_all(dir);
  kws::AtomicWriteFile(dir / "sub" / "a.txt", "hello");
  EXPECT_EQ(kws::ReadFile(dir / "sub" / "a.txt"), "hello");
  int files = 0;
  for (auto& e : fs::directory_iterator(dir / "sub")) { (void)e; ++files; }
  EXPECT_EQ(files, 1);
}

TEST(AtomicWrite, FailureKeepsOldContentAndRemovesTemporary) {
  fs::path dir = fs::temp_directory_path() / "kws_fs_test2";
  fs::remove_all(dir);
  kws::AtomicWriteFile(dir / "a.txt", "old");
  EXPECT_THROW(kws::AtomicWriteStream(dir / "a.txt", [](std::ostream& o) {
    o << "half";
    throw std::runtime_error("boom");
  }), std::runtime_error);
  EXPECT_EQ(kws::ReadFile(dir / "a.txt"), "old");
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) { (void)e; ++files; }
  EXPECT_EQ(files, 1);
}

TEST(ReadFile, MissingFileNamesThePath) {
  try {
    kws::ReadFile("/nonexistent/kws.wav");
    FAIL() << "expected an error";
  } catch (const kws::Error& e) {
    EXPECT_EQ(e.kind(), kws::ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/kws.wav"), std::string::npos);
  }
}

TEST(Sha1, KnownVector) {
  EXPECT_EQ(kws::Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Rng, DeterministicAndInRange) {
  kws::Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    double x = a.Uniform();
    EXPECT_EQ(x, b.Uniform());
    EXPECT_GE(x, 0.0);
    EXPECT_LT(x, 1.0);
    differs |= (x != c.Uniform());
  }
  EXPECT_TRUE(differs);
}

TEST(ParallelFor, CoversRangeOnceAndRethrows) {
  kws::SetNumThreads(2);
  std::vector<int> hits(1001, 0);
  kws::ParallelFor(1001, [&](long b, long e, int) { for (long i = b; i < e; ++i) hits[i]++; });
  for (int h : hits) EXPECT_EQ(h, 1);
  EXPECT_THROW(kws::ParallelFor(10, [](long b, long, int) { if (b > 0) throw kws::BadInput("x"); }), kws::Error);
  kws::SetNumThreads(0);
}

TEST(ParallelFor, ManyShortLoopsVaryingThreadsNestedAndSums) {
  // Thousands of back-to-back loops (as a training step issues) with changing
  // thread counts, nesting and exceptions: every index exactly once, no hang.
  for (int threads : {2, 3, 1, 4, 2}) {
    kws::SetNumThreads(threads);
    for (int rep = 0; rep < 2000; ++rep) {
      long n = 1 + rep % 37;
      std::vector<int> hits(n, 0);
      kws::ParallelFor(n, [&](long b, long e, int) {
        for (long i = b; i < e; ++i) hits[i]++;
        // A nested loop runs serially in the calling chunk.
        kws::ParallelFor(3, [&](long, long, int) {});
      });
      for (int h : hits) ASSERT_EQ(h, 1) << "threads " << threads << " rep " << rep;
    }
    // The last chunk throws (with one thread that is the only chunk).
    EXPECT_THROW(kws::ParallelFor(8, [threads](long, long, int c) {
                   if (c == threads - 1) throw kws::BadInput("x");
                 }),
                 kws::Error);
  }
  // Chunk boundaries depend only on n and the thread count.
  kws::SetNumThreads(3);
  std::vector<std::pair<long, long>> ranges(3);
  kws::ParallelFor(10, [&](long b, long e, int c) { ranges[c] = {b, e}; });
  EXPECT_EQ(ranges[0], std::make_pair(0L, 3L));
  EXPECT_EQ(ranges[1], std::make_pair(3L, 6L));
  EXPECT_EQ(ranges[2], std::make_pair(6L, 10L));
  kws::SetNumThreads(0);
}

// What a killed kws left (name ".tmp.<pid>" of a process that is gone) is removed by a later run;
// a running process's temporaries, other names and other prefixes are kept.
TEST(StaleTemporaries, OnlyThoseOfDeadProcessesWithThePrefixGo) {
  const fs::path dir = fs::temp_directory_path() / ("kws_stale_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);  // reaped: its pid runs nothing now
  const std::string dead = std::to_string(child), alive = std::to_string(::getpid());
  kws::AtomicWriteFile(dir / ("kws-synth-0.tmp." + dead) / "a.wav", "x");
  kws::AtomicWriteFile(dir / ("kws-synth-1.tmp." + alive) / "a.wav", "x");
  kws::AtomicWriteFile(dir / ("other.tmp." + dead), "x");
  kws::AtomicWriteFile(dir / "kws-synth-notes.txt", "x");
  EXPECT_EQ(kws::TemporaryOwner("x.kwsfeat.tmp." + dead), int(child));
  EXPECT_EQ(kws::TemporaryOwner("x.kwsfeat"), 0);
  EXPECT_EQ(kws::TemporaryOwner("x.tmp.12a"), 0);
  EXPECT_EQ(kws::RemoveStaleTemporaries(dir, "kws-synth-"), 1);
  EXPECT_FALSE(fs::exists(dir / ("kws-synth-0.tmp." + dead)));
  EXPECT_TRUE(fs::exists(dir / ("kws-synth-1.tmp." + alive)));
  EXPECT_TRUE(fs::exists(dir / ("other.tmp." + dead)));
  EXPECT_TRUE(fs::exists(dir / "kws-synth-notes.txt"));
  EXPECT_EQ(kws::RemoveStaleTemporaries(dir), 1);  // no prefix: the other one too
  EXPECT_FALSE(fs::exists(dir / ("other.tmp." + dead)));
  fs::remove_all(dir);
}

// --out problems are found before any work, with the flag, the path and the OS reason.
TEST(CheckOutputPath, NamesTheProblemAndLeavesNothing) {
  const fs::path dir = fs::temp_directory_path() / ("kws_outcheck_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "adir");
  kws::AtomicWriteFile(dir / "afile", "x");
  auto message = [](const fs::path& p, kws::OutputKind k, kws::ErrorKind want) {
    try {
      kws::CheckOutputPath(p, k, "--out");
    } catch (const kws::Error& e) {
      EXPECT_EQ(e.kind(), want) << e.what();
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(dir / "adir", kws::OutputKind::kFile, kws::ErrorKind::kUsage).find("is a directory; give a file name"),
            std::string::npos);
  EXPECT_NE(message(dir / "afile", kws::OutputKind::kFolder, kws::ErrorKind::kUsage).find("exists and is not a folder"),
            std::string::npos);
  EXPECT_NE(message(dir / "afile" / "x", kws::OutputKind::kFolder, kws::ErrorKind::kBadInput).find("is not a folder"),
            std::string::npos);
  EXPECT_NE(message("/sys/kws_x/y", kws::OutputKind::kFolder, kws::ErrorKind::kBadInput).find("cannot write in /sys ("),
            std::string::npos);
  kws::CheckOutputPath(dir / "new" / "deeper" / "m.tflite", kws::OutputKind::kFile, "--out");  // fine
  kws::CheckOutputPath(dir / "afile", kws::OutputKind::kFile, "--out");                        // replaced: fine
  EXPECT_FALSE(fs::exists(dir / "new"));
  int entries = 0;
  for (auto& e : fs::directory_iterator(dir)) { (void)e; ++entries; }
  EXPECT_EQ(entries, 2);  // adir, afile: no probe left
  fs::remove_all(dir);
}
