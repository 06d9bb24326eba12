# The core's cnn (cpp/core/model.cpp, model.kind "cnn") in PyTorch, with the core's parameter and buffer names.
"""A CIFAR-style ResNet (He et al. 2016, "Deep Residual Learning for Image Recognition", section 4.2):

    stem.conv (3x3, 1 -> w)        post only: stem.norm_out, then the activation
    blocks.<b> for 3 stages x depth blocks, widths w, 2w, 4w; stride 2 at the first block of
      stages 2 and 3, where a shortcut (identity / rezero residual only) is a 1x1 conv `shortcut`
      post (ResNet v1):  f = norm_2(conv2(act(norm_1(conv1(x))))),  s = x | norm_sc(shortcut(x)),
                         y = act(R(s, f))
      pre  (ResNet v2, He et al. 2016b, "Identity Mappings in Deep Residual Networks"):
                         a1 = act(norm_1(x)), f = conv2(act(norm_2(conv1(a1)))),  s = x | shortcut(a1),
                         y = R(s, f)
    pre only: norm_f and the activation after the last block; global average pooling; head (Linear)

with R(s, f) = f (none) | s + f (identity) | s + a f (rezero, `rezero` a learned scalar) | f + f
(doubled: the article's `return x + x`). Convs have no bias. Norms: BatchNorm2d (PyTorch's own, so
its running statistics and momentum 0.1 are the reference the core follows), LayerNorm and RMSNorm over
the channels at each position (as ConvNeXt does).

Inputs are the flattened images [B, side*side] of data.make_digits; forward(images, targets) returns
(logits [B, classes], mean cross-entropy or None), as the other kinds.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class ChannelNorm(nn.Module):
    """LayerNorm or RMSNorm over the channels of an NCHW tensor at each position."""

    def __init__(self, kind, c, eps):
        super().__init__()
        self.kind, self.eps = kind, eps
        self.weight = nn.Parameter(torch.ones(c))
        if kind == "layernorm":
            self.bias = nn.Parameter(torch.zeros(c))

    def forward(self, x):
        # contiguous(): torch 1.13's layer_norm backward crashed here (segfault) on the permuted view
        h = x.permute(0, 2, 3, 1).contiguous()
        if self.kind == "layernorm":
            h = F.layer_norm(h, h.shape[-1:], self.weight, self.bias, self.eps)
        else:
            h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight
        return h.permute(0, 3, 1, 2).contiguous()


def make_norm(m, c):
    if m["norm"] == "none":
        return None
    if m["norm"] == "batchnorm":
        return nn.BatchNorm2d(c, eps=m["eps"], momentum=0.1)
    return ChannelNorm(m["norm"], c, m["eps"])


def apply(norm, x):
    """norm(x), or x without a norm. Statistics are taken in float32 (under bf16 autocast too, as CUDA
    autocast does for its norms; CPU autocast in torch 1.13 would hand them bf16 input and fail)."""
    return x if norm is None else norm(x.float())


def activation(m):
    return {"relu": F.relu, "tanh": torch.tanh,
            "gelu": lambda x: F.gelu(x, approximate="tanh")}[m["activation"]]


class Stem(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.conv = nn.Conv2d(1, m["width"], 3, padding=1, bias=False)
        if m["placement"] == "post":
            self.norm_out = make_norm(m, m["width"])


class Block(nn.Module):
    def __init__(self, m, cin, cout, stride):
        super().__init__()
        self.m, self.act, self.pre = m, activation(m), m["placement"] == "pre"
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.norm_1 = make_norm(m, cin if self.pre else cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.norm_2 = make_norm(m, cout)
        shortcut = m["residual"] in ("identity", "rezero")
        self.shortcut = (nn.Conv2d(cin, cout, 1, stride=stride, bias=False)
                         if shortcut and (stride != 1 or cin != cout) else None)
        if self.shortcut is not None and not self.pre:
            self.norm_sc = make_norm(m, cout)
        if m["residual"] == "rezero":
            self.rezero = nn.Parameter(torch.zeros(1))

    def residual(self, s, f):
        r = self.m["residual"]
        if r == "none":
            return f
        if r == "identity":
            return s + f
        if r == "rezero":
            return s + self.rezero * f
        return f + f  # doubled

    def forward(self, x):
        if self.pre:
            a1 = self.act(apply(self.norm_1, x))
            f = self.conv2(self.act(apply(self.norm_2, self.conv1(a1))))
            s = x if self.shortcut is None else self.shortcut(a1)
            return self.residual(s, f)
        f = apply(self.norm_2, self.conv2(self.act(apply(self.norm_1, self.conv1(x)))))
        s = x if self.shortcut is None else apply(getattr(self, "norm_sc", None), self.shortcut(x))
        return self.act(self.residual(s, f))


class ResNet(nn.Module):
    def __init__(self, m, classes):
        super().__init__()
        self.m, self.act = m, activation(m)
        w = m["width"]
        self.stem = Stem(m)
        blocks, cin = [], w
        for stage in range(3):
            cout = w << stage
            for i in range(m["depth"]):
                blocks.append(Block(m, cin, cout, 2 if stage > 0 and i == 0 else 1))
                cin = cout
        self.blocks = nn.ModuleList(blocks)
        if m["placement"] == "pre":
            self.norm_f = make_norm(m, cin)
        self.head = nn.Linear(cin, classes)

    def forward(self, images, targets=None):
        side = int(round(math.sqrt(images.shape[1])))
        x = self.stem.conv(images.reshape(-1, 1, side, side))
        if self.m["placement"] == "post":
            x = self.act(apply(getattr(self.stem, "norm_out", None), x))
        for b in self.blocks:
            x = b(x)
        if self.m["placement"] == "pre":
            x = self.act(apply(getattr(self, "norm_f", None), x))
        logits = self.head(x.mean((2, 3)))
        loss = F.cross_entropy(logits.float(), targets) if targets is not None else None
        return logits, loss
