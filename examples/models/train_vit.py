"""Trains the example transformer teacher, examples/models/fashion-vit.onnx.

Run from the repository root (Debian's python3-torch 1.13 and python3-onnx; nothing else):

    /usr/bin/python3 examples/models/train_vit.py

evoc trains its MLP and LeNet-5 teachers itself (./evoc train); this one comes from PyTorch so that
evoc is shown on a transformer written by another exporter. The architecture is the fixtures'
TorchVit (examples/fixtures/make_fixtures.py), twice as wide, with four heads. Inputs are the images
scaled to [0, 1], as evoc feeds uint8 data by default. Seeded: a rerun on the same machine gives the
same file; threads are pinned to 2 so that another machine gives the same arithmetic order.
"""

import gzip
import os
import sys
import time

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_fixtures import TorchVit  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion-vit.onnx")
EPOCHS, BATCH, RATE, SEED = 8, 128, 1e-3, 1


def idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        right = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000))
    return right / len(x)


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(2)
    x = torch.tensor(idx("train-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    y = torch.tensor(idx("train-labels-idx1-ubyte.gz"), dtype=torch.int64)
    tx = torch.tensor(idx("t10k-images-idx3-ubyte.gz"), dtype=torch.float32).unsqueeze(1) / 255
    ty = torch.tensor(idx("t10k-labels-idx1-ubyte.gz"), dtype=torch.int64)
    model = TorchVit(width=64, layers=1, feedforward=128, heads=4)
    optimizer = torch.optim.Adam(model.parameters(), lr=RATE)
    started = time.time()
    for epoch in range(EPOCHS):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), BATCH):
            batch = order[i:i + BATCH]
            loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: test accuracy {accuracy(model, tx, ty):.4f} ({time.time() - started:.0f} s)",
              flush=True)
    model.eval()
    torch.onnx.export(model, x[:2], OUT, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=14)
    onnx.checker.check_model(onnx.load(OUT))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes), test accuracy {accuracy(model, tx, ty):.4f}")


if __name__ == "__main__":
    main()
