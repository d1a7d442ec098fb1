// Embedded copies of configs/seed.toml and configs/baseline.toml, so `kws quickstart` works from
// any working directory. Kept identical to the files by tests/quickstart (EmbeddedConfigs test):
// after editing a config, paste it here between the delimiters.
#include "quickstart/quickstart.h"

namespace kws {

const char* EmbeddedSeedConfig() {
  return R"KWS_TOML(# The seed recipe (FACTS §1): the course report's yes/no keyword model.
#   kws train --config configs/seed.toml --data DIR --out runs/seed
# Every setting not written here has the default shown in RUN_DIR/config.toml.

[features]
# tf.signal log-mel: 32 ms frames (512 samples), 10 ms step (160), 512-point FFT,
# 20 mel bins 20-6000 Hz, log(mel + 1e-6). 1 s at 16 kHz -> 97 frames x 20 bins.
sample_rate = 16000
frame_length_s = 0.032
frame_step_s = 0.010
fft_length = 512
num_mel_bins = 20
lower_hz = 20.0
upper_hz = 6000.0
log_offset = 1e-6

# Keras Sequential: four Conv2D(16, 3x3, no bias) + BatchNormalization + ReLU,
# strides 2,1,1,1, padding same; GlobalAveragePooling2D; Dense(classes); Softmax.
# (The report says kernel sizes and strides "vary" without listing them; 3x3 with a
# stride-2 first layer is our reading.)
[[model.layers]]
type = "conv2d"
filters = 16
kernel = [3, 3]
strides = [2, 2]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"

[[model.layers]]
type = "conv2d"
filters = 16
kernel = [3, 3]
strides = [1, 1]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"

[[model.layers]]
type = "conv2d"
filters = 16
kernel = [3, 3]
strides = [1, 1]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"

[[model.layers]]
type = "conv2d"
filters = 16
kernel = [3, 3]
strides = [1, 1]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"

[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"        # units omitted = number of labels
[[model.layers]]
type = "softmax"

[train]
epochs = 80
batch_size = 25
optimizer = "adam"    # Keras Adam defaults: beta1 0.9, beta2 0.999, epsilon 1e-7
seed = 1
validation = 0.1      # speaker-disjoint carve-out for best-epoch selection

[train.learning_rate]
# 0.01 -> 1e-5 with Keras PolynomialDecay; power 1 (the Keras default: the report
# gives no power) over every training step ("auto").
schedule = "polynomial"
initial = 0.01
end = 1e-5
power = 1.0
decay_steps = "auto"

[train.augment]
# The report lists no augmentation; the recipe trains on clean features.
enabled = false

[prune]
# TFMOT PolynomialDecay 0.2 -> 0.85 with its defaults power 3 and frequency 100,
# from the first step to the end of training (the report gives no steps; ending
# with training is the usual TFMOT example). With pruning on, the saved best model
# is chosen among epochs that reached the final sparsity (here: the last epoch).
enabled = true
schedule = "polynomial"
initial_sparsity = 0.2
final_sparsity = 0.85
power = 3.0
begin_step = 0
end_step = "end"
frequency = 100

[data]
labels = ["yes", "no"]
)KWS_TOML";
}

const char* EmbeddedBaselineConfig() {
  return R"KWS_TOML(# The baseline the course report started from (FACTS §1): three Conv2D layers of
# 128 filters; same features, head and training as configs/seed.toml, no pruning.
#   kws train --config configs/baseline.toml --data DIR --out runs/baseline
# Every setting not written here has the default shown in RUN_DIR/config.toml.

[features]
# tf.signal log-mel: 32 ms frames (512 samples), 10 ms step (160), 512-point FFT,
# 20 mel bins 20-6000 Hz, log(mel + 1e-6). 1 s at 16 kHz -> 97 frames x 20 bins.
sample_rate = 16000
frame_length_s = 0.032
frame_step_s = 0.010
fft_length = 512
num_mel_bins = 20
lower_hz = 20.0
upper_hz = 6000.0
log_offset = 1e-6

# Three Conv2D(128, 3x3, no bias) + BatchNormalization + ReLU, strides 2,1,1,
# padding same; GlobalAveragePooling2D; Dense(classes); Softmax.
[[model.layers]]
type = "conv2d"
filters = 128
kernel = [3, 3]
strides = [2, 2]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"

[[model.layers]]
type = "conv2d"
filters = 128
kernel = [3, 3]
strides = [1, 1]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"

[[model.layers]]
type = "conv2d"
filters = 128
kernel = [3, 3]
strides = [1, 1]
padding = "same"
use_bias = false
[[model.layers]]
type = "batchnorm"
[[model.layers]]
type = "relu"

[[model.layers]]
type = "global_average_pool"
[[model.layers]]
type = "dense"        # units omitted = number of labels
[[model.layers]]
type = "softmax"

[train]
epochs = 80
batch_size = 25
optimizer = "adam"    # Keras Adam defaults: beta1 0.9, beta2 0.999, epsilon 1e-7
seed = 1
validation = 0.1      # speaker-disjoint carve-out for best-epoch selection

[train.learning_rate]
# 0.01 -> 1e-5 with Keras PolynomialDecay; power 1 (the Keras default: the report
# gives no power) over every training step ("auto").
schedule = "polynomial"
initial = 0.01
end = 1e-5
power = 1.0
decay_steps = "auto"

[train.augment]
# The report lists no augmentation; the recipe trains on clean features.
enabled = false

[prune]
enabled = false

[data]
labels = ["yes", "no"]
)KWS_TOML";
}

}  // namespace kws
