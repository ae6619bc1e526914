"""The plate detector: a small anchor-free (CenterNet-style) network, one class (plate).

A plain chain of 3x3 Conv+BN+ReLU down to stride 8, then dilated 3x3 convs (dilation 2, 4, 8)
that widen the receptive field to ~270 px without going further down: small plates (14-20 px wide
at the working resolution) still get their own output cell, and big close-up plates are seen
whole. No Add/Resize/Concat anywhere, so the INT8 export is the same Conv-only QDQ pass as the
reader's and onnxruntime fuses every layer into QLinearConv.

Outputs at stride 8 (H/8 x W/8 cells):
  heat [N,1,h,w]  logit that a plate centre lies in the cell
  box  [N,4,h,w]  dx, dy (centre offset inside the cell, in cells), log(w/8), log(h/8)
"""

import math

import torch
import torch.nn as nn

STRIDE = 8
HEAT_PRIOR = 0.02  # initial plate probability per cell, so early training is not swamped by negatives


def _cbr(i, o, stride=1, dilation=1):
    return nn.Sequential(nn.Conv2d(i, o, 3, stride, padding=dilation, dilation=dilation, bias=False),
                         nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class PlateDetector(nn.Module):
    def __init__(self, width=1.0):
        super().__init__()
        c = lambda n: max(8, int(round(n * width)))  # noqa: E731
        self.width = width
        self.body = nn.Sequential(
            _cbr(3, c(16), 2),              # /2
            _cbr(c(16), c(32), 2),          # /4
            _cbr(c(32), c(40), 2),          # /8
            _cbr(c(40), c(40)),
            _cbr(c(40), c(48), dilation=2),
            _cbr(c(48), c(48), dilation=4),
            _cbr(c(48), c(48), dilation=8),
            _cbr(c(48), c(48)),
        )
        self.heat = nn.Conv2d(c(48), 1, 1)
        self.box = nn.Conv2d(c(48), 4, 1)
        nn.init.constant_(self.heat.bias, -math.log((1 - HEAT_PRIOR) / HEAT_PRIOR))
        nn.init.normal_(self.box.weight, std=0.01)
        nn.init.zeros_(self.box.bias)

    def forward(self, x):
        f = self.body(x)
        return self.heat(f), self.box(f)


def decode(heat_logits, box, threshold=0.3, max_det=50):
    """heat_logits [1,h,w], box [4,h,w] (torch, one image) -> list of (x, y, w, h, score) in input
    pixels. A cell is a detection when it is a 3x3 local maximum above the threshold (the same rule
    the TypeScript decoder applies)."""
    p = torch.sigmoid(heat_logits[0])
    peak = torch.nn.functional.max_pool2d(p[None, None], 3, 1, 1)[0, 0]
    keep = (p >= peak) & (p >= threshold)
    ys, xs = torch.nonzero(keep, as_tuple=True)
    scores = p[ys, xs]
    order = torch.argsort(scores, descending=True)[:max_det]
    out = []
    for k in order.tolist():
        y, x = int(ys[k]), int(xs[k])
        dx, dy, lw, lh = box[:, y, x].tolist()
        w, h = math.exp(min(lw, 6.0)) * STRIDE, math.exp(min(lh, 6.0)) * STRIDE
        cx, cy = (x + dx) * STRIDE, (y + dy) * STRIDE
        out.append((cx - w / 2, cy - h / 2, w, h, float(scores[k])))
    return out
