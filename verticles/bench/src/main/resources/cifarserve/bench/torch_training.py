#!/usr/bin/env python3
"""Training-throughput reference: the same network, batch and optimizer in PyTorch (the study's own
framework family), timed the way cifar-serve's TrainingProbe times DL4J: real CIFAR-10 images, batches
built before timing, warm-up excluded, median of timed windows. Prints one JSON object.

Installed from Debian (bench/reference/install.sh: python3-torch 1.13, CPU). `cifar-serve bench` runs it
from its jar in the same run as the DL4J figure (cifarserve.bench.TorchReference).
Usage: torch_training.py CIFAR_DIR [--threads 2] [--batch 64] [--warmup 3] [--windows 5] [--iterations 8]
"""
import argparse
import json
import os
import statistics
import time

import numpy as np
import torch
from torch import nn


def network():
    # Conv32-ReLU-Dropout-Conv32-MaxPool2 -> Conv64-ReLU-Dropout-Conv64-MaxPool2 -> Dense512 -> softmax(10),
    # as cifarserve.model.CifarCnn (3x3 same convolutions, ReLU after each, dropout 0.25/0.25/0.5).
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Dropout(0.25),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Dropout(0.25),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 512), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(512, 10))


def batches(cifar_dir, batch, count):
    raw = np.fromfile(os.path.join(cifar_dir, "data_batch_1.bin"), dtype=np.uint8).reshape(-1, 3073)
    raw = raw[: batch * count]
    labels = torch.from_numpy(raw[:, 0].astype(np.int64))
    pixels = raw[:, 1:].reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    pixels = (pixels - pixels.mean(axis=(0, 2, 3), keepdims=True)) / pixels.std(axis=(0, 2, 3), keepdims=True)
    x = torch.from_numpy(pixels)
    return [(x[i:i + batch].contiguous(), labels[i:i + batch]) for i in range(0, batch * count, batch)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cifar_dir")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--windows", type=int, default=5)
    p.add_argument("--iterations", type=int, default=8)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    model = network()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    data = batches(a.cifar_dir, a.batch, 32)
    model.train()
    step = 0

    def fit():
        nonlocal step
        x, y = data[step % len(data)]
        step += 1
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(a.warmup):
        first_loss = fit()
    rates = []
    for _ in range(a.windows):
        t0 = time.perf_counter()
        for _ in range(a.iterations):
            last_loss = fit()
        rates.append(a.iterations * a.batch / (time.perf_counter() - t0))
    print(json.dumps({"framework": "PyTorch " + torch.__version__, "threads": a.threads, "batch": a.batch,
                      "imagesPerSecond": statistics.median(rates), "windows": rates,
                      "firstLoss": first_loss, "lastLoss": last_loss}))


if __name__ == "__main__":
    main()
