#!/usr/bin/env python3
"""Benchmark-only: turn a float32 .tflite written by kws into an equivalent ONNX model with the SAME
weights, via PyTorch (torch.onnx.export), so ONNX Runtime can be timed on the identical network.

    /usr/bin/python3 tools/torch/seed_to_onnx.py MODEL_float.tflite OUT.onnx [--check INPUT.raw] [--overhead T.onnx]

The .tflite is read with a minimal FlatBuffer reader written here (only the fields needed: tensors,
buffers, operators and their options; field ids from the official schema). Supported float ops:
CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN (over H,W), RESHAPE,
SOFTMAX, with fused NONE/RELU/RELU6 and SAME/VALID padding (TFLite's SAME: pad before = total // 2).
The ONNX model takes the same NHWC input [1, frames, bins, 1] as the .tflite (one transpose inside).
--check prints the torch output for a raw float32 input as a JSON list (for comparing runtimes).
--overhead PATH also writes a trivial model with the same input (one ReLU) to PATH: timing it in ONNX
Runtime measures the per-call cost of the runtime + node binding without the network.
Needs torch (a dev-machine tool, never used by kws itself).
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------- minimal FlatBuffer reading


class Table:
    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        vt = pos - struct.unpack_from('<i', buf, pos)[0]
        self.vt_len = struct.unpack_from('<H', buf, vt)[0]
        self.vt = vt

    def _off(self, fid):
        o = 4 + 2 * fid
        if o >= self.vt_len:
            return 0
        return struct.unpack_from('<H', self.buf, self.vt + o)[0]

    def scalar(self, fid, fmt, default=0):
        o = self._off(fid)
        return struct.unpack_from('<' + fmt, self.buf, self.pos + o)[0] if o else default

    def _target(self, fid):
        o = self._off(fid)
        if not o:
            return None
        p = self.pos + o
        return p + struct.unpack_from('<I', self.buf, p)[0]

    def table(self, fid):
        t = self._target(fid)
        return Table(self.buf, t) if t is not None else None

    def vector(self, fid):  # -> (start, length) or None
        t = self._target(fid)
        if t is None:
            return None
        return t + 4, struct.unpack_from('<I', self.buf, t)[0]

    def ints(self, fid):
        v = self.vector(fid)
        if v is None:
            return []
        return list(struct.unpack_from('<%di' % v[1], self.buf, v[0]))

    def bytes(self, fid):
        v = self.vector(fid)
        return b'' if v is None else bytes(self.buf[v[0]:v[0] + v[1]])

    def string(self, fid):
        return self.bytes(fid).decode('utf-8', 'replace')

    def tables(self, fid):
        v = self.vector(fid)
        if v is None:
            return []
        out = []
        for i in range(v[1]):
            p = v[0] + 4 * i
            out.append(Table(self.buf, p + struct.unpack_from('<I', self.buf, p)[0]))
        return out


OPS = {1: 'AVERAGE_POOL_2D', 3: 'CONV_2D', 4: 'DEPTHWISE_CONV_2D', 9: 'FULLY_CONNECTED', 17: 'MAX_POOL_2D',
       22: 'RESHAPE', 25: 'SOFTMAX', 40: 'MEAN'}
FLOAT32, INT32 = 0, 2


def read_tflite(path):
    buf = open(path, 'rb').read()
    if buf[4:8] != b'TFL3':
        sys.exit('%s: not a .tflite file (no TFL3 identifier)' % path)
    model = Table(buf, struct.unpack_from('<I', buf, 0)[0])
    codes = []
    for oc in model.tables(1):
        codes.append(max(oc.scalar(0, 'b'), oc.scalar(3, 'i')))  # old converters: deprecated code only
    buffers = [b.bytes(0) for b in model.tables(4)]
    sgs = model.tables(2)
    if len(sgs) != 1:
        sys.exit('%s: expected one subgraph' % path)
    sg = sgs[0]
    tensors = []
    for t in sg.tables(0):
        tensors.append({'shape': t.ints(0), 'type': t.scalar(1, 'b'), 'buffer': t.scalar(2, 'I'), 'name': t.string(3)})

    def const(i, dtype):
        t = tensors[i]
        data = buffers[t['buffer']]
        want = {FLOAT32: np.float32, INT32: np.int32}.get(t['type'])
        if want is None or want != dtype:
            sys.exit('%s: tensor %s is not %s (only float .tflite models are supported)' % (path, t['name'], dtype.__name__))
        return np.frombuffer(data, dtype=dtype).reshape(t['shape']).copy()

    ops = []
    for op in sg.tables(3):
        code = codes[op.scalar(0, 'I')]
        name = OPS.get(code)
        if name is None:
            sys.exit('%s: unsupported op code %d' % (path, code))
        o = op.table(4)
        ins, outs = op.ints(1), op.ints(2)
        d = {'op': name, 'inputs': ins, 'outputs': outs}
        if name in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
            d['padding'] = o.scalar(0, 'b')
            d['stride'] = (o.scalar(2, 'i'), o.scalar(1, 'i'))
            d['act'] = o.scalar(3 if name == 'CONV_2D' else 4, 'b')
            first = 4 if name == 'CONV_2D' else 5  # dilation_w_factor, dilation_h_factor
            dil = (o.scalar(first + 1, 'i', 1), o.scalar(first, 'i', 1))
            if dil != (1, 1):
                sys.exit('%s: dilated convolutions are not supported' % path)
            d['w'] = const(ins[1], np.float32)
            d['b'] = const(ins[2], np.float32) if len(ins) > 2 and ins[2] >= 0 else None
        elif name == 'FULLY_CONNECTED':
            d['act'] = o.scalar(0, 'b') if o else 0
            d['w'] = const(ins[1], np.float32)
            d['b'] = const(ins[2], np.float32) if len(ins) > 2 and ins[2] >= 0 else None
        elif name in ('AVERAGE_POOL_2D', 'MAX_POOL_2D'):
            d['padding'] = o.scalar(0, 'b')
            d['stride'] = (o.scalar(2, 'i'), o.scalar(1, 'i'))
            d['filter'] = (o.scalar(4, 'i'), o.scalar(3, 'i'))
            d['act'] = o.scalar(5, 'b')
        elif name == 'MEAN':
            axes = sorted(int(a) % 4 for a in const(ins[1], np.int32).reshape(-1))
            if axes != [1, 2]:
                sys.exit('%s: MEAN over axes %s (only H,W supported)' % (path, axes))
            d['keep_dims'] = bool(o.scalar(0, 'b')) if o else False
        elif name == 'RESHAPE':
            d['shape'] = tensors[outs[0]]['shape']
        elif name == 'SOFTMAX':
            d['beta'] = o.scalar(0, 'f', 1.0) if o else 1.0
        ops.append(d)
    inputs, outputs = sg.ints(1), sg.ints(2)
    if tensors[inputs[0]]['type'] != FLOAT32:
        sys.exit('%s: input is not float32 (give the float export)' % path)
    return tensors, ops, inputs[0], outputs[0]


# ---------------------------------------------------------------- the same network in torch


def same_pad(size, k, s):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class TfliteNet(torch.nn.Module):
    def __init__(self, tensors, ops, input_index, output_index):
        super().__init__()
        self.tensors, self.ops, self.inp, self.out = tensors, ops, input_index, output_index
        self.params = torch.nn.ParameterList()
        for d in ops:
            if 'w' in d:
                w = d['w']
                if d['op'] == 'CONV_2D':
                    w = w.transpose(0, 3, 1, 2)  # OHWI -> OIHW
                elif d['op'] == 'DEPTHWISE_CONV_2D':
                    w = w.transpose(3, 0, 1, 2)  # 1HWC -> C1HW
                d['wi'] = len(self.params)
                self.params.append(torch.nn.Parameter(torch.from_numpy(np.ascontiguousarray(w)), requires_grad=False))
                b = d['b'] if d['b'] is not None else np.zeros(w.shape[0], np.float32)
                self.params.append(torch.nn.Parameter(torch.from_numpy(b.copy()), requires_grad=False))

    @staticmethod
    def act(x, a):
        if a == 1:
            return F.relu(x)
        if a == 3:
            return torch.clamp(x, 0.0, 6.0)
        if a != 0:
            raise SystemExit('unsupported fused activation %d' % a)
        return x

    def pad(self, x, padding, k, s):
        if padding != 0:  # VALID
            return x
        top, bottom = same_pad(x.shape[2], k[0], s[0])
        left, right = same_pad(x.shape[3], k[1], s[1])
        return F.pad(x, (left, right, top, bottom))

    def forward(self, x):
        vals = {self.inp: x.permute(0, 3, 1, 2)}  # 4-D values are kept NCHW
        for d in self.ops:
            x = vals[d['inputs'][0]]
            op = d['op']
            if op in ('CONV_2D', 'DEPTHWISE_CONV_2D'):
                w, b = self.params[d['wi']], self.params[d['wi'] + 1]
                groups = x.shape[1] if op == 'DEPTHWISE_CONV_2D' else 1
                pad = (0, 0)
                if d['padding'] == 0:  # SAME: symmetric padding goes into the Conv node, the rest into a Pad
                    top, bottom = same_pad(x.shape[2], w.shape[2], d['stride'][0])
                    left, right = same_pad(x.shape[3], w.shape[3], d['stride'][1])
                    pad = (min(top, bottom), min(left, right))
                    if (top, left) != (bottom, right):
                        x = F.pad(x, (left - pad[1], right - pad[1], top - pad[0], bottom - pad[0]))
                y = self.act(F.conv2d(x, w, b, stride=d['stride'], padding=pad, groups=groups), d['act'])
            elif op in ('AVERAGE_POOL_2D', 'MAX_POOL_2D'):
                if d['padding'] == 0 and op == 'AVERAGE_POOL_2D':
                    # TFLite's SAME average pool divides by the valid count: count_include_pad=False.
                    top, bottom = same_pad(x.shape[2], d['filter'][0], d['stride'][0])
                    left, right = same_pad(x.shape[3], d['filter'][1], d['stride'][1])
                    if (top, left) != (bottom, right):
                        raise SystemExit('asymmetric SAME average pooling is not supported')
                    y = F.avg_pool2d(x, d['filter'], d['stride'], padding=(top, left), count_include_pad=False)
                elif op == 'AVERAGE_POOL_2D':
                    y = F.avg_pool2d(x, d['filter'], d['stride'])
                else:
                    if d['padding'] == 0:  # SAME: padded positions never win
                        top, bottom = same_pad(x.shape[2], d['filter'][0], d['stride'][0])
                        left, right = same_pad(x.shape[3], d['filter'][1], d['stride'][1])
                        x = F.pad(x, (left, right, top, bottom), value=float('-inf'))
                    y = F.max_pool2d(x, d['filter'], d['stride'])
                y = self.act(y, d['act'])
            elif op == 'MEAN':
                y = x.mean(dim=(2, 3), keepdim=d['keep_dims'])
            elif op == 'RESHAPE':
                if x.dim() == 4:
                    x = x.permute(0, 2, 3, 1)  # back to NHWC order before flattening
                y = x.reshape(d['shape'])
                if y.dim() == 4:
                    y = y.permute(0, 3, 1, 2)
            elif op == 'FULLY_CONNECTED':
                if x.dim() == 4:
                    x = x.permute(0, 2, 3, 1)
                x = x.reshape(1, -1)
                y = self.act(F.linear(x, self.params[d['wi']], self.params[d['wi'] + 1]), d['act'])
            elif op == 'SOFTMAX':
                y = torch.softmax(x * d['beta'], dim=-1)
            vals[d['outputs'][0]] = y
        y = vals[self.out]
        return y.permute(0, 2, 3, 1) if y.dim() == 4 else y


def main(argv):
    if len(argv) < 2:
        sys.exit('usage: seed_to_onnx.py MODEL_float.tflite OUT.onnx [--check INPUT.raw] [--overhead TRIVIAL.onnx]')
    src, dst = argv[0], argv[1]
    check = argv[argv.index('--check') + 1] if '--check' in argv else None
    overhead = argv[argv.index('--overhead') + 1] if '--overhead' in argv else None
    tensors, ops, inp, out = read_tflite(src)
    net = TfliteNet(tensors, ops, inp, out).eval()
    shape = tensors[inp]['shape']
    example = torch.zeros(shape, dtype=torch.float32)
    with torch.no_grad():
        torch.onnx.export(net, example, dst, input_names=['input'], output_names=['output'], opset_version=13,
                          do_constant_folding=True)
    if overhead:
        class Trivial(torch.nn.Module):
            def forward(self, x):
                return F.relu(x)
        with torch.no_grad():
            torch.onnx.export(Trivial().eval(), example, overhead, input_names=['input'], output_names=['output'],
                              opset_version=13)
    if check:
        x = np.fromfile(check, dtype='<f4').reshape(shape)
        with torch.no_grad():
            y = net(torch.from_numpy(x.copy())).reshape(-1).tolist()
        print(json.dumps(y))


if __name__ == '__main__':
    main(sys.argv[1:])
