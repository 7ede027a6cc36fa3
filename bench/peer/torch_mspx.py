#!/usr/bin/env python3
"""torch_mspx: PyTorch reference peer of the mspx multiscale PixelCNN (docs/design.md: the model and the reference configurations).

One file; needs only torch (>= 1.13), numpy and the standard library, plus PIL to fit on photos.
Every subcommand prints one JSON line on stdout; progress goes to stderr.

  python3 torch_mspx.py check                                   # masks, receptive fields, sum to 1
  python3 torch_mspx.py params                                  # parameter counts of the configs
  python3 torch_mspx.py step-bench   --config fashion28 --batch 32 --threads 2 --steps 5
  python3 torch_mspx.py sample-bench --config speed512 --batch 1 --threads 2 --size 128
  python3 torch_mspx.py fit --config fashion28 --data-dir /usr/share/datasets/fashion-mnist --minutes 15
  python3 torch_mspx.py fit --config fashion28 --steps 2312          # equal steps, to compare runs
  python3 torch_mspx.py fit --config photo32 --photos /usr/share/backgrounds --minutes 15
  python3 torch_mspx.py score --export model.npz --images images.npy [--labels labels.npy]

Configs: fashion28, fashion28-labelled, fashion28-raster, photo32, photo32-raster, speed512 (and tiny-*
ones for `check`). `score` builds its model from the spec inside an `mspx export` file instead.
`fit` trains the fashion28* configs on Fashion-MNIST (Debian package dataset-fashion-mnist) and the
photo32* configs on 32 x 32 tiles of the photos in --photos (Debian package lomiri-wallpapers-16.04;
the split and tiling rule is docs/design.md's, see load_photo_tiles).
"""

import argparse
import dataclasses
import gzip
import json
import math
import os
import re
import statistics
import struct
import sys
import time
from collections import deque
from typing import Optional

# Debian's torch runs its small (batch-1) convolutions through OpenBLAS, whose own spinning thread
# pool fights torch's OpenMP threads on a small machine (10x latency spikes). Keep it at one thread
# so that --threads alone sets the parallelism. Must happen before numpy or torch loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LN2 = math.log(2.0)
# (row, col) offset of the pixel groups G1..G4 inside every 2x2 block of x_2r.
GROUP_OFFSETS = ((0, 0), (0, 1), (1, 0), (1, 1))


# ------------------------------------------------------------------------------ configurations

@dataclasses.dataclass(frozen=True)
class Config:
    name: str
    channels: int               # C: 1 (grey) or 3 (RGB)
    size: int                   # H = W of the full image
    base: Optional[int]         # base resolution b of the multiscale model; None: raster baseline
    layers: int                 # gated layers of the base (or raster) PixelCNN
    filters: int                # F of the gated layers, also the hidden width of its output head
    kernel: int = 5
    up_filters: int = 0         # F of every upscaling group net: trunk width and head hidden width
    up_blocks: int = 4          # R residual blocks per trunk
    levels: int = 256           # L
    classes: int = 0            # > 0: class-conditional (a learned per-layer bias)
    patch: int = 0              # > 0: type-B upscaling over patch x patch patches of each group

    @property
    def multiscale(self) -> bool:
        return self.base is not None


CONFIGS = {c.name: c for c in [
    Config("fashion28", 1, 28, base=7, layers=6, filters=64, up_filters=64),
    Config("fashion28-labelled", 1, 28, base=7, layers=6, filters=64, up_filters=64, classes=10),
    Config("fashion28-raster", 1, 28, base=None, layers=12, filters=64),
    Config("photo32", 3, 32, base=8, layers=6, filters=96, up_filters=96),
    Config("photo32-raster", 3, 32, base=None, layers=12, filters=96),
    Config("speed512", 3, 512, base=8, layers=6, filters=64, up_filters=64),
    # Tiny models for `check`: L = 2 so that every image can be enumerated.
    Config("tiny-raster", 1, 4, base=None, layers=3, filters=8, kernel=3, levels=2, classes=3),
    Config("tiny-ms", 1, 4, base=2, layers=2, filters=8, kernel=3, up_filters=8, up_blocks=1,
           levels=2, classes=3),
    Config("tiny-ms-b1", 1, 4, base=1, layers=2, filters=8, kernel=3, up_filters=8, up_blocks=1,
           levels=2),
    Config("tiny-rgb-raster", 3, 2, base=None, layers=2, filters=12, kernel=3, levels=2),
    Config("tiny-rgb-ms", 3, 2, base=1, layers=2, filters=12, kernel=3, up_filters=12, up_blocks=1,
           levels=2),
]}
NAMED = ["fashion28", "fashion28-raster", "photo32", "photo32-raster", "speed512"]


def build_model(cfg: Config) -> nn.Module:
    if cfg.multiscale:
        return MultiscalePixelCNN(cfg)
    return GatedPixelCNN(cfg.channels, cfg.levels, cfg.layers, cfg.filters, cfg.kernel, cfg.classes)


# ------------------------------------------------------------------------------ masks and layers

def scale(x: torch.Tensor, levels: int, dtype: torch.dtype) -> torch.Tensor:
    """Integer levels 0..L-1 to [-1, 1]."""
    return x.to(dtype) * (2.0 / (levels - 1)) - 1.0


def colour_groups(units: int, colours: int) -> torch.Tensor:
    """Colour (0..C-1) owning each of `units` feature maps: contiguous blocks, floor(i*C/units).

    For the image (units = C) that is the channel itself; for logits (units = C*L) it is i // L.
    """
    return torch.arange(units) * colours // units


def channel_mask(out_groups: torch.Tensor, in_groups: torch.Tensor, strict: bool) -> torch.Tensor:
    """[out, in] connections allowed at a pixel's own position: an output of colour c sees inputs of
    colour < c (strict: mask A) or <= c (mask B)."""
    if strict:
        return out_groups[:, None] > in_groups[None, :]
    return out_groups[:, None] >= in_groups[None, :]


def init_uniform(weight: torch.Tensor, bias: torch.Tensor, fan_in: int) -> None:
    """Weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's own conv default)."""
    bound = 1.0 / math.sqrt(fan_in)
    nn.init.uniform_(weight, -bound, bound)
    nn.init.uniform_(bias, -bound, bound)


def conv(cin: int, cout: int, k: int) -> nn.Conv2d:
    """Plain stride-1 'same' convolution (no mask)."""
    layer = nn.Conv2d(cin, cout, k, padding=k // 2)
    init_uniform(layer.weight, layer.bias, cin * k * k)
    return layer


class MaskedConv2d(nn.Module):
    """Stride-1 'same' convolution whose [out, in, k, k] weight is multiplied by a fixed 0/1 mask.

    The weight is stored at full k x k (as the design's SPI convolution with a weight mask), but the
    forward pass only convolves over the bounding box of the mask's non-zero taps, with asymmetric
    zero padding: the same function as the full masked convolution, minus most multiplications by 0.
    fan_in for the initialisation = in_channels * taps in that bounding box.
    """

    def __init__(self, cin: int, cout: int, k: int, mask: torch.Tensor):
        super().__init__()
        assert mask.shape == (cout, cin, k, k), (mask.shape, (cout, cin, k, k))
        self.weight = nn.Parameter(torch.empty(cout, cin, k, k))
        self.bias = nn.Parameter(torch.empty(cout))
        self.register_buffer("mask", mask.to(torch.get_default_dtype()))
        taps = mask.flatten(0, 1).any(0)                      # [k, k]: tap used by any (out, in)
        rows = taps.any(1).nonzero().flatten()
        cols = taps.any(0).nonzero().flatten()
        self.r0, self.r1 = int(rows.min()), int(rows.max()) + 1
        self.c0, self.c1 = int(cols.min()), int(cols.max()) + 1
        p = k // 2
        # F.pad order: left, right, top, bottom (negative = crop)
        self.pad = (p - self.c0, self.c1 - 1 - p, p - self.r0, self.r1 - 1 - p)
        init_uniform(self.weight, self.bias, cin * (self.r1 - self.r0) * (self.c1 - self.c0))
        self._cached_key, self._cached = None, None

    def masked_weight(self) -> torch.Tensor:
        """The cropped masked kernel; cached while gradients are off (sampling, evaluation) for as
        long as the weight is unchanged."""
        if torch.is_grad_enabled():
            return (self.weight * self.mask)[:, :, self.r0:self.r1, self.c0:self.c1]
        key = (self.weight._version, self.weight.data_ptr(), self.weight.dtype)
        if key != self._cached_key:
            w = (self.weight * self.mask)[:, :, self.r0:self.r1, self.c0:self.c1]
            self._cached_key, self._cached = key, w.contiguous()
        return self._cached

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.pad(x, self.pad), self.masked_weight(), self.bias)


class ClassBias(nn.Module):
    """Global conditioning: adds a learned bias per class to a layer's feature maps (zero at
    initialisation, so a conditional model starts as the unconditional one); the identity when the
    model is unconditional or no labels are given."""

    def __init__(self, classes: int, width: int):
        super().__init__()
        self.table = nn.Embedding(classes, width) if classes else None
        if self.table is not None:
            nn.init.zeros_(self.table.weight)

    def forward(self, x: torch.Tensor, labels: Optional[torch.Tensor]) -> torch.Tensor:
        if self.table is None or labels is None:
            return x
        return x + self.table(labels)[:, :, None, None]


def gate(pre: torch.Tensor) -> torch.Tensor:
    """tanh(a) * sigmoid(b) for pre = [a | b] along channels."""
    a, b = pre.chunk(2, dim=1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    """One layer of the gated PixelCNN (van den Oord et al. 2016), vertical and horizontal stacks.

    Vertical stack: k x k taps in the rows strictly above (first layer, mask A) or in the rows above
    and the centre row of the vertical features (mask B; they depend only on rows above), so the
    vertical features at (i, j) only ever see image rows < i and feed the horizontal stack unshifted.
    Horizontal stack: the centre row, columns left of centre, plus the centre tap under the colour
    mask (strict in the first layer). Horizontal output: masked 1x1 conv, residual after layer 1.
    """

    def __init__(self, cin: int, filters: int, k: int, colours: int, first: bool, classes: int):
        super().__init__()
        p = k // 2
        g_in = colour_groups(cin, colours)
        g_feat = colour_groups(filters, colours)
        g_pre = torch.cat([g_feat, g_feat])                   # tanh half, sigmoid half
        vmask = torch.zeros(2 * filters, cin, k, k, dtype=torch.bool)
        vmask[:, :, :p if first else p + 1, :] = True
        hmask = torch.zeros(2 * filters, cin, k, k, dtype=torch.bool)
        hmask[:, :, p, :p] = True
        hmask[:, :, p, p] = channel_mask(g_pre, g_in, strict=first)
        self.v_conv = MaskedConv2d(cin, 2 * filters, k, vmask)
        self.h_conv = MaskedConv2d(cin, 2 * filters, k, hmask)
        self.v_to_h = conv(2 * filters, 2 * filters, 1)         # vertical sees rows < i only: no mask
        self.h_out = MaskedConv2d(filters, filters, 1,
                                  channel_mask(g_feat, g_feat, strict=False)[:, :, None, None])
        self.v_cond = ClassBias(classes, 2 * filters)
        self.h_cond = ClassBias(classes, 2 * filters)
        self.residual = not first

    def forward(self, v, h, labels):
        v_pre = self.v_cond(self.v_conv(v), labels)
        h_pre = self.h_cond(self.h_conv(h) + self.v_to_h(v_pre), labels)
        h_new = self.h_out(gate(h_pre))
        return gate(v_pre), (h + h_new if self.residual else h_new)


# ------------------------------------------------------------------------------ models

def sample_categorical(logits: torch.Tensor, generator) -> torch.Tensor:
    """One draw per row of softmax(logits) over the last dimension."""
    probs = torch.softmax(logits, dim=-1)
    flat = probs.reshape(-1, probs.shape[-1])
    return torch.multinomial(flat, 1, generator=generator).view(probs.shape[:-1])


class GatedPixelCNN(nn.Module):
    """Gated PixelCNN: the base net of the multiscale model and the full-resolution raster baseline.

    Input: integer images [B, C, H, W]; output: logits [B, C, L, H, W]; generation order: raster,
    then R -> G -> B inside a pixel. Output head: ReLU, masked 1x1 to F, ReLU, masked 1x1 to C*L.
    """

    def __init__(self, channels: int, levels: int, layers: int, filters: int, kernel: int = 5,
                 classes: int = 0):
        super().__init__()
        self.channels, self.levels = channels, levels
        self.layers = nn.ModuleList(
            GatedLayer(channels if i == 0 else filters, filters, kernel, channels, i == 0, classes)
            for i in range(layers))
        g_feat = colour_groups(filters, channels)
        g_out = colour_groups(channels * levels, channels)
        self.out1 = MaskedConv2d(filters, filters, 1,
                                 channel_mask(g_feat, g_feat, strict=False)[:, :, None, None])
        self.out2 = MaskedConv2d(filters, channels * levels, 1,
                                 channel_mask(g_out, g_feat, strict=False)[:, :, None, None])

    def logits(self, s: torch.Tensor, labels=None) -> torch.Tensor:
        """Logits from an image already scaled to [-1, 1] (differentiable in s)."""
        v = h = s
        for layer in self.layers:
            v, h = layer(v, h, labels)
        out = self.out2(F.relu(self.out1(F.relu(h))))
        b, _, hh, ww = out.shape
        return out.view(b, self.channels, self.levels, hh, ww)

    def forward(self, x: torch.Tensor, labels=None) -> torch.Tensor:
        return self.logits(scale(x, self.levels, self.out2.weight.dtype), labels)

    def nll_terms(self, x, labels=None):
        """[(logits, target)] whose cross-entropies sum to -log p(x)."""
        return [(self(x, labels), x)]

    def full_logits(self, x, labels=None):
        return self(x, labels)

    def generation_steps(self, size: int) -> torch.Tensor:
        """[C, size, size]: the step at which each sub-pixel is generated."""
        c = self.channels
        return torch.arange(size * size * c).view(size, size, c).permute(2, 0, 1)

    @torch.no_grad()
    def sample(self, n: int, size: int, labels=None, generator=None, stop_after=None):
        """Raster-order sampling: one full network evaluation per sub-pixel, no caching.

        Returns (images uint8 [n, C, size, size], sub-pixels sampled); stops early once `stop_after`
        seconds have passed (benchmarks only)."""
        x = torch.zeros(n, self.channels, size, size, dtype=torch.uint8)
        start, done = time.perf_counter(), 0
        for i in range(size):
            for j in range(size):
                for c in range(self.channels):
                    logits = self(x, labels)[:, c, :, i, j]
                    x[:, c, i, j] = sample_categorical(logits, generator).to(torch.uint8)
                    done += 1
                    if stop_after is not None and time.perf_counter() - start > stop_after:
                        return x, done
        return x, done


class ResidualBlock(nn.Module):
    """x + conv3x3(ReLU(conv3x3(ReLU(x)) + bias1)) + bias2, biases from the class."""

    def __init__(self, filters: int, classes: int):
        super().__init__()
        self.conv1, self.conv2 = conv(filters, filters, 3), conv(filters, filters, 3)
        self.cond1, self.cond2 = ClassBias(classes, filters), ClassBias(classes, filters)

    def forward(self, x, labels):
        h = self.cond1(self.conv1(F.relu(x)), labels)
        return x + self.cond2(self.conv2(F.relu(h)), labels)


class UpscaleGroupNet(nn.Module):
    """The network of pixel group g (2, 3 or 4) of one upscaling r -> 2r ("type A", Reed et al. 2017).

    trunk: earlier groups stacked as C*(g-1) channels at r x r -> 3x3 conv to F -> R residual blocks;
    no spatial mask, as everything it sees is known. head: [ReLU(trunk), own sub-pixels] -> masked
    1x1 to F hidden (colour c's hidden units see own channels < c) -> ReLU -> masked 1x1 to C*L.
    """

    def __init__(self, channels: int, levels: int, group: int, filters: int, blocks: int,
                 classes: int = 0, patch: int = 0):
        super().__init__()
        self.channels, self.levels, self.patch = channels, levels, patch
        self.stem = conv(channels * (group - 1), filters, 3)
        self.stem_cond = ClassBias(classes, filters)
        self.blocks = nn.ModuleList(ResidualBlock(filters, classes) for _ in range(blocks))
        g_hidden = colour_groups(filters, channels)
        g_out = colour_groups(channels * levels, channels)
        if patch:
            # Type B: trunk features through an unmasked 1x1, own sub-pixels through a 1x1 between
            # space-to-depth layouts of the patch (mspx's order: channel (u*M + v)*C + c), where place
            # p of a patch sees all colours of places < p and its own colours < c.
            m2 = patch * patch
            place_out = torch.arange(filters * m2) // filters
            colour_out = g_hidden.repeat(m2)
            place_in = torch.arange(channels * m2) // channels
            colour_in = torch.arange(channels).repeat(m2)
            pmask = (place_in[None, :] < place_out[:, None]) | (
                (place_in[None, :] == place_out[:, None]) & (colour_in[None, :] < colour_out[:, None]))
            self.head1_features = conv(filters, filters, 1)
            self.head1_own = MaskedConv2d(channels * m2, filters * m2, 1, pmask[:, :, None, None])
        else:
            mask1 = torch.ones(filters, filters + channels, 1, 1, dtype=torch.bool)
            mask1[:, filters:, 0, 0] = channel_mask(g_hidden, torch.arange(channels), strict=True)
            self.head1 = MaskedConv2d(filters + channels, filters, 1, mask1)
        self.head2 = MaskedConv2d(filters, channels * levels, 1,
                                  channel_mask(g_out, g_hidden, strict=False)[:, :, None, None])

    def trunk(self, context: torch.Tensor, labels=None) -> torch.Tensor:
        """Features from the scaled earlier groups; independent of the group's own pixels."""
        h = self.stem_cond(self.stem(context), labels)
        for block in self.blocks:
            h = block(h, labels)
        return h

    def head(self, features: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
        """Logits [B, C, L, r, r] from trunk features and the group's own scaled sub-pixels."""
        if self.patch:
            m = self.patch
            b, c, r, w = own.shape
            # space-to-depth in mspx's channel order (dy*M + dx)*C + c, and its inverse
            blocks = own.view(b, c, r // m, m, w // m, m).permute(0, 3, 5, 1, 2, 4)
            patched = self.head1_own(blocks.reshape(b, m * m * c, r // m, w // m))
            f = patched.shape[1] // (m * m)
            unpatched = patched.view(b, m, m, f, r // m, w // m).permute(0, 3, 4, 1, 5, 2)
            h = F.relu(self.head1_features(F.relu(features)) + unpatched.reshape(b, f, r, w))
        else:
            h = F.relu(self.head1(torch.cat([F.relu(features), own], dim=1)))
        out = self.head2(h)
        b, _, r, w = out.shape
        return out.view(b, self.channels, self.levels, r, w)

    def _scale(self, x):
        return scale(x, self.levels, self.head2.weight.dtype)

    def forward(self, context: torch.Tensor, own: torch.Tensor, labels=None) -> torch.Tensor:
        return self.head(self.trunk(self._scale(context), labels), self._scale(own))

    @torch.no_grad()
    def sample(self, context: torch.Tensor, labels=None, generator=None) -> torch.Tensor:
        """One trunk evaluation, then C head evaluations, drawing colour channel by channel."""
        if self.patch:
            raise NotImplementedError("the peer scores type-B models (score) but does not sample them")
        features = self.trunk(self._scale(context), labels)
        n, _, r, w = context.shape
        own = torch.zeros(n, self.channels, r, w, dtype=torch.uint8)
        for c in range(self.channels):
            logits = self.head(features, self._scale(own))[:, c]          # [B, L, r, r]
            own[:, c] = sample_categorical(logits.movedim(1, -1), generator).to(torch.uint8)
        return own


class MultiscalePixelCNN(nn.Module):
    """Parallel multiscale PixelCNN: a gated PixelCNN on x_b, then for every upscaling r -> 2r three
    group nets for G2, G3, G4 (G1 = x_r). x_r = x[::H/r, ::H/r]. Works on any pyramid prefix: an
    image of size b*2^k uses the first k upscalings."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.channels, self.levels, self.base_size = cfg.channels, cfg.levels, cfg.base
        self.max_upscalings = round(math.log2(cfg.size / cfg.base))
        if cfg.base << self.max_upscalings != cfg.size:
            raise ValueError(f"{cfg.name}: size {cfg.size} is not base {cfg.base} times a power of 2")
        self.base = GatedPixelCNN(cfg.channels, cfg.levels, cfg.layers, cfg.filters, cfg.kernel,
                                  cfg.classes)
        self.upscalers = nn.ModuleList(
            nn.ModuleList(UpscaleGroupNet(cfg.channels, cfg.levels, g, cfg.up_filters,
                                          cfg.up_blocks, cfg.classes, cfg.patch) for g in (2, 3, 4))
            for _ in range(self.max_upscalings))

    def _upscalings(self, size: int) -> int:
        """Number of upscalings from the base to `size` (a level of the model's pyramid)."""
        sizes = [self.base_size << k for k in range(self.max_upscalings + 1)]
        if size not in sizes:
            raise ValueError(f"size {size} is not a level of this model's pyramid {sizes}")
        return sizes.index(size)

    def nll_terms(self, x, labels=None):
        """[(logits, target)] for x_b and every group of every upscaling; the cross-entropies sum
        to -log p(x), all computed in parallel from the one full-resolution image."""
        size, b = x.shape[-1], self.base_size
        xb = x[:, :, ::size // b, ::size // b]
        terms = [(self.base(xb, labels), xb)]
        for k in range(self._upscalings(size)):
            s = size // (2 * (b << k))
            x2r = x[:, :, ::s, ::s]
            groups = [x2r[:, :, dy::2, dx::2] for dy, dx in GROUP_OFFSETS]
            for g, net in enumerate(self.upscalers[k], start=1):
                terms.append((net(torch.cat(groups[:g], dim=1), groups[g], labels), groups[g]))
        return terms

    def piece_slices(self, size: int):
        """(rows, cols) slices of the full image covered by each term of nll_terms, in order."""
        b = self.base_size
        pieces = [(slice(None, None, size // b),) * 2]
        for k in range(self._upscalings(size)):
            s = size // (2 * (b << k))
            for dy, dx in GROUP_OFFSETS[1:]:
                pieces.append((slice(dy * s, None, 2 * s), slice(dx * s, None, 2 * s)))
        return pieces

    def forward(self, x, labels=None):
        return self.full_logits(x, labels)

    def full_logits(self, x, labels=None):
        """Logits [B, C, L, H, W] of every sub-pixel, each from the term that models it."""
        n, c, h, w = x.shape
        out = None
        for (logits, _), (rows, cols) in zip(self.nll_terms(x, labels), self.piece_slices(h)):
            if out is None:
                out = logits.new_zeros(n, c, self.levels, h, w)
            out[..., rows, cols] = logits
        return out

    def generation_steps(self, size: int) -> torch.Tensor:
        """[C, size, size]: base raster order, then upscaling by upscaling, group by group, channel
        by channel (all pixels of one group channel share a step)."""
        c, b = self.channels, self.base_size
        steps = torch.empty(c, size, size, dtype=torch.long)
        pieces = self.piece_slices(size)
        steps[(slice(None),) + pieces[0]] = self.base.generation_steps(b)
        t = b * b * c
        for rows, cols in pieces[1:]:
            steps[:, rows, cols] = (t + torch.arange(c)).view(c, 1, 1)
            t += c
        return steps

    @torch.no_grad()
    def sample(self, n: int, size: int, labels=None, generator=None, timings=None):
        """Multiscale sampling up to `size`; appends (stage, seconds) to `timings` if given."""
        t0 = time.perf_counter()
        x, _ = self.base.sample(n, self.base_size, labels, generator)
        if timings is not None:
            timings.append((f"base{self.base_size}", time.perf_counter() - t0))
        for k in range(self._upscalings(size)):
            t0 = time.perf_counter()
            groups = [x]
            for net in self.upscalers[k]:
                groups.append(net.sample(torch.cat(groups, dim=1), labels, generator))
            r = x.shape[-1]
            x = torch.empty(n, self.channels, 2 * r, 2 * r, dtype=torch.uint8)
            for (dy, dx), group in zip(GROUP_OFFSETS, groups):
                x[:, :, dy::2, dx::2] = group
            if timings is not None:
                timings.append((f"{r}->{2 * r}", time.perf_counter() - t0))
        return x


# ------------------------------------------------------------------------------ likelihood, training

def nats_per_image(model, x, labels=None) -> torch.Tensor:
    """-log p(x) in nats, one value per image: the sum of every term's softmax cross-entropy."""
    total = 0.0
    for logits, target in model.nll_terms(x, labels):
        n, c, levels, h, w = logits.shape
        ce = F.cross_entropy(logits.reshape(n * c, levels, h, w),
                             target.reshape(n * c, h, w).long(), reduction="none")
        total = total + ce.view(n, -1).sum(1)
    return total


def bits_per_dim(nats: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return nats / (x[0].numel() * LN2)


def train_step(model, optimiser, x, labels=None) -> float:
    """Forward, loss (mean bits/dim of the batch), backward, Adam update; returns the loss."""
    optimiser.zero_grad(set_to_none=True)
    loss = bits_per_dim(nats_per_image(model, x, labels), x).mean()
    loss.backward()
    optimiser.step()
    return loss.item()


def count_parameters(model: nn.Module) -> dict:
    """stored: every trainable number; effective: those not forced to zero by a mask."""
    stored = sum(p.numel() for p in model.parameters())
    masked_out = sum(int(m.mask.numel() - m.mask.sum().item())
                     for m in model.modules() if isinstance(m, MaskedConv2d))
    result = {"stored": stored, "effective": stored - masked_out}
    if isinstance(model, MultiscalePixelCNN):
        result["base_effective"] = count_parameters(model.base)["effective"]
        result["per_group_net_effective"] = [count_parameters(net)["effective"]
                                             for net in model.upscalers[0]]
    return result


def read_idx(path: str) -> np.ndarray:
    """A gzipped IDX file (the MNIST format) as a uint8 array."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file (header {data[:4].hex()})")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_file(data_dir: str, name: str) -> str:
    for root, _, files in os.walk(data_dir):
        if name in files:
            return os.path.join(root, name)
    raise FileNotFoundError(f"{name} not found under {data_dir}; expected the gzipped Fashion-MNIST "
                            f"IDX files (Debian package dataset-fashion-mnist)")


def load_fashion_mnist(data_dir: str, split: str):
    """(images uint8 [N, 1, 28, 28], labels long [N]) for split 'train' or 't10k'."""
    images = read_idx(find_file(data_dir, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(find_file(data_dir, f"{split}-labels-idx1-ubyte.gz"))
    return torch.from_numpy(images.copy()).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
TEST_PHOTOS = 3                                 # the last 3 photos by file name are the test split


def list_photos(photo_dir: str) -> list:
    """Photo files (*.jpg, *.jpeg, *.png, any case) directly inside photo_dir (not in sub-folders),
    sorted by file name in code-point order (= byte order of UTF-8 names, `LC_ALL=C ls`, Java's
    String.compareTo): upper-case names sort before lower-case ones."""
    if not os.path.isdir(photo_dir):
        raise SystemExit(f"{photo_dir}: no such folder; expected the photos of the Debian package "
                         f"lomiri-wallpapers-16.04 (apt-get install lomiri-wallpapers-16.04, or "
                         f"apt-get download it and dpkg -x it, then pass --photos DIR/usr/share/backgrounds)")
    names = sorted(n for n in os.listdir(photo_dir) if n.lower().endswith(PHOTO_SUFFIXES)
                   and os.path.isfile(os.path.join(photo_dir, n)))
    if len(names) <= TEST_PHOTOS:
        raise SystemExit(f"{photo_dir}: {len(names)} photos (*.jpg, *.jpeg, *.png); need more than "
                         f"{TEST_PHOTOS}, as the last {TEST_PHOTOS} are the test split")
    return names


def decode_rgb(path: str) -> np.ndarray:
    """A photo as uint8 [H, W, 3]: PIL's decoder (full resolution, no EXIF rotation, no colour
    management); grey and palette images expanded to RGB, an alpha channel dropped (not composited)."""
    from PIL import Image                       # only `fit` on photos needs PIL
    try:
        with Image.open(path) as im:
            if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                # PIL would clip these to 0..255 instead of rescaling them: refuse rather than guess.
                raise SystemExit(f"{path}: {im.mode} (16-bit or float) images are not supported; "
                                 f"convert it to 8 bits per channel")
            return np.asarray(im.convert("RGB"), dtype=np.uint8)
    except OSError as e:
        raise SystemExit(f"{path}: cannot decode this photo ({e})") from e


def box_downsample2(img: np.ndarray) -> np.ndarray:
    """[H, W, C] -> [H//2, W//2, C]: mean of each 2x2 block, rounded half to even; an odd last row
    or column is dropped. Integer arithmetic: sum = 4q + r, mean = q + r/4."""
    h, w = img.shape[0] // 2 * 2, img.shape[1] // 2 * 2
    x = img[:h, :w].astype(np.uint16)
    total = x[0::2, 0::2] + x[0::2, 1::2] + x[1::2, 0::2] + x[1::2, 1::2]
    q, r = total >> 2, total & 3
    up = (r == 3) | ((r == 2) & (q % 2 == 1))   # .75 up; .5 up only to reach an even value
    return (q + up).astype(np.uint8)


def cut_tiles(img: np.ndarray, size: int) -> np.ndarray:
    """[H, W, C] -> [N, C, size, size]: non-overlapping tiles from the top-left corner, row by row
    (left to right, then top to bottom); partial tiles at the right and bottom edges dropped."""
    rows, cols, c = img.shape[0] // size, img.shape[1] // size, img.shape[2]
    grid = img[:rows * size, :cols * size].reshape(rows, size, cols, size, c)
    return np.ascontiguousarray(grid.transpose(0, 2, 4, 1, 3).reshape(rows * cols, c, size, size))


def load_photo_tiles(photo_dir: str, size: int):
    """(train uint8 [N, 3, size, size], test uint8 [M, 3, size, size], info) per docs/design.md: photos
    sorted by file name, the last 3 the test split and the rest train; each decoded to RGB,
    box-downsampled by 2 and cut into size x size tiles. Tiles are in photo order, then row-major."""
    names = list_photos(photo_dir)
    splits = {"train": names[:-TEST_PHOTOS], "test": names[-TEST_PHOTOS:]}
    out, tiles_per_photo = {}, {}
    for split, members in splits.items():
        parts = []
        for name in members:
            parts.append(cut_tiles(box_downsample2(decode_rgb(os.path.join(photo_dir, name))), size))
            tiles_per_photo[name] = len(parts[-1])
            print(f"photos: {split} {name}: {len(parts[-1])} tiles", file=sys.stderr, flush=True)
        out[split] = torch.from_numpy(np.concatenate(parts))
    # The level sums are layout-free fingerprints of the decoded, downsampled tiles: another
    # implementation of this rule (same decoder) must reproduce them exactly.
    info = {"dir": os.path.abspath(photo_dir), "photos": len(names),
            "test_photos": splits["test"], "tiles_per_photo": tiles_per_photo,
            "train_tiles": len(out["train"]), "test_tiles": len(out["test"]),
            "train_level_sum": int(out["train"].sum(dtype=torch.int64)),
            "test_level_sum": int(out["test"].sum(dtype=torch.int64))}
    return out["train"], out["test"], info


# ------------------------------------------------------------------------------ checks

def reinit_for_checks(model: nn.Module, gain: float = 4.0) -> nn.Module:
    """float64, weights scaled up so the distributions are far from uniform, random class biases."""
    model.double()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("table.weight"):
                p.normal_(0.0, 1.0)
            else:
                p.mul_(gain)
    return model


def random_images(n, cfg, size, generator):
    return torch.randint(0, cfg.levels, (n, cfg.channels, size, size), generator=generator,
                         dtype=torch.uint8)


def causality_check(cfg: Config, size: int, max_steps: Optional[int], generator) -> dict:
    """For steps p: perturb every sub-pixel generated at step >= p; the logits of every sub-pixel at
    steps <= p must stay bit-identical (all steps, or max_steps evenly spread ones)."""
    model = build_model(cfg).eval()
    labels = (torch.randint(0, cfg.classes, (2,), generator=generator) if cfg.classes else None)
    x = random_images(2, cfg, size, generator)
    steps = model.generation_steps(size)
    n_steps = int(steps.max()) + 1
    tested = range(n_steps) if max_steps is None or max_steps >= n_steps else \
        sorted({round(i * (n_steps - 1) / (max_steps - 1)) for i in range(max_steps)})
    with torch.no_grad():
        reference = model.full_logits(x, labels).permute(0, 1, 3, 4, 2)   # [B, C, H, W, L]
        violations, max_diff, later_moved = 0, 0.0, 0
        for p in tested:
            later = steps >= p
            # In place on a clone: same strides as x, so both runs take the same conv kernels
            # (a channels-last input would take another oneDNN kernel and round differently).
            x2 = x.clone()
            shift = torch.randint(1, cfg.levels, x2[:, later].shape, generator=generator)
            x2[:, later] = ((x2[:, later].long() + shift) % cfg.levels).to(torch.uint8)
            logits = model.full_logits(x2, labels).permute(0, 1, 3, 4, 2)
            keep = steps <= p
            a, b = reference[:, keep], logits[:, keep]
            if not torch.equal(a, b):
                violations += 1
                max_diff = max(max_diff, float((a - b).abs().max()))
            after = steps > p
            if after.any() and not torch.equal(reference[:, after], logits[:, after]):
                later_moved += 1
    return {"config": cfg.name, "size": size, "steps": n_steps, "tested": len(tested),
            "violations": violations, "max_abs_diff": max_diff,
            "later_predictions_moved": later_moved, "ok": violations == 0}


def gated_receptive_field_check(cfg: Config, size: int, generator, positions=4) -> dict:
    """Gradient of one sub-pixel's logits w.r.t. the input: non-zero exactly on the earlier
    sub-pixels inside the receptive field (rows i-n*p..i-1 x cols j-n*p..j+n*p, row i left of j
    within n*p, own channels < c), zero everywhere else: no blind spot and no leak."""
    net = build_model(cfg)
    net = net.base if isinstance(net, MultiscalePixelCNN) else net
    reinit_for_checks(net, gain=1.0)
    reach = cfg.layers * (cfg.kernel // 2)
    c_, h_ = cfg.channels, size
    failures = 0
    for _ in range(positions):
        c = int(torch.randint(0, c_, (1,), generator=generator))
        i = int(torch.randint(0, h_, (1,), generator=generator))
        j = int(torch.randint(0, h_, (1,), generator=generator))
        s = (torch.rand(1, c_, h_, h_, generator=generator, dtype=torch.float64) * 2 - 1)
        s.requires_grad_(True)
        weights = torch.randn(cfg.levels, generator=generator, dtype=torch.float64)
        (net.logits(s)[0, c, :, i, j] * weights).sum().backward()
        expected = torch.zeros(c_, h_, h_, dtype=torch.bool)
        expected[:, max(0, i - reach):i, max(0, j - reach):j + reach + 1] = True
        expected[:, i, max(0, j - reach):j] = True
        expected[:c, i, j] = True
        failures += int(not torch.equal(s.grad[0] != 0, expected))
    return {"config": cfg.name, "net": "gated", "size": size, "positions": positions,
            "failures": failures, "ok": failures == 0}


def group_receptive_field_check(cfg: Config, size: int, generator, positions=4) -> dict:
    """For every group net of the first upscaling: a group pixel's logits depend on the context
    within the trunk's reach (1 + 2R) around it, and on its own pixel's channels < c only."""
    model = reinit_for_checks(build_model(cfg), gain=1.0)
    reach = 1 + 2 * cfg.up_blocks
    failures = 0
    for g, net in enumerate(model.upscalers[0], start=2):
        for _ in range(positions):
            c = int(torch.randint(0, cfg.channels, (1,), generator=generator))
            i = int(torch.randint(0, size, (1,), generator=generator))
            j = int(torch.randint(0, size, (1,), generator=generator))
            ctx = torch.rand(1, cfg.channels * (g - 1), size, size, generator=generator,
                             dtype=torch.float64).mul(2).sub(1).requires_grad_(True)
            own = torch.rand(1, cfg.channels, size, size, generator=generator,
                             dtype=torch.float64).mul(2).sub(1).requires_grad_(True)
            weights = torch.randn(cfg.levels, generator=generator, dtype=torch.float64)
            (net.head(net.trunk(ctx), own)[0, c, :, i, j] * weights).sum().backward()
            want_ctx = torch.zeros(ctx.shape[1:], dtype=torch.bool)
            want_ctx[:, max(0, i - reach):i + reach + 1, max(0, j - reach):j + reach + 1] = True
            want_own = torch.zeros(own.shape[1:], dtype=torch.bool)
            want_own[:c, i, j] = True
            failures += int(not (torch.equal(ctx.grad[0] != 0, want_ctx)
                                 and torch.equal(own.grad[0] != 0, want_own)))
    return {"config": cfg.name, "net": "upscale groups", "size": size,
            "positions": 3 * positions, "failures": failures, "ok": failures == 0}


def all_images(cfg: Config) -> torch.Tensor:
    """Every image of the config: L^(C*H*W) of them, as uint8 [N, C, H, W]."""
    dims = cfg.channels * cfg.size * cfg.size
    codes = torch.arange(cfg.levels ** dims)
    digits = (codes[:, None] // cfg.levels ** torch.arange(dims)) % cfg.levels
    return digits.to(torch.uint8).view(-1, cfg.channels, cfg.size, cfg.size)


def exact_log_probs(model, cfg: Config, label: Optional[int]) -> torch.Tensor:
    images = all_images(cfg)
    out = []
    with torch.no_grad():
        for chunk in images.split(8192):
            labels = torch.full((len(chunk),), label) if label is not None else None
            out.append(-nats_per_image(model, chunk, labels))
    return torch.cat(out)


def normalisation_check(cfg: Config, generator) -> dict:
    """With L = 2, the probabilities of all images sum to 1."""
    torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator)))
    model = reinit_for_checks(build_model(cfg)).eval()
    label = 1 if cfg.classes else None
    logp = exact_log_probs(model, cfg, label)
    total = float(torch.logsumexp(logp, 0).exp())
    entropy_bits = float(-(logp.exp() * logp).sum() / LN2)
    return {"config": cfg.name, "images": len(logp), "total_probability": total,
            "abs_error": abs(total - 1.0), "entropy_bits_per_dim": entropy_bits / cfg.size ** 2
            / cfg.channels, "ok": abs(total - 1.0) < 1e-4}


def sampler_check(cfg: Config, generator, draws=200_000) -> dict:
    """The sampler draws from the distribution the evaluator scores: chi-square of the counts of
    `draws` samples against the exact probabilities of every image (bins with < 5 expected merged)."""
    torch.manual_seed(int(torch.randint(0, 2**31, (1,), generator=generator)))
    model = reinit_for_checks(build_model(cfg)).eval()
    probs = exact_log_probs(model, cfg, None).exp()
    if isinstance(model, MultiscalePixelCNN):
        images = model.sample(draws, cfg.size, generator=generator)
    else:
        images, _ = model.sample(draws, cfg.size, generator=generator)
    dims = cfg.channels * cfg.size * cfg.size
    codes = (images.view(draws, dims).long() * cfg.levels ** torch.arange(dims)).sum(1)
    counts = torch.bincount(codes, minlength=len(probs)).double()
    expected = probs * draws
    big = expected >= 5
    observed = torch.cat([counts[big], counts[~big].sum().view(1)])
    wanted = torch.cat([expected[big], expected[~big].sum().view(1)])
    keep = wanted > 0
    chi2 = float(((observed[keep] - wanted[keep]) ** 2 / wanted[keep]).sum())
    dof = int(keep.sum()) - 1
    return {"config": cfg.name, "draws": draws, "bins": dof + 1, "chi2": round(chi2, 1),
            "dof": dof, "ok": chi2 < dof + 6 * math.sqrt(2 * dof)}


def cmd_check(args) -> dict:
    gen = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    results = {"causality": [], "receptive_field": [], "normalisation": [], "sampler": []}
    plan = [("tiny-raster", 4, None), ("tiny-ms", 4, None), ("tiny-ms-b1", 4, None),
            ("tiny-rgb-raster", 2, None), ("tiny-rgb-ms", 2, None),
            ("fashion28", 28, None), ("photo32", 32, None), ("speed512", 32, None),
            ("fashion28-raster", 28, 40), ("photo32-raster", 32, 24)]
    for name, size, max_steps in plan:
        r = causality_check(CONFIGS[name], size, max_steps, gen)
        print(f"causality {r}", file=sys.stderr)
        results["causality"].append(r)
    for name, size in [("tiny-raster", 4), ("tiny-rgb-raster", 5), ("fashion28", 7),
                       ("photo32", 8), ("fashion28-raster", 28), ("photo32-raster", 32)]:
        r = gated_receptive_field_check(CONFIGS[name], size, gen)
        print(f"receptive field {r}", file=sys.stderr)
        results["receptive_field"].append(r)
    for name, size in [("tiny-ms", 2), ("tiny-rgb-ms", 1), ("fashion28", 7), ("photo32", 8),
                       ("speed512", 16)]:
        r = group_receptive_field_check(CONFIGS[name], size, gen)
        print(f"receptive field {r}", file=sys.stderr)
        results["receptive_field"].append(r)
    for name in ["tiny-raster", "tiny-ms", "tiny-ms-b1", "tiny-rgb-raster", "tiny-rgb-ms"]:
        r = normalisation_check(CONFIGS[name], gen)
        print(f"normalisation {r}", file=sys.stderr)
        results["normalisation"].append(r)
    for name in ["tiny-rgb-raster", "tiny-rgb-ms"]:
        r = sampler_check(CONFIGS[name], gen)
        print(f"sampler {r}", file=sys.stderr)
        results["sampler"].append(r)
    results["ok"] = all(r["ok"] for group in results.values() for r in group)
    return results


# ------------------------------------------------------------------------------ mspx exports

# How an `mspx export` (.npz) names each tensor, and the key of the same tensor in this file's
# state_dict. The layouts are the same on both sides -- convolution weights [out, in, kH, kW] (as
# nn.Conv2d), biases [out], class tables [classes, width] (as nn.Embedding) -- so only names differ.
# Prefixes: mspx "base." is the multiscale model's base net (here "base."), "raster." the raster model
# (here the model itself, ""), "up{k}.g{g}." the net of group g of upscaling k (here
# "upscalers.{k}.{g-2}."). Masks ("...mask") map to the MaskedConv2d buffers and are compared, not
# loaded. The conditioning's class name (here ".FashionClass.") is not part of the peer's keys.
MSPX_TO_PEER = [
    (r"layer(\d+)\.vertical\.(weight|bias|mask)", r"layers.\1.v_conv.\2"),
    (r"layer(\d+)\.horizontal\.(weight|bias|mask)", r"layers.\1.h_conv.\2"),
    (r"layer(\d+)\.vertical_to_horizontal\.(weight|bias)", r"layers.\1.v_to_h.\2"),
    (r"layer(\d+)\.horizontal\.out\.(weight|bias|mask)", r"layers.\1.h_out.\2"),
    (r"layer(\d+)\.vertical\.cond\.[^.]+\.table", r"layers.\1.v_cond.table.weight"),
    (r"layer(\d+)\.horizontal\.cond\.[^.]+\.table", r"layers.\1.h_cond.table.weight"),
    (r"out\.hidden\.(weight|bias|mask)", r"out1.\1"),
    (r"out\.logits\.(weight|bias|mask)", r"out2.\1"),
    (r"stem\.(weight|bias)", r"stem.\1"),
    (r"stem\.cond\.[^.]+\.table", r"stem_cond.table.weight"),
    (r"block(\d+)\.conv([12])\.(weight|bias)", r"blocks.\1.conv\2.\3"),
    (r"block(\d+)\.conv([12])\.cond\.[^.]+\.table", r"blocks.\1.cond\2.table.weight"),
    (r"head\.hidden0\.(weight|bias|mask)", r"head1.\1"),
    (r"head\.hidden0\.features\.(weight|bias)", r"head1_features.\1"),
    (r"head\.hidden0\.own\.(weight|bias|mask)", r"head1_own.\1"),
    (r"head\.logits\.(weight|bias|mask)", r"head2.\1"),
]


def peer_key(mspx_name: str, multiscale: bool) -> str:
    """The state_dict key of an mspx parameter or mask name (MSPX_TO_PEER); ValueError if none."""
    m = re.fullmatch(r"(base|raster|up(\d+)\.g([234]))\.(.+)", mspx_name)
    if m is None:
        raise ValueError(f"mspx name {mspx_name!r} has no known network prefix (base., raster., upK.gG.)")
    if m.group(1) == "base":
        prefix = "base."
    elif m.group(1) == "raster":
        prefix = ""
    else:
        prefix = f"upscalers.{int(m.group(2))}.{int(m.group(3)) - 2}."
    rest = m.group(4)
    for pattern, replacement in MSPX_TO_PEER:
        if re.fullmatch(pattern, rest):
            return prefix + re.sub(pattern, replacement, rest)
    raise ValueError(f"mspx name {mspx_name!r}: no rule of MSPX_TO_PEER maps {rest!r}")


def config_from_export(meta: dict) -> Config:
    """The peer's Config of the spec an mspx export records; what the peer cannot build is refused."""
    spec = meta["spec"]
    classes = 0
    for c in spec["conditioning"]:
        if c["kind"] != "CLASS_LABEL":
            raise SystemExit(f"{meta['model']}: conditioning {c['name']} of kind {c['kind']} has no peer "
                             f"implementation (the peer knows class labels only)")
        classes = c["width"]
    multiscale = spec["kind"] == "multiscale"
    if multiscale and spec["head_layers"] != 2:
        raise SystemExit(f"{meta['model']}: {spec['head_layers']} head layers; the peer's group-net head "
                         f"has 2")
    if multiscale and spec["up_type"] not in ("A", "B"):
        raise SystemExit(f"{meta['model']}: upscaling type {spec['up_type']} has no peer implementation")
    return Config(meta["model"], spec["channels"], spec["size"],
                  base=spec["base"] if multiscale else None, layers=spec["layers"],
                  filters=spec["filters"], kernel=spec["kernel"],
                  up_filters=spec["up_filters"] if multiscale else 0,
                  up_blocks=spec["up_blocks"] if multiscale else 4, levels=spec["levels"],
                  classes=classes, patch=spec["patch"] if multiscale and spec["up_type"] == "B" else 0)


def load_export(path: str):
    """(model in float64, eval mode, with the export's weights; metadata; report of the load).

    Every peer parameter must be given exactly once and every exported parameter used exactly once,
    with equal shapes; every exported mask is compared element for element with the peer's own."""
    arrays = np.load(path)
    if "mspx.json" not in arrays.files:
        raise SystemExit(f"{path}: no mspx.json entry; write the file with `mspx export`")
    meta = json.loads(bytes(arrays["mspx.json"]).decode("utf-8"))
    if meta.get("format") != "mspx-npz" or meta.get("version") != 1:
        raise SystemExit(f"{path}: format {meta.get('format')} version {meta.get('version')}, "
                         f"expected mspx-npz version 1")
    cfg = config_from_export(meta)
    torch.manual_seed(0)
    model = build_model(cfg).double().eval()
    multiscale = cfg.multiscale
    state = model.state_dict()
    wanted = {k for k, _ in model.named_parameters()}
    loaded, mask_diffs, masks = {}, [], 0
    for name in meta["parameters"]:
        key = peer_key(name, multiscale)
        if key not in wanted:
            raise SystemExit(f"{path}: {name} maps to {key}, which the peer's model has not")
        if key in loaded:
            raise SystemExit(f"{path}: {name} and {loaded[key]} both map to {key}")
        value = torch.from_numpy(np.asarray(arrays[name], dtype=np.float32).astype(np.float64))
        if tuple(value.shape) != tuple(state[key].shape):
            raise SystemExit(f"{path}: {name} has shape {tuple(value.shape)}, the peer's {key} "
                             f"{tuple(state[key].shape)}")
        state[key] = value
        loaded[key] = name
    missing = sorted(wanted - set(loaded))
    if missing:
        raise SystemExit(f"{path}: no value for the peer's {missing[:5]} ({len(missing)} in all)")
    for name in meta["masks"]:
        key = peer_key(name, multiscale)
        ours = state[key].to(torch.float64)
        theirs = torch.from_numpy(np.asarray(arrays[name], dtype=np.float64))
        masks += 1
        if tuple(ours.shape) != tuple(theirs.shape) or not torch.equal(ours, theirs):
            mask_diffs.append(name)
    peer_masks = sum(1 for m in model.modules() if isinstance(m, MaskedConv2d))
    model.load_state_dict(state)
    report = {"parameters_loaded": len(loaded), "masks_compared": masks, "peer_masks": peer_masks,
              "masks_differing": mask_diffs,
              "masks_equal": not mask_diffs and masks == peer_masks}
    known = CONFIGS.get(cfg.name)
    report["config_matches"] = None if known is None else known == cfg
    report["config_differs"] = {} if known is None else {
        f.name: [getattr(cfg, f.name), getattr(known, f.name)] for f in dataclasses.fields(Config)
        if getattr(cfg, f.name) != getattr(known, f.name)}
    return model, meta, cfg, report


def cmd_score(args) -> dict:
    """-log p(x) and bits/dim of every image under the weights of an mspx export, in float64."""
    model, meta, cfg, report = load_export(args.export)
    images = np.load(args.images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (cfg.channels, cfg.size,
                                                                            cfg.size):
        raise SystemExit(f"{args.images}: {images.dtype} {images.shape}; the model scores uint8 "
                         f"[N, {cfg.channels}, {cfg.size}, {cfg.size}]")
    if int(images.max(initial=0)) >= cfg.levels:
        raise SystemExit(f"{args.images}: a level {int(images.max())} >= {cfg.levels} levels")
    x = torch.from_numpy(images.copy())
    labels = None
    if cfg.classes:
        if not args.labels:
            raise SystemExit(f"{meta['model']} is class-conditional: give --labels")
        labels = torch.from_numpy(np.load(args.labels).astype(np.int64))
    t0 = time.perf_counter()
    with torch.no_grad():
        nats = torch.cat([nats_per_image(model, x[i:i + args.batch],
                                         labels[i:i + args.batch] if labels is not None else None)
                          for i in range(0, len(x), args.batch)])
    bpd = nats / (cfg.channels * cfg.size * cfg.size * LN2)
    return {"cmd": "score", "model": meta["model"], "fingerprint": meta["fingerprint"],
            "images": len(x), "dtype": "float64", "seconds": round(time.perf_counter() - t0, 3),
            "nats": [float(v) for v in nats], "bits_per_dim": [float(v) for v in bpd],
            "mean_bits_per_dim": float(bpd.mean()), **report}


# ------------------------------------------------------------------------------ benchmarks, fit

def cmd_params(args) -> dict:
    return {name: count_parameters(build_model(CONFIGS[name])) for name in NAMED}


def cmd_step_bench(args) -> dict:
    cfg = CONFIGS[args.config]
    torch.manual_seed(args.seed)
    model = build_model(cfg).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)
    times, loss = [], float("nan")
    for i in range(args.warmup + args.steps):
        x = random_images(args.batch, cfg, cfg.size, gen)
        labels = torch.randint(0, cfg.classes, (args.batch,), generator=gen) if cfg.classes else None
        t0 = time.perf_counter()
        loss = train_step(model, optimiser, x, labels)
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
        print(f"step {i}: {time.perf_counter() - t0:.3f} s, {loss:.4f} bits/dim", file=sys.stderr)
    median = statistics.median(times)
    return {"cmd": "step-bench", "config": cfg.name, "batch": args.batch, "threads": args.threads,
            "steps": args.steps, "warmup": args.warmup, "median_s": round(median, 4),
            "min_s": round(min(times), 4), "mean_s": round(statistics.mean(times), 4),
            "images_per_s": round(args.batch / median, 2), "last_loss_bpd": round(loss, 4),
            "times_s": [round(t, 4) for t in times],
            "params_effective": count_parameters(model)["effective"]}


def cmd_sample_bench(args) -> dict:
    cfg = CONFIGS[args.config]
    size = args.size or cfg.size
    torch.manual_seed(args.seed)
    model = build_model(cfg).eval()
    gen = torch.Generator().manual_seed(args.seed)
    labels = torch.randint(0, cfg.classes, (args.batch,), generator=gen) if cfg.classes else None
    with torch.no_grad():                              # warm-up: every network once at this size
        nats_per_image(model, torch.zeros(args.batch, cfg.channels, size, size, dtype=torch.uint8),
                       labels)
    result = {"cmd": "sample-bench", "config": cfg.name, "batch": args.batch,
              "threads": args.threads, "size": size, "repeats": args.repeats}
    runs = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        if isinstance(model, MultiscalePixelCNN):
            timings = []
            images = model.sample(args.batch, size, labels, gen, timings)
            runs.append((time.perf_counter() - t0, timings))
        else:
            images, done = model.sample(args.batch, size, labels, gen, stop_after=args.time_limit)
            runs.append((time.perf_counter() - t0, done))
        print(f"sampled in {runs[-1][0]:.3f} s", file=sys.stderr)
    seconds = statistics.median(t for t, _ in runs)
    result.update(seconds=round(seconds, 4), runs_s=[round(t, 4) for t, _ in runs])
    if isinstance(model, MultiscalePixelCNN):
        ups = model._upscalings(size)
        result["network_evaluations"] = {"base": cfg.base ** 2 * cfg.channels, "trunk": 3 * ups,
                                         "head": 3 * ups * cfg.channels}
        result["stages_s_last"] = {stage: round(t, 4) for stage, t in runs[-1][1]}
        complete = True
    else:
        total, done = size * size * cfg.channels, runs[-1][1]
        complete = done == total
        per = runs[-1][0] / done
        result.update(network_evaluations={"full": total}, sub_pixels_done=done,
                      s_per_sub_pixel=round(per, 6), complete=complete)
        if not complete:
            result["extrapolated_s"] = round(per * total, 1)
    result["samples_per_s"] = round(args.batch / seconds, 4) if complete else None
    result["mean_level"] = round(float(images.float().mean()), 2)
    return result


def load_fit_data(cfg: Config, args):
    """(train_x, train_y, test_x, test_y, info): Fashion-MNIST for the 1 x 28 x 28 configs, photo
    tiles for the 3 x 32 x 32 ones (whose labels are None)."""
    if (cfg.channels, cfg.size) == (1, 28):
        train_x, train_y = load_fashion_mnist(args.data_dir, "train")
        test_x, test_y = load_fashion_mnist(args.data_dir, "t10k")
        return train_x, train_y, test_x, test_y, {"fashion_mnist": os.path.abspath(args.data_dir)}
    if (cfg.channels, cfg.size) == (3, 32):
        if args.class_cond:
            raise SystemExit(f"--class-cond needs class labels; the photo tiles of {cfg.name} have none")
        train_x, test_x, info = load_photo_tiles(args.photos, cfg.size)
        return train_x, None, test_x, None, {"photos": info}
    raise SystemExit(f"fit has no data set for config {cfg.name} "
                     f"({cfg.channels} x {cfg.size} x {cfg.size})")


def cmd_fit(args) -> dict:
    cfg = CONFIGS[args.config]
    if args.steps is not None and args.steps < 1 or args.minutes is not None and args.minutes <= 0:
        raise SystemExit("fit: --steps must be at least 1 and --minutes above 0")
    t0 = time.perf_counter()
    train_x, train_y, test_x, test_y, data_info = load_fit_data(cfg, args)
    data_seconds = time.perf_counter() - t0
    if args.test_n:
        test_x = test_x[:args.test_n]
        test_y = test_y[:args.test_n] if test_y is not None else None
    use_labels = args.class_cond
    if use_labels:
        cfg = dataclasses.replace(cfg, classes=10)
    torch.manual_seed(args.seed)
    model = build_model(cfg).train()
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed)

    # Budget: wall-clock minutes, or a number of steps (to compare with another implementation at
    # equal steps); the data order and everything else are the same either way.
    start = time.perf_counter()
    deadline = start + 60.0 * args.minutes if args.minutes is not None else math.inf
    max_steps = args.steps if args.steps is not None else math.inf
    steps, epoch, cursor = 0, 0, 0
    order = torch.randperm(len(train_x), generator=gen)
    recent, curve, next_log = deque(maxlen=100), [], start + 60.0
    while steps < max_steps and time.perf_counter() < deadline:
        if cursor + args.batch > len(order):
            order, cursor, epoch = torch.randperm(len(train_x), generator=gen), 0, epoch + 1
        idx = order[cursor:cursor + args.batch]
        cursor += args.batch
        recent.append(train_step(model, optimiser, train_x[idx], train_y[idx] if use_labels else None))
        steps += 1
        now = time.perf_counter()
        if now >= next_log:
            point = {"s": round(now - start, 1), "steps": steps,
                     "train_bpd": round(statistics.mean(recent), 4)}
            curve.append(point)
            print(f"fit {cfg.name}: {point}", file=sys.stderr, flush=True)
            next_log += 60.0
    train_seconds = time.perf_counter() - start

    model.eval()
    t0, total_nats = time.perf_counter(), 0.0
    with torch.no_grad():
        for i in range(0, len(test_x), args.eval_batch):
            xs = test_x[i:i + args.eval_batch]
            ys = test_y[i:i + args.eval_batch] if use_labels else None
            total_nats += float(nats_per_image(model, xs, ys).sum())
    eval_seconds = time.perf_counter() - t0
    test_bpd = total_nats / (len(test_x) * test_x[0].numel() * LN2)
    if args.save:
        torch.save(model.state_dict(), args.save)
    return {"cmd": "fit", "config": cfg.name, "class_cond": use_labels, "threads": args.threads,
            "seed": args.seed, "batch": args.batch, "lr": args.lr, "minutes": args.minutes,
            "max_steps": args.steps, "steps": steps, "epochs": round(epoch + cursor / len(order), 3),
            "train_seconds": round(train_seconds, 1),
            "images_per_s": round(steps * args.batch / train_seconds, 2),
            "train_bpd_last100": round(statistics.mean(recent), 4) if recent else None,
            "test_bpd": round(test_bpd, 4), "train_n": len(train_x), "test_n": len(test_x),
            "eval_seconds": round(eval_seconds, 1), "data_seconds": round(data_seconds, 1),
            "data": data_info, "curve": curve,
            "params_effective": count_parameters(model)["effective"]}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    def command(name, handler, help_text):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
        p.add_argument("--seed", type=int, default=0)
        p.set_defaults(handler=handler)
        return p

    command("check", cmd_check, "self-tests: causality, receptive fields, sum to 1, sampler")
    command("params", cmd_params, "parameter counts of the named configs")
    p = command("step-bench", cmd_step_bench, "median time of a full training step")
    p.add_argument("--config", choices=sorted(CONFIGS), required=True)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=5, help="timed steps")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    p.add_argument("--lr", type=float, default=1e-3)
    p = command("sample-bench", cmd_sample_bench, "time to draw a batch of samples")
    p.add_argument("--config", choices=sorted(CONFIGS), required=True)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--size", type=int, default=0,
                   help="multiscale: stop the pyramid at this size; raster: sample a size x size image")
    p.add_argument("--repeats", type=int, default=1, help="draw the batch this many times (median)")
    p.add_argument("--time-limit", type=float, default=None,
                   help="raster only: stop after this many seconds and extrapolate")
    p = command("fit", cmd_fit, "train for a wall-clock budget or a number of steps, report test "
                                "bits/dim (fashion28*: Fashion-MNIST; photo32*: photo tiles)")
    p.add_argument("--config", choices=["fashion28", "fashion28-raster", "photo32", "photo32-raster"],
                   required=True)
    p.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist",
                   help="fashion28*: folder with the gzipped Fashion-MNIST IDX files")
    p.add_argument("--photos", default="/usr/share/backgrounds",
                   help="photo32*: folder of photos (those of lomiri-wallpapers-16.04, and no others)")
    budget = p.add_mutually_exclusive_group(required=True)
    budget.add_argument("--minutes", type=float, help="train for this wall-clock time")
    budget.add_argument("--steps", type=int, help="train for exactly this many steps")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--test-n", type=int, default=0, help="evaluate on the first N test images")
    p.add_argument("--eval-batch", type=int, default=100)
    p.add_argument("--class-cond", action="store_true", help="condition on the class label")
    p.add_argument("--save", default="", help="write the trained state_dict here")
    p = command("score", cmd_score, "bits/dim of images under the weights of an `mspx export` .npz")
    p.add_argument("--export", required=True, help="the .npz that `mspx export` wrote")
    p.add_argument("--images", required=True, help=".npy of uint8 images [N, C, H, W]")
    p.add_argument("--labels", default="", help=".npy of int labels [N] (class-conditional models)")
    p.add_argument("--batch", type=int, default=8, help="images per forward pass")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = args.handler(args)
    result["runtime"] = {"torch": torch.__version__, "threads": torch.get_num_threads(),
                         "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS")}
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
