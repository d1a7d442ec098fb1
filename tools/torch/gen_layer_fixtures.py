#!/usr/bin/env python3
"""Writes PyTorch reference fixtures for the kws layers (tests/layers/fixtures/*.json).

Run on a machine with torch (CI does not have it; the JSON files are committed):
    /usr/bin/python3 tools/torch/gen_layer_fixtures.py [out_dir]

Every fixture holds, in kws layouts (NHWC activations, HWIO conv kernels,
(KH,KW,C,DM) depthwise kernels, (K,U) dense kernels), the layer config, the
input, the parameters, the output, a random upstream gradient `dout` and the
resulting input / parameter gradients (loss = sum(out * dout)). TF semantics
are reproduced explicitly where PyTorch differs:
  * SAME padding: pad_total = max((out-1)*stride + k - in, 0), before = total//2,
    applied with F.pad (torch's padding='same' does not support stride 2);
  * BatchNorm momentum: Keras 0.99 == torch 0.01; eps 1e-3; the running
    variance update uses the unbiased batch variance in both (tf.keras fused BN);
  * Adam: Keras' update (epsilon added to sqrt(v) before bias correction,
    alpha = lr*sqrt(1-b2^t)/(1-b1^t), float32 constants) written out below,
    because torch.optim.Adam places epsilon differently.
Graph layers (add, concat) have several inputs: "xs" / "input_shapes" / "dins" lists. The whole
BC-ResNet-1 of configs/zoo/bc_resnet1.toml (bc_resnet1.json) is written in kws's (time, frequency)
layout with kws's parameter names; SubSpectralNorm is the reference implementation's reshape to
BatchNorm2d(C*S) over the frequency axis.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20240521)
torch.set_default_dtype(torch.float32)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "tests", "layers", "fixtures")
VERSION = 1


def flat(t):
    return [float(v) for v in t.detach().contiguous().reshape(-1).tolist()]


def flat9(t):
    """As flat, with 9 significant digits: still exact for float32, half the JSON."""
    return [float("%.9g" % v) for v in t.detach().contiguous().reshape(-1).tolist()]


def nhwc(t):  # NCHW -> NHWC
    return t.permute(0, 2, 3, 1)


def nchw(t):
    return t.permute(0, 3, 1, 2)


def same_pad(n, k, s):
    out = (n + s - 1) // s
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pad_tf(x, kh, kw, sh, sw, same, dh=1, dw=1, same_w=None):
    """TF padding of an NCHW tensor for a (kh, kw) kernel with dilation (dh, dw); same_w: W's own choice."""
    same_w = same if same_w is None else same_w
    pt, pb = same_pad(x.shape[2], (kh - 1) * dh + 1, sh) if same else (0, 0)
    pl, pr = same_pad(x.shape[3], (kw - 1) * dw + 1, sw) if same_w else (0, 0)
    return F.pad(x, (pl, pr, pt, pb))


def write(name, d):
    d["version"] = VERSION
    d["name"] = name
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".json")
    with open(path + ".tmp", "w") as f:
        json.dump(d, f, separators=(",", ":"))
    os.replace(path + ".tmp", path)
    print(f"wrote {path}")


def run_case(name, config, x_nhwc, forward, params, training=True, buffers=None, buffers_after=None):
    """forward(x_nchw, params) -> out_nchw; params: dict name -> (torch tensor with grad, to_kws fn)."""
    x = nchw(x_nhwc).clone().requires_grad_(True)
    out = forward(x, params)
    dout = torch.randn_like(out)
    (out * dout).sum().backward()
    d = {
        "config": config,
        "input_shape": list(x_nhwc.shape[1:]),
        "batch": x_nhwc.shape[0],
        "training": training,
        "x": flat(x_nhwc),
        "out": flat(nhwc(out) if out.dim() == 4 else out),
        "dout": flat(nhwc(dout) if dout.dim() == 4 else dout),
        "din": flat(nhwc(x.grad)),
        "params": {k: flat(conv(t)) for k, (t, conv) in params.items()},
        "grads": {k: flat(conv(t.grad)) for k, (t, conv) in params.items()},
    }
    if buffers:
        d["buffers"] = buffers
    if buffers_after:
        d["buffers_after"] = buffers_after()
    write(name, d)


def hwio(w):  # torch (OC,IC,KH,KW) -> (KH,KW,IC,OC)
    return w.permute(2, 3, 1, 0)


def conv_case(name, n, h, w, c, f, kh, kw, sh, sw, same, bias):
    x = torch.randn(n, h, w, c)
    wt = (torch.randn(f, c, kh, kw) * 0.3).requires_grad_(True)
    params = {"kernel": (wt, hwio)}
    b = None
    if bias:
        b = (torch.randn(f) * 0.1).requires_grad_(True)
        params["bias"] = (b, lambda t: t)

    def fwd(xc, p):
        return F.conv2d(pad_tf(xc, kh, kw, sh, sw, same), wt, b, stride=(sh, sw))

    cfg = {"type": "conv2d", "name": "c", "filters": f, "kernel": [kh, kw], "strides": [sh, sw],
           "padding": "same" if same else "valid", "use_bias": bias}
    run_case(name, cfg, x, fwd, params)


def depthwise_case(name, n, h, w, c, dm, kh, kw, sh, sw, same, bias):
    x = torch.randn(n, h, w, c)
    wt = (torch.randn(c * dm, 1, kh, kw) * 0.3).requires_grad_(True)
    # torch grouped conv: output channel c*dm + m uses weight[c*dm + m, 0] — TF's order.
    to_kws = lambda t: t.reshape(c, dm, kh, kw).permute(2, 3, 0, 1)  # -> (KH,KW,C,DM)
    params = {"depthwise_kernel": (wt, to_kws)}
    b = None
    if bias:
        b = (torch.randn(c * dm) * 0.1).requires_grad_(True)
        params["bias"] = (b, lambda t: t)

    def fwd(xc, p):
        return F.conv2d(pad_tf(xc, kh, kw, sh, sw, same), wt, b, stride=(sh, sw), groups=c)

    cfg = {"type": "depthwise_conv2d", "name": "dw", "kernel": [kh, kw], "strides": [sh, sw],
           "padding": "same" if same else "valid", "depth_multiplier": dm, "use_bias": bias}
    run_case(name, cfg, x, fwd, params)


def batchnorm_case(name, training):
    n, h, w, c = 3, 4, 5, 4
    x = torch.randn(n, h, w, c) * 2 + 0.5
    gamma = (1 + 0.3 * torch.randn(c)).requires_grad_(True)
    beta = (0.2 * torch.randn(c)).requires_grad_(True)
    rm = 0.3 * torch.randn(c)
    rv = 0.5 + torch.rand(c)
    buffers = {"moving_mean": flat(rm), "moving_variance": flat(rv)}
    rm_t, rv_t = rm.clone(), rv.clone()

    def fwd(xc, p):
        return F.batch_norm(xc, rm_t, rv_t, gamma, beta, training=training, momentum=0.01, eps=1e-3)

    cfg = {"type": "batchnorm", "name": "bn", "momentum": 0.99, "epsilon": 0.001}
    run_case(name, cfg, x, fwd, {"gamma": (gamma, lambda t: t), "beta": (beta, lambda t: t)}, training, buffers,
             lambda: {"moving_mean": flat(rm_t), "moving_variance": flat(rv_t)})


def pool_case(name, kind, k, s, same, n=2, h=7, w=6, c=3):
    x = torch.randn(n, h, w, c)
    pad = 0
    if same:
        pt, pb = same_pad(h, k, s)
        pl, pr = same_pad(w, k, s)
        assert pt == pb == pl == pr, "fixtures use symmetric SAME padding for pools"
        pad = pt

    def fwd(xc, p):
        if kind == "max":
            return F.max_pool2d(xc, k, s, padding=pad)
        return F.avg_pool2d(xc, k, s, padding=pad, count_include_pad=False)

    cfg = {"type": "max_pool2d" if kind == "max" else "average_pool2d", "pool_size": [k, k], "strides": [s, s],
           "padding": "same" if same else "valid"}
    run_case(name, cfg, x, fwd, {})


def gap_case():
    x = torch.randn(3, 5, 4, 6)
    run_case("global_average_pool", {"type": "global_average_pool"}, x,
             lambda xc, p: xc.mean(dim=(2, 3), keepdim=True), {})


def dense_case():
    x = torch.randn(4, 1, 1, 6)
    wt = (torch.randn(6, 3) * 0.4).requires_grad_(True)  # (K,U) as kws stores it
    b = (torch.randn(3) * 0.1).requires_grad_(True)

    def fwd(xc, p):
        y = nhwc(xc).reshape(xc.shape[0], -1) @ wt + b
        return y.reshape(xc.shape[0], 3, 1, 1)

    run_case("dense", {"type": "dense", "name": "d", "units": 3}, x, fwd,
             {"kernel": (wt, lambda t: t), "bias": (b, lambda t: t)})


def softmax_ce_case():
    n, c = 5, 4
    z = (torch.randn(n, c) * 2).requires_grad_(True)
    y = torch.tensor([0, 3, 1, 1, 2])
    loss = F.cross_entropy(z, y)  # mean over the batch
    loss.backward()
    write("softmax_cross_entropy", {"n": n, "c": c, "logits": flat(z), "labels": y.tolist(),
                                    "loss": float(loss), "probs": flat(torch.softmax(z, 1)), "dlogits": flat(z.grad)})


def keras_adam_network():
    """conv3x3/s1/same(4)+BN+ReLU -> conv3x3/s2/same(4)+BN+ReLU -> GAP -> dense(3); 20 Keras-Adam steps.

    The convs have no bias: a bias right before training-mode BN has an exactly-zero true
    gradient, so its float gradient is rounding noise that Adam (m/sqrt(v)) amplifies into
    +-lr steps of arbitrary sign — not comparable between implementations.
    """
    n, h, w, c = 6, 9, 7, 1
    xs = [torch.randn(n, h, w, c) for _ in range(2)]
    ys = [torch.randint(0, 3, (n,)) for _ in range(2)]
    P = {
        "c1/kernel": torch.randn(4, 1, 3, 3) * 0.4,
        "bn1/gamma": 1 + 0.1 * torch.randn(4), "bn1/beta": 0.1 * torch.randn(4),
        "c2/kernel": torch.randn(4, 4, 3, 3) * 0.3,
        "bn2/gamma": 1 + 0.1 * torch.randn(4), "bn2/beta": 0.1 * torch.randn(4),
        "fc/kernel": torch.randn(4, 3) * 0.5, "fc/bias": torch.randn(3) * 0.1,
    }
    for t in P.values():
        t.requires_grad_(True)
    B = {"bn1/moving_mean": torch.zeros(4), "bn1/moving_variance": torch.ones(4),
         "bn2/moving_mean": torch.zeros(4), "bn2/moving_variance": torch.ones(4)}

    def kws_layout(k, t):
        return hwio(t) if k.endswith("kernel") and t.dim() == 4 else t

    init = {k: flat(kws_layout(k, t)) for k, t in P.items()}

    def forward(x_nhwc, training=True):
        x = nchw(x_nhwc)
        x = F.conv2d(pad_tf(x, 3, 3, 1, 1, True), P["c1/kernel"], None)
        x = F.relu(F.batch_norm(x, B["bn1/moving_mean"], B["bn1/moving_variance"], P["bn1/gamma"], P["bn1/beta"],
                                training=training, momentum=0.01, eps=1e-3))
        x = F.conv2d(pad_tf(x, 3, 3, 2, 2, True), P["c2/kernel"], None, stride=2)
        x = F.relu(F.batch_norm(x, B["bn2/moving_mean"], B["bn2/moving_variance"], P["bn2/gamma"], P["bn2/beta"],
                                training=training, momentum=0.01, eps=1e-3))
        x = x.mean(dim=(2, 3))
        return x @ P["fc/kernel"] + P["fc/bias"]

    f32 = lambda v: torch.tensor(v, dtype=torch.float32)
    lr, b1, b2, eps = f32(0.01), f32(0.9), f32(0.999), f32(1e-7)
    one = f32(1.0)
    M = {k: torch.zeros_like(t) for k, t in P.items()}
    V = {k: torch.zeros_like(t) for k, t in P.items()}
    losses = []
    steps = 20
    for t in range(1, steps + 1):
        x, y = xs[(t - 1) % 2], ys[(t - 1) % 2]
        for p in P.values():
            p.grad = None
        loss = F.cross_entropy(forward(x), y)
        loss.backward()
        losses.append(float(loss))
        with torch.no_grad():
            tt = f32(float(t))
            alpha = lr * torch.sqrt(one - torch.pow(b2, tt)) / (one - torch.pow(b1, tt))
            for k, p in P.items():
                g = p.grad
                M[k] += (g - M[k]) * (one - b1)
                V[k] += (g * g - V[k]) * (one - b2)
                p -= (M[k] * alpha) / (torch.sqrt(V[k]) + eps)
    with torch.no_grad():
        eval_logits = forward(xs[0], training=False)
    write("adam_network", {
        "input_shape": [h, w, c], "batch": n, "steps": steps, "lr": 0.01,
        "xs": [flat(x) for x in xs], "ys": [y.tolist() for y in ys],
        "init": init,
        "final": {k: flat(kws_layout(k, t)) for k, t in P.items()},
        "buffers_final": {k: flat(t) for k, t in B.items()},
        "losses": losses,
        "eval_logits": flat(eval_logits),
    })


def softmax_ce_weighted_smoothed_case():
    # train.class_weights + train.label_smoothing, Keras semantics: each sample's smoothed loss times
    # its class weight, mean over the batch (not torch's weight= normalisation by the weight sum).
    g = torch.Generator().manual_seed(77)
    n, c, eps = 6, 4, 0.1
    w = torch.tensor([1.0, 2.5, 0.5, 1.5])
    z = (torch.randn(n, c, generator=g) * 2).requires_grad_(True)
    y = torch.tensor([0, 3, 1, 1, 2, 1])
    per = F.cross_entropy(z, y, reduction="none", label_smoothing=eps)
    loss = (per * w[y]).mean()
    loss.backward()
    write("softmax_cross_entropy_weighted_smoothed",
          {"n": n, "c": c, "label_smoothing": eps, "class_weights": w.tolist(), "logits": flat(z),
           "labels": y.tolist(), "loss": float(loss), "probs": flat(torch.softmax(z, 1)), "dlogits": flat(z.grad)})


def softmax_ce_soft_targets_case():
    # Distillation: target = (1 - w) * (label-smoothed one-hot) + w * teacher probabilities, times the
    # class weight of the label, mean over the batch. torch's cross_entropy with probability targets.
    g = torch.Generator().manual_seed(78)
    n, c, eps, w_soft = 6, 4, 0.1, 0.6
    w = torch.tensor([1.0, 2.5, 0.5, 1.5])
    z = (torch.randn(n, c, generator=g) * 2).requires_grad_(True)
    y = torch.tensor([0, 3, 1, 1, 2, 1])
    t = torch.softmax(torch.randn(n, c, generator=g), 1)
    smoothed = F.one_hot(y, c).float() * (1 - eps) + eps / c
    target = (1 - w_soft) * smoothed + w_soft * t
    per = F.cross_entropy(z, target, reduction="none")
    loss = (per * w[y]).mean()
    loss.backward()
    write("softmax_cross_entropy_soft_targets",
          {"n": n, "c": c, "label_smoothing": eps, "soft_weight": w_soft, "class_weights": w.tolist(),
           "logits": flat(z), "labels": y.tolist(), "soft": flat(t), "loss": float(loss),
           "probs": flat(torch.softmax(z, 1)), "dlogits": flat(z.grad)})


def padding_cfg(same_h, same_w):
    if same_h == same_w:
        return "same" if same_h else "valid"
    return ["same" if same_h else "valid", "same" if same_w else "valid"]


def conv_ex_case(name, n, h, w, c, f, kh, kw, sh, sw, same_h, same_w, dh, dw, bias):
    """conv2d with dilation and per-axis padding."""
    x = torch.randn(n, h, w, c)
    wt = (torch.randn(f, c, kh, kw) * 0.3).requires_grad_(True)
    params = {"kernel": (wt, hwio)}
    b = None
    if bias:
        b = (torch.randn(f) * 0.1).requires_grad_(True)
        params["bias"] = (b, lambda t: t)

    def fwd(xc, p):
        return F.conv2d(pad_tf(xc, kh, kw, sh, sw, same_h, dh, dw, same_w), wt, b, stride=(sh, sw), dilation=(dh, dw))

    cfg = {"type": "conv2d", "name": "c", "filters": f, "kernel": [kh, kw], "strides": [sh, sw],
           "padding": padding_cfg(same_h, same_w), "dilation": [dh, dw], "use_bias": bias}
    run_case(name, cfg, x, fwd, params)


def depthwise_ex_case(name, n, h, w, c, dm, kh, kw, sh, sw, same_h, same_w, dh, dw, bias):
    x = torch.randn(n, h, w, c)
    wt = (torch.randn(c * dm, 1, kh, kw) * 0.3).requires_grad_(True)
    to_kws = lambda t: t.reshape(c, dm, kh, kw).permute(2, 3, 0, 1)
    params = {"depthwise_kernel": (wt, to_kws)}
    b = None
    if bias:
        b = (torch.randn(c * dm) * 0.1).requires_grad_(True)
        params["bias"] = (b, lambda t: t)

    def fwd(xc, p):
        return F.conv2d(pad_tf(xc, kh, kw, sh, sw, same_h, dh, dw, same_w), wt, b, stride=(sh, sw), dilation=(dh, dw),
                        groups=c)

    cfg = {"type": "depthwise_conv2d", "name": "dw", "kernel": [kh, kw], "strides": [sh, sw],
           "padding": padding_cfg(same_h, same_w), "dilation": [dh, dw], "depth_multiplier": dm, "use_bias": bias}
    run_case(name, cfg, x, fwd, params)


def ssn_torch(x, rm, rv, gamma, beta, S, training, momentum, eps):
    """SubSpectralNorm over the W (frequency) axis of an NCHW tensor: BatchNorm2d(C*S) on (N, C*S, W/S, H)."""
    n, c, h, w = x.shape
    y = x.transpose(2, 3).reshape(n, c * S, w // S, h)
    y = F.batch_norm(y, rm, rv, gamma, beta, training=training, momentum=momentum, eps=eps)
    return y.reshape(n, c, w, h).transpose(2, 3)


def ssn_case(name, training):
    n, h, w, c, S = 3, 4, 10, 3, 5
    x = torch.randn(n, h, w, c) * 1.5 + 0.3
    gamma = (1 + 0.3 * torch.randn(c * S)).requires_grad_(True)
    beta = (0.2 * torch.randn(c * S)).requires_grad_(True)
    rm = 0.3 * torch.randn(c * S)
    rv = 0.5 + torch.rand(c * S)
    buffers = {"moving_mean": flat(rm), "moving_variance": flat(rv)}
    rm_t, rv_t = rm.clone(), rv.clone()

    def fwd(xc, p):
        return ssn_torch(xc, rm_t, rv_t, gamma, beta, S, training, 0.1, 1e-5)

    cfg = {"type": "subspectral_norm", "name": "ssn", "sub_bands": S, "momentum": 0.9, "epsilon": 1e-5}
    run_case(name, cfg, x, fwd, {"gamma": (gamma, lambda t: t), "beta": (beta, lambda t: t)}, training, buffers,
             lambda: {"moving_mean": flat(rm_t), "moving_variance": flat(rv_t)})


def mean_case(name, axis):
    x = torch.randn(2, 5, 4, 3)
    dim = 3 if axis == "w" else 2
    run_case(name, {"type": "mean", "name": "m", "axis": axis}, x, lambda xc, p: xc.mean(dim=dim, keepdim=True), {})


def activation_cases():
    x = torch.randn(2, 3, 4, 5) * 3
    run_case("swish", {"type": "swish"}, x, lambda xc, p: F.silu(xc), {})
    x = torch.randn(2, 3, 4, 5) * 3
    x = torch.where((x.abs() - 3).abs() < 0.05, x * 0.5, x)  # away from the kinks at +-3
    run_case("hard_swish", {"type": "hard_swish"}, x, lambda xc, p: F.hardswish(xc), {})


def multi_case(name, config, shapes, forward):
    """A layer with several inputs; shapes in NHWC (batch first)."""
    xs = [nchw(torch.randn(*s)).clone().requires_grad_(True) for s in shapes]
    out = forward(xs)
    dout = torch.randn_like(out)
    (out * dout).sum().backward()
    write(name, {"config": config, "input_shapes": [list(s[1:]) for s in shapes], "batch": shapes[0][0],
                 "training": True, "xs": [flat(nhwc(x)) for x in xs], "out": flat(nhwc(out)),
                 "dout": flat(nhwc(dout)), "dins": [flat(nhwc(x.grad)) for x in xs], "params": {}, "grads": {}})


def graph_layer_cases():
    conv_ex_case("conv2d_dilated_same", 2, 9, 6, 3, 4, 3, 3, 1, 1, True, True, 2, 1, True)
    conv_ex_case("conv2d_k5x1_s2_same", 2, 9, 3, 2, 4, 5, 1, 2, 1, True, True, 1, 1, True)
    conv_ex_case("conv2d_k1x3_valid_dil2", 2, 4, 9, 3, 2, 1, 3, 1, 1, False, False, 1, 2, False)
    conv_ex_case("conv2d_mixed_padding", 2, 7, 5, 2, 3, 5, 5, 1, 1, True, False, 1, 1, True)
    depthwise_ex_case("depthwise_k3x1_dil4_same", 2, 11, 3, 4, 1, 3, 1, 1, 1, True, True, 4, 1, False)
    depthwise_ex_case("depthwise_k1x3_s2_same", 2, 5, 10, 3, 1, 1, 3, 1, 2, True, True, 1, 1, False)
    depthwise_ex_case("depthwise_k5_mixed_padding", 2, 7, 5, 3, 2, 5, 5, 1, 1, True, False, 1, 1, True)
    ssn_case("subspectral_norm_train", True)
    ssn_case("subspectral_norm_eval", False)
    mean_case("mean_w", "w")
    mean_case("mean_h", "h")
    activation_cases()
    multi_case("add_broadcast", {"type": "add", "name": "a"}, [(2, 6, 1, 3), (2, 6, 5, 3), (2, 6, 5, 3)],
               lambda xs: xs[0] + xs[1] + xs[2])
    multi_case("concat", {"type": "concat", "name": "c"}, [(2, 4, 3, 2), (2, 4, 3, 5)],
               lambda xs: torch.cat(xs, dim=1))


class BcResNet1:
    """configs/zoo/bc_resnet1.toml in PyTorch, NCHW with H = time and W = frequency (kws's layout), the
    dropout left out (the C++ side sets its rate to 0). Parameters keyed by kws's names."""

    def __init__(self, classes=12):
        self.P, self.B = {}, {}
        self.classes = classes

    def param(self, name, t, to_kws):
        t = t.clone().requires_grad_(True)
        self.P[name] = (t, to_kws)
        return t

    def conv(self, name, x, f, kh, kw, sh=1, sw=1, dh=1, same_h=True, same_w=True, groups=1):
        c = x.shape[1]
        if groups == 1:
            w = self.param(name + "/kernel", torch.randn(f, c, kh, kw) * (1.0 / math.sqrt(c * kh * kw)), hwio)
        else:
            w = self.param(name + "/depthwise_kernel", torch.randn(c, 1, kh, kw) * 0.5,
                           lambda t, c=c, kh=kh, kw=kw: t.reshape(c, 1, kh, kw).permute(2, 3, 0, 1))
        return F.conv2d(pad_tf(x, kh, kw, sh, sw, same_h, dh, 1, same_w), w, None, stride=(sh, sw), dilation=(dh, 1),
                        groups=groups)

    def bn(self, name, x):
        c = x.shape[1]
        g = self.param(name + "/gamma", 1 + 0.2 * torch.randn(c), lambda t: t)
        b = self.param(name + "/beta", 0.1 * torch.randn(c), lambda t: t)
        rm, rv = torch.zeros(c), torch.ones(c)
        self.B[name + "/moving_mean"], self.B[name + "/moving_variance"] = rm, rv
        return F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.1, eps=1e-5)

    def ssn(self, name, x):
        c = x.shape[1]
        g = self.param(name + "/gamma", 1 + 0.2 * torch.randn(c * 5), lambda t: t)
        b = self.param(name + "/beta", 0.1 * torch.randn(c * 5), lambda t: t)
        rm, rv = torch.zeros(c * 5), torch.ones(c * 5)
        self.B[name + "/moving_mean"], self.B[name + "/moving_variance"] = rm, rv
        return ssn_torch(x, rm, rv, g, b, 5, True, 0.1, 1e-5)

    def block(self, p, x, channels, stride, dilation, transition):
        shortcut = x
        if transition:
            x = F.relu(self.bn(p + "batchnorm_1", self.conv(p + "pw", x, channels, 1, 1)))
        c = x.shape[1]
        f2 = self.ssn(p + "ssn", self.conv(p + "f2", x, c, 1, 3, 1, stride, groups=c))
        y = f2.mean(dim=3, keepdim=True)
        y = self.conv(p + "f1", y, c, 3, 1, dh=dilation, groups=c)
        y = F.silu(self.bn(p + ("batchnorm_2" if transition else "batchnorm_1"), y))
        y = self.conv(p + "conv2d_1", y, channels, 1, 1)
        y = y + f2
        if not transition:
            y = y + shortcut
        return F.relu(y)

    def forward(self, x):
        x = F.relu(self.bn("batchnorm_1", self.conv("head", x, 16, 5, 5, 1, 2)))
        for stage, (ch, n, stride, dil) in enumerate([(8, 2, 1, 1), (12, 2, 2, 2), (16, 4, 2, 4), (20, 4, 1, 8)]):
            s = "s%d" % (stage + 1)
            x = self.block(s + "_t/", x, ch, stride, dil, True)
            for k in range(1, n):
                x = self.block(s + ("_%d/" % k if n > 2 else "/"), x, ch, 1, dil, False)
        x = self.conv("tail_dw", x, 20, 5, 5, same_w=False, groups=20)
        x = F.relu(self.bn("batchnorm_2", self.conv("tail_pw", x, 32, 1, 1)))
        x = x.mean(dim=(2, 3))
        w = self.param("dense_1/kernel", torch.randn(32, self.classes) * 0.3, lambda t: t)
        b = self.param("dense_1/bias", torch.randn(self.classes) * 0.1, lambda t: t)
        return x @ w + b


def bc_resnet1_case():
    """The whole BC-ResNet-1 (training-mode forward, loss, backward, moving statistics), 3 x 24 x 40."""
    g = torch.Generator().manual_seed(2021)
    n, t, f = 3, 24, 40
    x_nhwc = torch.randn(n, t, f, 1, generator=g) * 2
    y = torch.tensor([3, 0, 11])
    net = BcResNet1()
    torch.manual_seed(2106)
    logits = net.forward(nchw(x_nhwc))
    loss = F.cross_entropy(logits, y)
    loss.backward()
    write("bc_resnet1", {
        "input_shape": [t, f, 1], "batch": n, "x": flat9(x_nhwc), "labels": y.tolist(),
        "params": {k: flat9(conv(p)) for k, (p, conv) in net.P.items()},
        "logits": flat9(logits), "loss": float(loss),
        "grads": {k: flat9(conv(p.grad)) for k, (p, conv) in net.P.items()},
        "buffers_after": {k: flat9(v) for k, v in net.B.items()},
    })


def main():
    conv_case("conv2d_same_s1", 2, 5, 4, 3, 4, 3, 3, 1, 1, True, True)
    conv_case("conv2d_same_s2", 2, 7, 6, 3, 4, 3, 3, 2, 2, True, True)     # asymmetric TF padding
    conv_case("conv2d_valid_s2", 2, 8, 5, 2, 3, 3, 2, 2, 1, False, False)
    conv_case("conv2d_1to16", 1, 9, 20, 1, 16, 3, 3, 1, 1, True, True)  # seed-recipe-like first layer (cropped)
    depthwise_case("depthwise_same_s1_dm2", 2, 5, 6, 3, 2, 3, 3, 1, 1, True, True)
    depthwise_case("depthwise_same_s2", 2, 7, 6, 2, 1, 3, 3, 2, 2, True, False)
    batchnorm_case("batchnorm_train", True)
    batchnorm_case("batchnorm_eval", False)
    pool_case("max_pool_valid_3s2", "max", 3, 2, False)
    pool_case("avg_pool_valid_2s2", "avg", 2, 2, False)
    pool_case("avg_pool_same_3s1", "avg", 3, 1, True)
    pool_case("max_pool_same_3s1", "max", 3, 1, True)
    gap_case()
    dense_case()
    softmax_ce_case()
    keras_adam_network()
    softmax_ce_weighted_smoothed_case()
    softmax_ce_soft_targets_case()
    graph_layer_cases()
    bc_resnet1_case()


if __name__ == "__main__":
    main()
