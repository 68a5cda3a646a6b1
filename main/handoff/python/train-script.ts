/**
 * The bundle's train.py, as text: written into every hand-off bundle beside bundle.json. It trains
 * the bundle's EfficientNet with PyTorch under torchrun (DistributedDataParallel: NCCL on CUDA,
 * gloo on CPU), and predicts (--predict) for the parity check of `effitune handoff import`.
 *
 * The network is built from the block table in bundle.json (the same ArchitecturePlan our tf.layers
 * builder walks), with timm's module names, so its state dict is a timm EfficientNet state dict and
 * the existing timm import reads it back. timm itself is used instead when it is installed and the
 * model is one of timm's (b0..b7); a custom φ always uses the built-in network.
 *
 * Kept as a TypeScript string (String.raw: no backticks or dollar-brace in the Python) so the
 * Electron bundle carries it without a file copy step, like the export's usage examples.
 */
export const TRAIN_PY = String.raw`#!/usr/bin/env python3
"""Effitune hand-off trainer.

Trains the model described in bundle.json on the images listed in images.jsonl, with PyTorch:

    torchrun --standalone --nproc_per_node N train.py [--epochs E] [--batch B] [--device cpu|cuda]

Writes under out/: checkpoint.pt (every epoch; a new start resumes from it), metrics.jsonl (one
JSON object per line), best.safetensors and, at the end, final.safetensors (the best epoch's
weights, timm naming) and parity.json (probabilities on the bundle's parity images).

    python train.py --predict PIXELS.safetensors [--weights W] [--out-json F]

prints (or writes) the softmax probabilities of the pixels tensor ("pixels", [N, H, W, 3],
RGB 0..255, float32) under the given weights (default out/final.safetensors).
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import platform
import socket
import struct
import sys
import time

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
BUNDLE_JSON = os.path.join(HERE, "bundle.json")
IMAGES_JSONL = os.path.join(HERE, "images.jsonl")


# ---------- safetensors (the format is small; torch 1.13 has no safetensors package) ----------

ST_DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
ST_NAMES = {v: k for k, v in ST_DTYPES.items()}


def read_safetensors(path):
    """8-byte little-endian header length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise SystemExit("%s is not a safetensors file (%d bytes)" % (path, len(data)))
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = ST_DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        flat = torch.frombuffer(raw, dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors, header.get("__metadata__", {})


def write_safetensors(path, tensors, metadata=None):
    """Write atomically: a temporary file, then a rename."""
    import numpy as np  # noqa: F401  (tensor.numpy() needs it)
    names = sorted(tensors)
    header = {}
    chunks = []
    offset = 0
    for name in names:
        t = tensors[name].detach().to("cpu").contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp-%d" % os.getpid()
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---------- the network, from the block table ----------

def same_padding(size, kernel, stride):
    """TensorFlow SAME: the extra pixel goes bottom/right."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class Conv2dSame(nn.Conv2d):
    """A strided convolution with TensorFlow "SAME" padding, as Keras and our TF.js builder compute it."""

    def forward(self, x):
        top, bottom = same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        left, right = same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        x = F.pad(x, [left, right, top, bottom])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def make_conv(padding, cin, cout, kernel, stride, groups=1, bias=False):
    # stride 1 with an odd kernel pads kernel//2 on every side in both modes; only a strided
    # convolution differs: TF "SAME" pads bottom/right, PyTorch (timm's efficientnet_*) symmetric
    if padding == "tf-same" and stride != 1:
        return Conv2dSame(cin, cout, kernel, stride, padding=0, groups=groups, bias=bias)
    return nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=bias)


def drop_path(x, rate, training):
    """Stochastic depth as Keras' Dropout(noise_shape=[batch, 1, 1, 1]): drop the branch per sample."""
    if rate <= 0.0 or not training:
        return x
    keep = 1.0 - rate
    mask = x.new_empty((x.shape[0], 1, 1, 1)).bernoulli_(keep)
    return x * mask / keep


class SqueezeExcite(nn.Module):
    def __init__(self, channels, reduced):
        super().__init__()
        self.conv_reduce = nn.Conv2d(channels, reduced, 1, bias=True)
        self.conv_expand = nn.Conv2d(reduced, channels, 1, bias=True)

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = F.silu(self.conv_reduce(s))
        return x * torch.sigmoid(self.conv_expand(s))


class DepthwiseSeparable(nn.Module):
    """timm's DepthwiseSeparableConv (expand ratio 1): conv_dw, bn1, SE, conv_pw, bn2."""

    def __init__(self, b, bn, padding):
        super().__init__()
        self.conv_dw = make_conv(padding, b["filtersIn"], b["filtersIn"], b["kernel"], b["stride"], groups=b["filtersIn"])
        self.bn1 = bn(b["filtersIn"])
        self.se = SqueezeExcite(b["filtersIn"], b["seFilters"]) if b["seFilters"] > 0 else None
        self.conv_pw = nn.Conv2d(b["filtersIn"], b["filtersOut"], 1, bias=False)
        self.bn2 = bn(b["filtersOut"])
        self.residual = b["residual"]
        self.drop_rate = b["dropRate"]

    def forward(self, x):
        y = F.silu(self.bn1(self.conv_dw(x)))
        if self.se is not None:
            y = self.se(y)
        y = self.bn2(self.conv_pw(y))
        return x + drop_path(y, self.drop_rate, self.training) if self.residual else y


class InvertedResidual(nn.Module):
    """timm's InvertedResidual (MBConv): conv_pw, bn1, conv_dw, bn2, SE, conv_pwl, bn3."""

    def __init__(self, b, bn, padding):
        super().__init__()
        mid = b["filtersMid"]
        self.conv_pw = nn.Conv2d(b["filtersIn"], mid, 1, bias=False)
        self.bn1 = bn(mid)
        self.conv_dw = make_conv(padding, mid, mid, b["kernel"], b["stride"], groups=mid)
        self.bn2 = bn(mid)
        self.se = SqueezeExcite(mid, b["seFilters"]) if b["seFilters"] > 0 else None
        self.conv_pwl = nn.Conv2d(mid, b["filtersOut"], 1, bias=False)
        self.bn3 = bn(b["filtersOut"])
        self.residual = b["residual"]
        self.drop_rate = b["dropRate"]

    def forward(self, x):
        y = F.silu(self.bn1(self.conv_pw(x)))
        y = F.silu(self.bn2(self.conv_dw(y)))
        if self.se is not None:
            y = self.se(y)
        y = self.bn3(self.conv_pwl(y))
        return x + drop_path(y, self.drop_rate, self.training) if self.residual else y


class EfficientNet(nn.Module):
    """EfficientNet V1 from the bundle's block table, with timm's module (state dict) names."""

    def __init__(self, arch, classes):
        super().__init__()
        eps = arch["bnEpsilon"]
        # Keras' BatchNorm momentum m keeps m of the old average; PyTorch's momentum is the new share
        momentum = 1.0 - arch["bnMomentum"]
        padding = arch["padding"]

        def bn(channels):
            return nn.BatchNorm2d(channels, eps=eps, momentum=momentum)

        self.conv_stem = make_conv(padding, 3, arch["stemFilters"], 3, 2)
        self.bn1 = bn(arch["stemFilters"])
        stages = []
        for block in arch["blocks"]:
            if block["kind"] != "mbconv":
                raise SystemExit("block %s is a %s block: this trainer builds EfficientNet V1 (MBConv) only" % (block["name"], block["kind"]))
            if block["repeat"] == 0:
                stages.append([])
            stages[-1].append(DepthwiseSeparable(block, bn, padding) if block["expand"] == 1 else InvertedResidual(block, bn, padding))
        self.blocks = nn.Sequential(*[nn.Sequential(*s) for s in stages])
        last = arch["blocks"][-1]["filtersOut"]
        self.conv_head = nn.Conv2d(last, arch["headFilters"], 1, bias=False)
        self.bn2 = bn(arch["headFilters"])
        # a module without weights, so a frozen backbone can keep the dropout before the classifier on
        self.head_drop = nn.Dropout(arch["dropout"])
        self.classifier = nn.Linear(arch["headFilters"], classes)

    def forward(self, x):
        x = F.silu(self.bn1(self.conv_stem(x)))
        x = self.blocks(x)
        x = F.silu(self.bn2(self.conv_head(x)))
        x = x.mean((2, 3))
        return self.classifier(self.head_drop(x))


def timm_network(arch, classes):
    """timm's own model for a named variant, when timm is installed; None otherwise."""
    if arch["family"] != "v1" or not arch["variant"] in ["b%d" % i for i in range(8)]:
        return None
    try:
        import timm
    except ImportError:
        return None
    name = ("tf_" if arch["padding"] == "tf-same" else "") + "efficientnet_" + arch["variant"]
    net = timm.create_model(name, pretrained=False, num_classes=classes, drop_rate=arch["dropout"], drop_path_rate=arch["dropConnect"])
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = arch["bnEpsilon"]
            m.momentum = 1.0 - arch["bnMomentum"]
    return net


class Model(nn.Module):
    """Takes RGB pixels 0..255 (NCHW) and normalises them first, exactly as the Effitune model's
    frozen "preprocess" layer does (x * scale + offset per channel); the weights are net's."""

    def __init__(self, net, arch):
        super().__init__()
        self.net = net
        p = arch["preprocess"]
        self.register_buffer("scale", torch.tensor(p["scale"], dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("offset", torch.tensor(p["offset"], dtype=torch.float32).view(1, 3, 1, 1), persistent=False)

    def forward(self, pixels):
        return self.net(pixels * self.scale + self.offset)


def build_model(bundle, impl):
    arch = bundle["architecture"]
    classes = len(bundle["classes"])
    net = None
    used = "builtin"
    if impl in ("auto", "timm"):
        net = timm_network(arch, classes)
        if net is None and impl == "timm":
            raise SystemExit("--impl timm: timm is not installed or the model (%s) is not one of timm's EfficientNets" % arch["variant"])
        if net is not None:
            used = "timm"
    if net is None:
        net = EfficientNet(arch, classes)
    return Model(net, arch), used


def load_weights(model, path, strict_names=True):
    tensors, _ = read_safetensors(path)
    state = model.net.state_dict()
    missing = [k for k in state if k not in tensors and not k.endswith("num_batches_tracked")]
    unknown = [k for k in tensors if k not in state]
    if missing or unknown:
        raise SystemExit("%s does not fit the model: missing %s, unknown %s" % (path, missing[:5], unknown[:5]))
    for k, v in tensors.items():
        if tuple(v.shape) != tuple(state[k].shape):
            raise SystemExit("%s: tensor %s has shape %s, the model needs %s" % (path, k, list(v.shape), list(state[k].shape)))
        state[k] = v.to(state[k].dtype)
    model.net.load_state_dict(state, strict=True)


def weights_of(model):
    """The state dict in timm naming, float tensors only (num_batches_tracked is bookkeeping)."""
    return {k: v.detach().float().cpu() for k, v in model.net.state_dict().items() if v.is_floating_point()}


# ---------- data ----------

def decode(path):
    """First frame, EXIF orientation, transparency onto white, RGB (as Effitune decodes)."""
    from PIL import Image, ImageOps
    with Image.open(path) as im:
        im.seek(0)
        im = ImageOps.exif_transpose(im)
        if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
            rgba = im.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            im = Image.alpha_composite(white, rgba)
        return im.convert("RGB")


def to_tensor(im):
    data = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8)
    return data.view(im.size[1], im.size[0], 3).permute(2, 0, 1).float()


def centre_crop(im, size):
    """Evaluation: shorter side to the resolution (Lanczos), centre square."""
    from PIL import Image
    w, h = im.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    im = im.resize((nw, nh), Image.LANCZOS)
    left, top = (nw - size) // 2, (nh - size) // 2
    return im.crop((left, top, left + size, top + size))


def random_resized_crop(im, size, aug, rng):
    """torchvision's RandomResizedCrop, as Effitune's augmentation draws it."""
    from PIL import Image
    w, h = im.size
    area = w * h
    log_ratio = (math.log(aug["ratioMin"]), math.log(aug["ratioMax"]))
    for _ in range(10):
        target = area * rng.uniform(aug["scaleMin"], aug["scaleMax"])
        ratio = math.exp(rng.uniform(*log_ratio))
        cw, ch = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
        if 0 < cw <= w and 0 < ch <= h:
            left, top = rng.randint(0, w - cw), rng.randint(0, h - ch)
            return im.resize((size, size), Image.LANCZOS, box=(left, top, left + cw, top + ch))
    in_ratio = w / h
    if in_ratio < aug["ratioMin"]:
        cw, ch = w, round(w / aug["ratioMin"])
    elif in_ratio > aug["ratioMax"]:
        cw, ch = round(h * aug["ratioMax"]), h
    else:
        cw, ch = w, h
    left, top = (w - cw) // 2, (h - ch) // 2
    return im.resize((size, size), Image.LANCZOS, box=(left, top, left + cw, top + ch))


def flip_rotate(x, flip, degrees):
    """Horizontal flip and rotation about the centre with mirrored borders, one bilinear resampling."""
    if not flip and degrees == 0:
        return x
    a = math.radians(degrees)
    sx = -1.0 if flip else 1.0
    theta = torch.tensor([[math.cos(a) * sx, -math.sin(a), 0.0], [math.sin(a) * sx, math.cos(a), 0.0]], dtype=torch.float32)
    grid = F.affine_grid(theta.unsqueeze(0), [1, 3, x.shape[1], x.shape[2]], align_corners=False)
    return F.grid_sample(x.unsqueeze(0), grid, mode="bilinear", padding_mode="reflection", align_corners=False)[0]


def colour_jitter(x, aug, rng):
    """Brightness, contrast, saturation as torchvision's ColorJitter defines them, clamped after each."""
    def factor(v):
        return rng.uniform(1 - v, 1 + v) if v > 0 else 1.0

    def grey(t):
        return (0.299 * t[0] + 0.587 * t[1] + 0.114 * t[2]).unsqueeze(0)

    x = (x * factor(aug["brightness"])).clamp(0, 255)
    f = factor(aug["contrast"])
    x = (f * x + (1 - f) * grey(x).mean()).clamp(0, 255)
    f = factor(aug["saturation"])
    return (f * x + (1 - f) * grey(x)).clamp(0, 255)


class Images(torch.utils.data.Dataset):
    def __init__(self, items, root, size, augment):
        self.items, self.root, self.size, self.augment = items, root, size, augment

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        import random
        item = self.items[i]
        im = decode(os.path.join(self.root, item["path"]))
        aug = self.augment
        if not aug:
            return to_tensor(centre_crop(im, self.size)), item["label"]
        rng = random.Random(torch.randint(0, 2 ** 62, (1,)).item())
        im = random_resized_crop(im, self.size, aug, rng) if aug["randomCrop"] else centre_crop(im, self.size)
        x = to_tensor(im)
        degrees = rng.uniform(-aug["rotationDegrees"], aug["rotationDegrees"]) if aug["rotationDegrees"] > 0 else 0.0
        x = flip_rotate(x, aug["flip"] and rng.random() < 0.5, degrees)
        return colour_jitter(x, aug, rng), item["label"]


class ShardedSampler(torch.utils.data.Sampler):
    """Every process gets its own share of an epoch's order: a seeded permutation (or, for
    imbalance "sampling", a class-balanced draw), padded to a multiple of the process count as
    DistributedSampler pads it. The order depends only on the seed and the epoch, so a resumed
    epoch sees the same images."""

    def __init__(self, labels, world, rank, seed, balanced):
        self.labels, self.world, self.rank, self.seed, self.balanced = labels, world, rank, seed, balanced
        self.epoch = 0
        self.per_rank = math.ceil(len(labels) / world)

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return self.per_rank

    def __iter__(self):
        g = torch.Generator()
        g.manual_seed(self.seed * 1000003 + self.epoch)
        n = len(self.labels)
        if self.balanced:
            counts = torch.bincount(torch.tensor(self.labels))
            weights = torch.tensor([1.0 / counts[l].item() for l in self.labels])
            order = torch.multinomial(weights, n, replacement=True, generator=g).tolist()
        else:
            order = torch.randperm(n, generator=g).tolist()
        order += order[: self.per_rank * self.world - n]
        return iter(order[self.rank::self.world])


# ---------- training ----------

def lr_at(progress, cfg, epochs):
    """Linear warm-up, then cosine decay to 0 at the end of the last epoch (Effitune's schedule)."""
    lr, warm = cfg["lr"], cfg["warmupEpochs"]
    at = min(max(progress, 0.0), epochs)
    if warm > 0 and at < warm:
        return lr * at / warm
    span = epochs - warm
    if span <= 0:
        return lr
    return 0.5 * lr * (1 + math.cos(math.pi * (at - warm) / span))


def loss_of(logits, labels, smoothing, class_weights):
    """Effitune's loss: cross-entropy with label smoothing, each sample times its class weight, batch mean."""
    classes = logits.shape[1]
    logp = F.log_softmax(logits.float(), dim=1).clamp(min=math.log(1e-7))
    targets = F.one_hot(labels, classes).float() * (1 - smoothing) + smoothing / classes
    per_sample = -(targets * logp).sum(1)
    if class_weights is not None:
        per_sample = per_sample * class_weights[labels]
    return per_sample.mean()


def trainable_parts(model, cfg):
    """Which modules train in the run's mode, and whether BatchNorm is frozen (inference mode)."""
    net = model.net
    mode = cfg["mode"]
    if mode == "full":
        return [net], cfg["freezeBatchNorm"]
    head = [m for m in (net.classifier, getattr(net, "head_drop", None)) if m is not None]
    if mode == "head":
        return head, True
    # top: the classifier, the head convolution and the last topBlocks blocks, BatchNorm frozen
    flat = [b for stage in net.blocks for b in stage]
    return head + [net.conv_head] + flat[len(flat) - cfg["topBlocks"]:], True


def set_train_mode(model, parts, frozen_bn):
    """Frozen layers run as in inference (no stochastic depth, BatchNorm on its moving statistics),
    as Effitune's trainer runs them; the dropout before the classifier always trains."""
    model.eval()
    for part in parts:
        part.train()
    model.net.training = True  # timm's head applies its dropout when the net itself is training
    if frozen_bn:
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()


def atomic_save(obj, path):
    tmp = path + ".tmp-%d" % os.getpid()
    torch.save(obj, tmp)
    os.replace(tmp, path)


def append_line(path, record):
    with open(path, "a") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()
        os.fsync(f.fileno())


def keep_lines_up_to(path, last_epoch):
    """A resumed run drops the log lines after its checkpoint (a kill can land between the two)."""
    if not os.path.exists(path):
        return
    kept = []
    with open(path) as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("event") == "epoch" and rec["epoch"] > last_epoch:
                continue
            if rec.get("event") == "done":
                continue
            kept.append(json.dumps(rec))
    with open(path + ".tmp", "w") as f:
        f.write("".join(k + "\n" for k in kept))
    os.replace(path + ".tmp", path)


def read_bundle():
    with open(BUNDLE_JSON) as f:
        bundle = json.load(f)
    if bundle.get("format") != "effitune-handoff":
        raise SystemExit("%s is not an Effitune hand-off bundle" % BUNDLE_JSON)
    return bundle


def read_images(splits):
    items = []
    with open(IMAGES_JSONL) as f:
        for line in f:
            if line.strip():
                item = json.loads(line)
                if item["split"] in splits:
                    items.append(item)
    return items


def data_root(args, bundle):
    if args.data_root:
        return os.path.abspath(args.data_root)
    copied = os.path.join(HERE, "data")
    if bundle["data"].get("copied") and os.path.isdir(copied):
        return copied
    return bundle["data"]["root"]


def check_files(items, root, verify):
    missing = [i["path"] for i in items if not os.path.isfile(os.path.join(root, i["path"]))]
    if missing:
        raise SystemExit("%d of %d images are missing under the data root %s (first: %s): pass --data-root DIR where the images are" % (len(missing), len(items), root, missing[0]))
    if verify:
        for i in items:
            with open(os.path.join(root, i["path"]), "rb") as f:
                if hashlib.sha256(f.read()).hexdigest() != i["hash"]:
                    raise SystemExit("%s differs from the image the project holds (SHA-256 mismatch)" % i["path"])


def predict_probabilities(model, pixels, device, batch=64):
    """pixels: [N, H, W, 3] RGB 0..255. Full float32 (no TF32, no autocast) for the parity check."""
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, pixels.shape[0], batch):
            x = pixels[i:i + batch].permute(0, 3, 1, 2).contiguous().float().to(device)
            out.append(F.softmax(model(x).float(), dim=1).cpu())
    return torch.cat(out)


def pick_device(requested, local_rank):
    if requested == "cuda" or (requested == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: torch.cuda.is_available() is False here (torch %s)" % torch.__version__)
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return "cpu (%s, %d threads)" % (platform.machine(), torch.get_num_threads())


def predict_main(args):
    bundle = read_bundle()
    model, impl = build_model(bundle, args.impl)
    weights = args.weights or os.path.join(args.out, "final.safetensors")
    load_weights(model, weights)
    device = pick_device(args.device, 0)
    model.to(device)
    pixels, _ = read_safetensors(args.predict)
    if "pixels" not in pixels:
        raise SystemExit("%s holds no tensor named pixels" % args.predict)
    probs = predict_probabilities(model, pixels["pixels"], device)
    result = {"probabilities": probs.tolist(), "weights": os.path.abspath(weights), "impl": impl, "device": device_name(device), "torch": torch.__version__}
    text = json.dumps(result)
    if args.out_json:
        with open(args.out_json, "w") as f:
            f.write(text)
    else:
        print(text)


def train_main(args):
    bundle = read_bundle()
    cfg = dict(bundle["config"])
    epochs = args.epochs or cfg["epochs"]
    batch = args.batch or cfg.get("batch") or 32
    lr_peak = args.lr or cfg["lr"]
    cfg["lr"] = lr_peak

    distributed = "WORLD_SIZE" in os.environ
    rank = int(os.environ.get("RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", 1))
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    device = pick_device(args.device, local_rank)
    if device.type == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // local_world))
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    main_process = rank == 0
    torch.manual_seed(cfg["seed"] * 7919 + rank)

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    metrics = os.path.join(out, "metrics.jsonl")
    checkpoint_path = os.path.join(out, "checkpoint.pt")

    root = data_root(args, bundle)
    train_items = read_images(["train"])
    val_items = read_images(["val"])
    if main_process:
        check_files(train_items + val_items, root, args.verify_hashes)
    model, impl = build_model(bundle, args.impl)
    load_weights(model, os.path.join(HERE, bundle["weights"]["file"]))
    model.to(device)

    classes = len(bundle["classes"])
    counts = [0] * classes
    for i in train_items:
        counts[i["label"]] += 1
    class_weights = None
    if cfg["imbalance"] == "weights":
        total = sum(counts)
        class_weights = torch.tensor([total / (classes * max(c, 1)) for c in counts], dtype=torch.float32, device=device)

    parts, frozen_bn = trainable_parts(model, cfg)
    for p in model.parameters():
        p.requires_grad_(False)
    for part in parts:
        for m in part.modules():
            if frozen_bn and isinstance(m, nn.BatchNorm2d):
                continue
            for p in m.parameters(recurse=False):
                p.requires_grad_(True)
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg["optimizer"] == "sgd":
        opt = torch.optim.SGD(params, lr=lr_peak, momentum=0.9, weight_decay=cfg["weightDecay"])
    elif cfg["optimizer"] == "adamw":
        opt = torch.optim.AdamW(params, lr=lr_peak, weight_decay=cfg["weightDecay"])
    else:
        opt = torch.optim.Adam(params, lr=lr_peak)
    amp = device.type == "cuda" and not args.no_amp
    scaler = torch.cuda.amp.GradScaler(enabled=amp)

    start_epoch, best, since_best, resumed = 0, None, 0, None
    if os.path.exists(checkpoint_path) and not args.restart:
        ck = torch.load(checkpoint_path, map_location="cpu")
        model.net.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        scaler.load_state_dict(ck["scaler"])
        start_epoch, best, since_best = ck["epoch"] + 1, ck["best"], ck["sinceBest"]
        resumed = ck["epoch"]
    if distributed:
        dist.barrier()
    if main_process:
        if resumed is None:
            for name in ("metrics.jsonl", "best.safetensors", "final.safetensors", "parity.json"):
                if os.path.exists(os.path.join(out, name)):
                    os.remove(os.path.join(out, name))
        else:
            keep_lines_up_to(metrics, resumed)
    hosts = [socket.gethostname()]
    if distributed:
        hosts = [None] * world
        dist.all_gather_object(hosts, socket.gethostname())
    where = {
        "hosts": sorted(set(hosts)),
        "worldSize": world,
        "nodes": len(set(hosts)),
        "device": device_name(device),
        "deviceType": device.type,
        "torch": torch.__version__,
        "cuda": torch.version.cuda if device.type == "cuda" else None,
        "python": platform.python_version(),
        "impl": impl,
        "amp": amp,
        "backend": dist.get_backend() if distributed else None,
    }
    if main_process:
        append_line(metrics, dict({"event": "start" if resumed is None else "resume", "fromEpoch": start_epoch, "epochs": epochs, "batchPerProcess": batch, "at": now()}, **where))
        print("effitune: %s %s, %d train / %d val images, %d process(es) on %s, epochs %d..%d" % (bundle["architecture"]["name"], impl, len(train_items), len(val_items), world, where["device"], start_epoch + 1, epochs), flush=True)

    dp_model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None) if distributed and params else model
    size = bundle["architecture"]["resolution"]
    augment = cfg["augment"] if cfg["mode"] != "head" else False
    train_set = Images(train_items, root, size, augment)
    sampler = ShardedSampler([i["label"] for i in train_items], world, rank, cfg["seed"], cfg["imbalance"] == "sampling")
    workers = args.workers if args.workers is not None else (4 if device.type == "cuda" else 0)
    loader = torch.utils.data.DataLoader(train_set, batch_size=batch, sampler=sampler, num_workers=workers, pin_memory=device.type == "cuda", drop_last=False, persistent_workers=workers > 0)
    val_share = val_items[rank::world]
    val_loader = torch.utils.data.DataLoader(Images(val_share, root, size, False), batch_size=batch, num_workers=workers, shuffle=False)
    steps = len(loader)

    stopped = "completed"
    for epoch in range(start_epoch, epochs):
        sampler.set_epoch(epoch)
        set_train_mode(model, parts, frozen_bn)
        started = time.time()
        sums = torch.zeros(3, dtype=torch.float64)
        lr = lr_peak
        for step, (x, y) in enumerate(loader):
            lr = lr_at(epoch + (step + 0.5) / steps, cfg, epochs)
            for g in opt.param_groups:
                g["lr"] = lr
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device_type=device.type, enabled=amp):
                logits = dp_model(x)
            loss = loss_of(logits, y, cfg["labelSmoothing"], class_weights)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            n = y.shape[0]
            sums += torch.tensor([loss.item() * n, (logits.argmax(1) == y).sum().item(), n], dtype=torch.float64)
        train_seconds = time.time() - started
        model.eval()
        vsums = torch.zeros(3, dtype=torch.float64)
        with torch.no_grad():
            for x, y in val_loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                n = y.shape[0]
                vsums += torch.tensor([loss_of(logits, y, cfg["labelSmoothing"], None).item() * n, (logits.argmax(1) == y).sum().item(), n], dtype=torch.float64)
        if distributed:
            both = torch.cat([sums, vsums])
            dist.all_reduce(both)
            sums, vsums = both[:3], both[3:]
        seconds = time.time() - started
        train_loss, train_acc = (sums[0] / sums[2]).item(), (sums[1] / sums[2]).item()
        val_loss = (vsums[0] / vsums[2]).item() if vsums[2] > 0 else None
        val_acc = (vsums[1] / vsums[2]).item() if vsums[2] > 0 else None
        improved = val_loss is not None and (best is None or val_loss < best["valLoss"])
        if improved:
            best, since_best = {"epoch": epoch, "valLoss": val_loss}, 0
        elif val_loss is not None:
            since_best += 1
        if main_process:
            if improved or best is None:
                write_safetensors(os.path.join(out, "best.safetensors"), weights_of(model), {"epoch": epoch})
            atomic_save({"epoch": epoch, "model": model.net.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict(), "best": best, "sinceBest": since_best}, checkpoint_path)
            record = {
                "event": "epoch", "epoch": epoch, "epochs": epochs, "trainLoss": train_loss, "trainAcc": train_acc, "valLoss": val_loss, "valAcc": val_acc,
                "lr": lr, "batch": batch * world, "seconds": seconds, "trainSeconds": train_seconds, "imagesPerSecond": int(sums[2].item()) / max(train_seconds, 1e-9),
                "worldSize": world, "device": where["device"], "torch": torch.__version__, "at": now(),
            }
            append_line(metrics, record)
            print("effitune: epoch %d/%d  loss %.4f  acc %.3f  val loss %s  val acc %s  %.1f images/s" % (epoch + 1, epochs, train_loss, train_acc, "%.4f" % val_loss if val_loss is not None else "-", "%.3f" % val_acc if val_acc is not None else "-", record["imagesPerSecond"]), flush=True)
        if distributed:
            dist.barrier()
        if cfg["patience"] > 0 and since_best >= cfg["patience"]:
            stopped = "early stopping: %d epochs without a better validation loss" % since_best
            break

    if main_process:
        finish(bundle, model, out, device, best, stopped, where)
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


def finish(bundle, model, out, device, best, stopped, where):
    """final.safetensors = the best epoch's weights (the model a finished Effitune run keeps), and
    the parity probabilities of those weights on the bundle's parity pixels."""
    best_file = os.path.join(out, "best.safetensors")
    tensors, _ = read_safetensors(best_file)
    write_safetensors(os.path.join(out, "final.safetensors"), tensors, {"bestEpoch": best["epoch"] if best else -1})
    load_weights(model, best_file)
    parity_file = os.path.join(HERE, bundle["parity"]["file"])
    parity = None
    if os.path.exists(parity_file):
        pixels, _ = read_safetensors(parity_file)
        probs = predict_probabilities(model, pixels["pixels"], device)
        parity = {"probabilities": probs.tolist(), "device": where["device"], "torch": torch.__version__}
        with open(os.path.join(out, "parity.json"), "w") as f:
            json.dump(parity, f)
    append_line(os.path.join(out, "metrics.jsonl"), dict({"event": "done", "reason": stopped, "bestEpoch": best["epoch"] if best else None, "final": "final.safetensors", "at": now()}, **where))
    print("effitune: done (%s); best epoch %s; weights in %s" % (stopped, best["epoch"] + 1 if best else "-", os.path.join(out, "final.safetensors")), flush=True)


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def main():
    parser = argparse.ArgumentParser(description="Effitune hand-off trainer (see README.md)")
    parser.add_argument("--epochs", type=int, help="total epochs (default: the bundle's configuration)")
    parser.add_argument("--batch", type=int, help="images per process and step (default: the configuration's, else 32)")
    parser.add_argument("--lr", type=float, help="peak learning rate (default: the configuration's)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--data-root", help="folder the image paths of images.jsonl are relative to")
    parser.add_argument("--out", default=os.path.join(HERE, "out"), help="checkpoints, log and final weights (default out/ in the bundle)")
    parser.add_argument("--workers", type=int, help="data loader processes per training process (default 4 on CUDA, 0 on CPU)")
    parser.add_argument("--impl", choices=["auto", "builtin", "timm"], default="auto", help="auto: timm when installed and the model is one of its EfficientNets, else the built-in network")
    parser.add_argument("--no-amp", action="store_true", help="train in float32 on CUDA too")
    parser.add_argument("--restart", action="store_true", help="ignore out/checkpoint.pt and start again from the initial weights")
    parser.add_argument("--verify-hashes", action="store_true", help="check every image's SHA-256 against the manifest before training")
    parser.add_argument("--predict", metavar="PIXELS", help="predict a pixels .safetensors instead of training")
    parser.add_argument("--weights", help="--predict: weights to use (default OUT/final.safetensors)")
    parser.add_argument("--out-json", help="--predict: write the probabilities here instead of stdout")
    args = parser.parse_args()
    if sys.byteorder != "little":
        raise SystemExit("this trainer reads little-endian safetensors on little-endian machines only")
    if args.predict:
        predict_main(args)
    else:
        train_main(args)


if __name__ == "__main__":
    main()
`;
