#!/usr/bin/env python3
"""The PyTorch reference of the gpu-train bench (issue 13's anchor: PyTorch fp32 B0 training at
224 px, batch 32): torchvision's EfficientNet-B0 (the same architecture as timm's and ours), Adam,
softmax cross-entropy with label smoothing 0.1, random data, on one device. Prints one JSON line:
training and inference images/s, after warm-up steps, timed with the device synchronised.

  python3 scripts/device/torch_b0_train.py [--device cuda] [--batch 32] [--resolution 224] [--steps 30]
"""
import argparse
import json
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--resolution', type=int, default=224)
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--warmup', type=int, default=10)
    ap.add_argument('--classes', type=int, default=10)
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.backends.cudnn.benchmark = True
    # fp32 as ours: no TF32 tensor-core shortcut for the convolutions and matmuls
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    model = torchvision.models.efficientnet_b0(num_classes=a.classes).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    x = torch.rand(a.batch, 3, a.resolution, a.resolution, device=dev)
    y = torch.arange(a.batch, device=dev) % a.classes
    sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    model.train()
    for _ in range(a.warmup):
        step()
    sync()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    sync()
    train_s = time.perf_counter() - t
    model.eval()
    with torch.no_grad():
        for _ in range(a.warmup):
            model(x)
        sync()
        t = time.perf_counter()
        for _ in range(a.steps):
            model(x)
        sync()
        infer_s = time.perf_counter() - t
    print(json.dumps({
        'bench': 'gpu-train-torch-reference',
        'torch': torch.__version__,
        'torchvision': torchvision.__version__,
        'device': torch.cuda.get_device_name(0) if dev.type == 'cuda' else 'cpu',
        'variant': 'b0', 'resolution': a.resolution, 'batch': a.batch, 'fp32': True, 'tf32': False,
        'steps': a.steps,
        'msPerStep': round(1000 * train_s / a.steps, 2),
        'trainImagesPerSecond': round(a.batch * a.steps / train_s, 1),
        'inferImagesPerSecond': round(a.batch * a.steps / infer_s, 1),
    }))


if __name__ == '__main__':
    main()
