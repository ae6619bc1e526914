"""Plate reader: CTC character recogniser + US-state classifier for plate crops.

Input contract (shared with the TypeScript daemon, keep in sync with models/manifest.json):
  - crop = detector box around the plate (a little padding is fine), stretched (no letterbox)
    to 160x48 with bilinear resize, RGB channel order, NCHW float32, value = px / 127.5 - 1.
  - output `logits`       [N, 40, 37] float: LOG-SOFTMAX over classes (log-probabilities).
    Class 0 is the CTC blank, 1..36 are CHARSET. Greedy decode: argmax per step, collapse
    repeats, drop blanks. Sum of the per-step max log-probs is a usable sequence confidence.
  - output `state_logits` [N, 52] float: RAW logits (apply softmax yourself); classes are
    STATE_CLASSES, the last one being `unknown` (non-US plate or unrecognised style).

The network is conv/BN/ReLU only (no recurrent layers) so that every heavy op maps onto an
integer kernel after QDQ quantisation, and BN folds into the convolutions at export.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BLANK = 0
NUM_CLASSES = len(CHARSET) + 1  # + CTC blank

# Fixed alphabetical order: the index of a state must never depend on another module's list.
US_STATES = [
    "AK", "AL", "AR", "AZ", "CA", "CO", "CT", "DC", "DE", "FL", "GA", "HI", "IA", "ID", "IL",
    "IN", "KS", "KY", "LA", "MA", "MD", "ME", "MI", "MN", "MO", "MS", "MT", "NC", "ND", "NE",
    "NH", "NJ", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
    "VA", "VT", "WA", "WI", "WV", "WY",
]
UNKNOWN_STATE = "unknown"
STATE_CLASSES = US_STATES + [UNKNOWN_STATE]
NUM_STATES = len(STATE_CLASSES)  # 52

IN_H, IN_W = 48, 160
T_STEPS = 40

CHAR_TO_IDX = {c: i + 1 for i, c in enumerate(CHARSET)}
STATE_TO_IDX = {s: i for i, s in enumerate(STATE_CLASSES)}


def region_to_state(region):
    """Map a dataset `region` (us-ca, us, eu, br, es, mx-bc, ...) or a synth state code
    ("CA") to a state class index, or None where the state is unknown (no state loss)."""
    if region is None:
        return None
    r = region.strip()
    if r.lower().startswith("us-"):
        return STATE_TO_IDX.get(r[3:].upper())
    if r.lower() == "us":
        return None  # a US plate whose state nobody knows: neither a state nor `unknown`
    if r.upper() in STATE_TO_IDX and len(r) == 2:
        return STATE_TO_IDX[r.upper()]
    return STATE_TO_IDX[UNKNOWN_STATE]  # eu, br, es, mx-bc, ro: non-US


def encode_text(text):
    return [CHAR_TO_IDX[c] for c in text]


def greedy_decode(log_probs):
    """log_probs: [N, T, C] tensor -> list of strings."""
    best = log_probs.argmax(-1).cpu().tolist()
    out = []
    for seq in best:
        s, prev = [], BLANK
        for k in seq:
            if k != prev and k != BLANK:
                s.append(CHARSET[k - 1])
            prev = k
        out.append("".join(s))
    return out


def cbr(cin, cout, k=3, s=1, p=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, s, p, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class PlateReader(nn.Module):
    def __init__(self, width=1.0):
        super().__init__()
        c = [int(round(v * width)) for v in (32, 64, 96, 128)]
        # Width is divided by 4 only (160 -> 40 steps): ~4 px per step leaves CTC room for
        # repeated characters (blank between them) even on 8-9 character plates.
        self.backbone = nn.Sequential(
            cbr(3, c[0], s=2),                       # 24x80
            cbr(c[0], c[1], s=2),                    # 12x40
            cbr(c[1], c[1]),
            cbr(c[1], c[2], s=(2, 1)),               # 6x40
            cbr(c[2], c[2]),
            cbr(c[2], c[3], s=(2, 1)),               # 3x40
        )
        # A learned (3,1) conv collapses height instead of pooling, so the sequence head can
        # weight the character row over the banner/slogan rows.
        self.collapse = cbr(c[3], c[3], k=(3, 1), p=0)          # 1x40
        self.seq = nn.Sequential(
            cbr(c[3], c[3], k=(1, 5), p=(0, 2)),
            cbr(c[3], c[3], k=(1, 3), p=(0, 1)),
        )
        self.cls = nn.Conv2d(c[3], NUM_CLASSES, 1)
        # State head: pool over width only in bands, keeping the 3 vertical rows, because the
        # state is mostly told by where colour/text sits (top banner, bottom slogan, sides).
        self.state_pool = nn.AvgPool2d(kernel_size=(1, T_STEPS // 2), stride=(1, T_STEPS // 2))
        self.state_fc = nn.Sequential(
            nn.Flatten(1), nn.Linear(c[3] * 3 * 2, 96), nn.ReLU(inplace=True),
            nn.Linear(96, NUM_STATES))

    def forward(self, x):
        f = self.backbone(x)
        h = self.seq(self.collapse(f))
        logits = self.cls(h).squeeze(2).permute(0, 2, 1)      # [N, T, C]
        state = self.state_fc(self.state_pool(f))              # [N, 52]
        return F.log_softmax(logits, dim=-1), state


def fold_bn(model):
    """Returns an eval-mode copy with every Conv+BN pair merged, so the exported graph has
    plain Conv nodes whose weights carry the BN scale (needed for per-channel weight quant)."""
    import copy
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    m = copy.deepcopy(model).eval()

    def rec(mod):
        for name, child in list(mod.named_children()):
            if isinstance(child, nn.Sequential) and len(child) >= 2 and isinstance(child[0], nn.Conv2d) \
                    and isinstance(child[1], nn.BatchNorm2d):
                fused = fuse_conv_bn_eval(child[0], child[1])
                setattr(mod, name, nn.Sequential(fused, *list(child)[2:]))
            else:
                rec(child)
    rec(m)
    return m


def unfold_from_onnx(model, onnx_path, calib_batches):
    """Warm start: loads a BN-folded export (our own reader-fp32.onnx) back into the trainable
    network. Each Conv gets the folded weight; its BatchNorm is set so that, with running
    statistics equal to the conv output's measured mean/var, both eval mode and (on batches like
    the calibration ones) training mode give back exactly W*x + b. Lets a new session continue
    training the shipped network (reader or detector) instead of starting from scratch when
    checkpoints are gone."""
    import onnx
    from onnx import numpy_helper
    init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
            for t in onnx.load(onnx_path).graph.initializer}
    pairs = []  # (conv, bn, folded bias)

    def rec(prefix, mod):
        for name, child in mod.named_children():
            full = prefix + name
            if isinstance(child, nn.Sequential) and len(child) >= 2 and isinstance(child[0], nn.Conv2d) \
                    and isinstance(child[1], nn.BatchNorm2d):
                w, b = init[full + ".0.weight"], init[full + ".0.bias"]
                assert tuple(w.shape) == tuple(child[0].weight.shape), full
                pairs.append((child[0], child[1], w, b))
            else:
                rec(full + ".", child)
    rec("", model)
    # Every other layer (heads, FC layers) is stored as trained: copied by name and shape.
    unfolded = {id(p) for c, bn, _, _ in pairs for p in list(c.parameters()) + list(bn.parameters())}
    sd = model.state_dict()
    for k, v in model.named_parameters():
        if id(v) in unfolded or k not in init:
            continue
        if tuple(init[k].shape) != tuple(v.shape):
            raise ValueError("%s: %s in the export, %s in the network" % (k, tuple(init[k].shape), tuple(v.shape)))
        sd[k].copy_(init[k])
    with torch.no_grad():
        for conv, bn, w, b in pairs:
            conv.weight.copy_(w)
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
            bn.weight.fill_(math.sqrt(1.0 + bn.eps))
            bn.bias.copy_(b)
        # Measure each conv's output statistics with the net in this exact (eval) state.
        stats = {id(c): [0.0, 0.0, 0] for c, _, _, _ in pairs}

        def hook(mod, _inp, out):
            s = stats[id(mod)]
            s[0] = s[0] + out.sum((0, 2, 3)).double()
            s[1] = s[1] + (out.double() ** 2).sum((0, 2, 3))
            s[2] += out.numel() // out.shape[1]
        hs = [c.register_forward_hook(hook) for c, _, _, _ in pairs]
        model.eval()
        for x in calib_batches:
            model(x)
        for h in hs:
            h.remove()
        for conv, bn, _w, b in pairs:
            s0, s1, n = stats[id(conv)]
            mean = (s0 / n).float()
            var = (s1 / n).float() - mean ** 2
            var = var.clamp_min(1e-6)
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            bn.weight.copy_(torch.sqrt(var + bn.eps))
            bn.bias.copy_(mean + b)
    return len(pairs)


def load_checkpoint(path):
    """torch >= 2.6 defaults to weights_only=True, which rejects the RNG states we store."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except TypeError:  # torch < 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


def count_params(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    m = PlateReader()
    x = torch.randn(2, 3, IN_H, IN_W)
    lp, st = m(x)
    print("params", count_params(m), "logits", tuple(lp.shape), "state", tuple(st.shape))
