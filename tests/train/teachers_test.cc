// Teachers with a front end of their own (train.teacher.checkpoint, train.teacher.config): their
// targets come from the same audio through their features, row for row.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "model/checkpoint.h"
#include "model/config.h"
#include "model/model.h"
#include "train/teachers.h"
#include "train/trainer.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/parallel.h"
#include "train_test_util.h"

namespace kws {
namespace {

namespace fsys = std::filesystem;
using train_test::AudioSet;
using train_test::kTiny;
using train_test::MakeAudio;

// Half the clips train, half validate, both labels in each (tones alternate low, high).
TrainData Split(const FeatureSet& fs) {
  TrainData d;
  d.features = &fs;
  for (int i = 0; i < fs.n; ++i) (i % 4 >= 2 ? d.val : d.train).push_back(i);
  return d;
}

fsys::path TempDir(const std::string& name) {
  auto p = fsys::temp_directory_path() / ("kws_teachers_test_" + name + "_" + std::to_string(getpid()));
  fsys::remove_all(p);
  fsys::create_directories(p);
  return p;
}

// The student's features (8 mel bins) and the teachers' (12 mel bins, other frames).
const std::vector<std::string> kStudent = {"features.sample_rate=8000", "features.num_mel_bins=8",
                                           "features.upper_hz=3900",    "features.frame_step_s=0.05",
                                           "features.frame_length_s=0.064", "prune.enabled=false"};
const std::vector<std::string> kTeacher = {"features.sample_rate=8000", "features.num_mel_bins=12",
                                           "features.upper_hz=3800",    "features.frame_step_s=0.04",
                                           "features.frame_length_s=0.064", "prune.enabled=false",
                                           "train.epochs=12"};

std::vector<std::string> With(std::vector<std::string> v, const std::vector<std::string>& more) {
  v.insert(v.end(), more.begin(), more.end());
  return v;
}

// A teacher trained on tones with its own features; `liar` trains it on swapped labels, so it
// predicts the opposite of the truth. Saved as dir/name.ckpt.
std::string TrainTeacher(const fsys::path& dir, const std::string& name, bool liar) {
  const Config cfg = ParseConfig(kTiny, "teacher.toml", kTeacher);
  AudioSet a = MakeAudio(cfg, 48);
  if (liar)
    for (int& y : a.features.labels) y = 1 - y;
  TrainResult r = Train(cfg, Split(a.features), TrainerOptions{.progress = false});
  EXPECT_GT(r.best_val_accuracy, 0.95);
  const std::string path = (dir / (name + ".ckpt")).string();
  SaveCheckpoint(path, r.best);
  return path;
}

// Accuracy on the true labels of a student trained only towards a teacher (distill_weight 1).
double StudentAccuracy(const std::string& teacher, const std::vector<std::string>& sets) {
  const Config cfg = ParseConfig(
      kTiny, "student.toml",
      With(With(kStudent, sets), {"train.teacher.checkpoint=" + teacher, "train.distill_weight=1", "train.epochs=20"}));
  AudioSet a = MakeAudio(cfg, 48);
  TrainData d = Split(a.features);
  d.windows = &a.windows;
  d.noise = &a.noise;
  TrainResult r = Train(cfg, d, TrainerOptions{.progress = false});
  return r.history.back().val_accuracy;  // the kept model is the best on the labels: look at the last
}

// The student learns what the teacher says, not the labels: from an honest teacher it is right, from
// one that swaps the classes it is wrong: with fresh augmentation (time shifts: the teachers were
// trained on clean tones), precomputed copies, and none.
// (Targets of other rows than the student's would give chance.)
TEST(Teachers, OwnFrontEndTargetsFollowTheAudio) {
  auto dir = TempDir("front_end");
  const std::string honest = TrainTeacher(dir, "honest", false), liar = TrainTeacher(dir, "liar", true);
  for (const std::vector<std::string>& mode :
       {std::vector<std::string>{"train.augment.enabled=true", "train.augment.background_prob=0", "train.augment.shift_ms=20", "train.augment.copies=0"},
        std::vector<std::string>{"train.augment.enabled=true", "train.augment.background_prob=0", "train.augment.shift_ms=20", "train.augment.copies=2"},
        std::vector<std::string>{"train.augment.enabled=false"}}) {
    EXPECT_GT(StudentAccuracy(honest, mode), 0.9) << mode[0] << " " << mode.back();
    EXPECT_LT(StudentAccuracy(liar, mode), 0.1) << mode[0] << " " << mode.back();
  }
  fsys::remove_all(dir);
}

// A teacher checkpoint is checked before training: other classes, a missing or corrupt file.
TEST(Teachers, BadTeacherCheckpoints) {
  auto dir = TempDir("bad");
  const std::string ok = TrainTeacher(dir, "ok", false);
  Checkpoint c = LoadCheckpoint(ok);
  c.labels = {"low", "other"};
  const std::string other = (dir / "other.ckpt").string();
  SaveCheckpoint(other, c);
  AtomicWriteFile(dir / "corrupt.ckpt", "not a checkpoint");
  auto message = [&](const std::string& path) {
    try {
      StudentAccuracy(path, {"train.augment.enabled=false"});
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(other).find("was trained on the classes low,other"), std::string::npos) << message(other);
  EXPECT_NE(message((dir / "missing.ckpt").string()).find("missing.ckpt"), std::string::npos);
  EXPECT_NE(message((dir / "corrupt.ckpt").string()).find("corrupt.ckpt"), std::string::npos);
  fsys::remove_all(dir);
}

// Soft targets of the teachers given as train.teacher.checkpoint on `x` (rows of their own features).
std::vector<float> TargetsOf(const std::vector<std::string>& teachers, AudioSet& a, const FeatureSet& own) {
  std::string list;
  for (const std::string& t : teachers) list += (list.empty() ? "" : ",") + t;
  const Config cfg = ParseConfig(kTiny, "student.toml", With(kStudent, {"train.teacher.checkpoint=" + list}));
  TrainData d = Split(a.features);
  d.windows = &a.windows;
  Teachers t(cfg, d, TrainerOptions{.progress = false}, 2);
  const float* p = t.Targets(own.data.data(), own.n);
  return std::vector<float>(p, p + size_t(own.n) * 2);
}

// Several checkpoints (train.teacher.checkpoint = [a, b]): their probabilities are averaged, row for row;
// checkpoints reading different front ends are refused together, naming both.
TEST(Teachers, SeveralCheckpointsAverage) {
  auto dir = TempDir("several");
  const std::string honest = TrainTeacher(dir, "honest", false), liar = TrainTeacher(dir, "liar", true);
  const Config student = ParseConfig(kTiny, "student.toml", kStudent);
  AudioSet a = MakeAudio(student, 16);
  const Config teacher = ParseConfig(kTiny, "teacher.toml", kTeacher);
  const FeatureSet own = FeaturesFromWindows(a.features, a.windows, teacher.features, "teacher");
  const std::vector<float> h = TargetsOf({honest}, a, own), l = TargetsOf({liar}, a, own),
                           both = TargetsOf({honest, liar}, a, own);
  ASSERT_EQ(both.size(), h.size());
  double apart = 0;
  for (size_t i = 0; i < both.size(); ++i) {
    EXPECT_NEAR(both[i], 0.5f * (h[i] + l[i]), 1e-6) << i;
    apart = std::max(apart, double(std::abs(h[i] - l[i])));
  }
  EXPECT_GT(apart, 0.2);  // the two teachers disagree, so an average of one with itself would fail above

  Checkpoint c = LoadCheckpoint(honest);
  c.features.upper_hz = 3000;
  const std::string other = (dir / "other_front_end.ckpt").string();
  SaveCheckpoint(other, c);
  try {
    TargetsOf({honest, other}, a, own);
    ADD_FAILURE() << "teachers with two front ends were accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("other_front_end.ckpt reads other features than " + honest), std::string::npos) << m;
  }
  fsys::remove_all(dir);
}

// The forms train.teacher.checkpoint takes: a path, an array in a file (relative to the file), a list
// on the command line; a resolved config reads back the same.
TEST(Teachers, CheckpointListForms) {
  auto dir = TempDir("forms");
  AtomicWriteFile(dir / "s.toml", kTiny + "\n[train.teacher]\ncheckpoint = [\"a.ckpt\", \"/abs/b.ckpt\"]\n");
  const Config f = LoadConfig((dir / "s.toml").string());
  EXPECT_EQ(f.train.teacher_checkpoints,
            (std::vector<std::string>{(dir / "a.ckpt").string(), "/abs/b.ckpt"}));
  EXPECT_EQ(ParseConfig(f.ToToml(), "resolved.toml").train.teacher_checkpoints, f.train.teacher_checkpoints);
  EXPECT_EQ(ParseConfig(kTiny, "t.toml", {"train.teacher.checkpoint=a.ckpt"}).train.teacher_checkpoints,
            std::vector<std::string>{"a.ckpt"});
  EXPECT_EQ(ParseConfig(kTiny, "t.toml", {"train.teacher.checkpoint=a.ckpt,b.ckpt"}).train.teacher_checkpoints,
            (std::vector<std::string>{"a.ckpt", "b.ckpt"}));
  EXPECT_EQ(ParseConfig(kTiny, "t.toml", {"train.teacher.checkpoint=[a.ckpt, b.ckpt]"}).train.teacher_checkpoints,
            (std::vector<std::string>{"a.ckpt", "b.ckpt"}));
  EXPECT_TRUE(ParseConfig(kTiny, "t.toml", {}).train.teacher_checkpoints.empty());
  try {
    ParseConfig(kTiny + "\n[train.teacher]\ncheckpoint = [\"a.ckpt\", 3]\n", "bad.toml");
    ADD_FAILURE() << "a number among the teacher checkpoints was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train.teacher.checkpoint"), std::string::npos) << e.what();
  }
  fsys::remove_all(dir);
}

// train.teacher.config: the teacher is trained here with the other recipe's features (kept in the run
// folder as teacher_1.ckpt); the student keeps its own features and size.
TEST(Teachers, TeacherFromAnotherRecipe) {
  auto dir = TempDir("recipe");
  std::string teacher_toml = kTiny + "\n[features]\nsample_rate = 8000\nnum_mel_bins = 12\nupper_hz = 3800.0\n"
                             "frame_step_s = 0.04\nframe_length_s = 0.064\n";
  AtomicWriteFile(dir / "teacher.toml", teacher_toml);
  const std::string student_toml = kTiny + "\n[train.teacher]\nconfig = \"teacher.toml\"\n";
  AtomicWriteFile(dir / "student.toml", student_toml);
  const Config cfg = LoadConfig((dir / "student.toml").string(),
                                With(kStudent, {"train.distill_weight=0.7"}));  // one teacher: the recipe's
  EXPECT_EQ(cfg.train.teacher_config, (dir / "teacher.toml").string());  // relative to the config file
  AudioSet a = MakeAudio(cfg, 32);
  TrainData d = Split(a.features);
  d.windows = &a.windows;
  const fsys::path out = dir / "run";
  TrainerOptions o;
  o.out_dir = out.string();
  o.progress = false;
  Train(cfg, d, o);
  const Checkpoint t = LoadCheckpoint((out / "teacher_1.ckpt").string());
  EXPECT_EQ(t.features.num_mel_bins, 12);
  EXPECT_EQ(LoadCheckpoint((out / "model.ckpt").string()).features.num_mel_bins, 8);
  // A --set path stays relative to the current directory.
  EXPECT_EQ(LoadConfig((dir / "student.toml").string(), {"train.distill_teachers=1", "train.teacher.config=t.toml"})
                .train.teacher_config,
            "t.toml");
  fsys::remove_all(dir);
}

// With two threads the run's two teachers train side by side, one thread each: each is the same bits as
// when they train one after the other on one thread (nothing shared between them), and the two differ
// (their own seeds).
TEST(Teachers, SideBySideTeachersAreTheSameBitsAsOneAtATime) {
  auto dir = TempDir("side_by_side");
  std::string teacher = kTiny;
  teacher.replace(teacher.find("[prune]\nenabled = true"), 22, "[prune]\nenabled = false");
  AtomicWriteFile(dir / "teacher.toml", teacher);
  AtomicWriteFile(dir / "student.toml", kTiny + "\n[train.teacher]\nconfig = \"teacher.toml\"\n");
  const Config cfg = LoadConfig((dir / "student.toml").string(),
                                {"prune.enabled=false", "train.epochs=2", "train.distill_teachers=2"});
  AudioSet a = MakeAudio(cfg, 48);
  TrainData d = Split(a.features);
  d.windows = &a.windows;
  // Trains the run with `threads` threads; each teacher checkpoint's outputs on every clip.
  auto teacher_outputs = [&](int threads, const std::string& name) {
    const int saved = NumThreads();
    SetNumThreads(threads);
    TrainerOptions o;
    o.out_dir = (dir / name).string();
    o.progress = false;
    Train(cfg, d, o);
    SetNumThreads(saved);
    std::vector<std::vector<float>> out;
    for (int k = 1; k <= 2; ++k) {
      Model t = ModelFromCheckpoint(LoadCheckpoint(o.out_dir + "/teacher_" + std::to_string(k) + ".ckpt"));
      out.emplace_back(size_t(a.features.n) * 2);
      t.Predict(a.features.item(0), a.features.n, out.back().data());
    }
    return out;
  };
  const std::vector<std::vector<float>> one = teacher_outputs(1, "one"), two = teacher_outputs(2, "two");
  EXPECT_EQ(one[0], two[0]);
  EXPECT_EQ(one[1], two[1]);
  EXPECT_NE(one[0], one[1]);
  fsys::remove_all(dir);
}

// train.teacher.synth = false: teachers trained in the run learn from the real clips only. Here the
// last two thirds of the training items stand in for [data.synth] clips and carry swapped labels: a
// teacher that learns from them learns the opposite of the truth (its best epoch on the validation clips
// is then no better than chance), one that leaves them out is right.
TEST(Teachers, TeachersCanLeaveTheSyntheticClipsOut) {
  auto dir = TempDir("synth");
  std::string teacher = kTiny;
  teacher.replace(teacher.find("epochs = 4"), 10, "epochs = 30");
  teacher.replace(teacher.find("[prune]\nenabled = true"), 22, "[prune]\nenabled = false");
  AtomicWriteFile(dir / "teacher.toml", teacher);
  AtomicWriteFile(dir / "student.toml", kTiny + "\n[train.teacher]\nconfig = \"teacher.toml\"\n");
  auto teacher_accuracy = [&](bool synth) {
    const Config cfg = LoadConfig((dir / "student.toml").string(),
                                  {"prune.enabled=false", "train.epochs=12", "train.augment.enabled=false",
                                   std::string("train.teacher.synth=") + (synth ? "true" : "false")});
    AudioSet a = MakeAudio(cfg, 96);
    TrainData d = Split(a.features);
    d.windows = &a.windows;
    d.synthetic = int(d.train.size()) * 2 / 3;
    for (size_t k = d.train.size() - size_t(d.synthetic); k < d.train.size(); ++k) {
      int& y = a.features.labels[size_t(d.train[k])];
      y = 1 - y;
    }
    TrainerOptions o;
    o.out_dir = (dir / (synth ? "with" : "without")).string();
    o.progress = false;
    Train(cfg, d, o);
    Model t = ModelFromCheckpoint(LoadCheckpoint(o.out_dir + "/teacher_1.ckpt"));
    int right = 0;
    std::vector<float> p(2);
    for (int i : d.val) {
      t.Predict(a.features.item(i), 1, p.data());
      right += (p[1] > p[0]) == (a.features.labels[size_t(i)] == 1);
    }
    return double(right) / double(d.val.size());
  };
  const double real_only = teacher_accuracy(false), with_synth = teacher_accuracy(true);
  EXPECT_GT(real_only, 0.9);
  EXPECT_LT(with_synth, 0.6);  // the kept teacher is its best epoch on the (honest) validation clips
  fsys::remove_all(dir);
}

// Settings that mean nothing together are usage errors naming the setting.
TEST(Teachers, TeacherSettingsThatConflict) {
  auto message = [](const std::vector<std::string>& sets) {
    try {
      ParseConfig(kTiny, "tiny.toml", sets);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  try {
    ParseConfig(kTiny + "\n[train.teacher]\nconfig = \"t.toml\"\n[[train.teacher.layers]]\ntype = \"relu\"\n",
                "tiny.toml", {"train.distill_teachers=1"});
    ADD_FAILURE() << "a teacher recipe and teacher layers together were accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not both"), std::string::npos) << e.what();
  }
  // A teacher recipe alone means one teacher; distill_teachers says how many.
  EXPECT_EQ(message({"train.teacher.config=t.toml"}), "no error");
  EXPECT_EQ(ParseConfig(kTiny, "tiny.toml", {"train.teacher.config=t.toml"}).train.TeachersToTrain(), 1);
  EXPECT_EQ(ParseConfig(kTiny, "tiny.toml", {"train.teacher.config=t.toml", "train.distill_teachers=2"})
                .train.TeachersToTrain(),
            2);
  EXPECT_FALSE(ParseConfig(kTiny, "tiny.toml", {}).train.Distills());
  EXPECT_NE(message({"train.teacher.checkpoint=t.ckpt", "train.distill_teachers=1"}).find("train.teacher.checkpoint"),
            std::string::npos);
  EXPECT_EQ(message({"train.teacher.checkpoint=t.ckpt"}), "no error");
}

}  // namespace
}  // namespace kws
