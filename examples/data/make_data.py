#!/usr/bin/env python3
"""Regenerates the small data fixtures in this directory from Fashion-MNIST.

Run from anywhere:  /usr/bin/python3 examples/data/make_data.py [FASHION_MNIST_DIR]
Needs python3-numpy (apt-get install python3-numpy). FASHION_MNIST_DIR holds the four
*-ubyte.gz files (default /usr/share/datasets/fashion-mnist). Output is deterministic.

  fashion-test-100.npz      Keras style, stored: x_train/y_train/x_test/y_test, uint8, the
                            first 100 train and test images [100,28,28] and labels [100]
  fashion-test-20-f32.npy   float32 [20,28,28,1]: the first 20 test images scaled to 0..1
  fashion-test-50-xy.npz    deflated: x uint8 [50,28,28] and y int64 [50], first 50 test images
  npy-formats/              tiny arrays exercising the .npy format (header versions, dtypes,
                            byte order, Fortran order) for the reader's tests
"""
import gzip
import os
import sys

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"


def idx(name, header):
    with gzip.open(os.path.join(SOURCE, name)) as f:
        return np.frombuffer(f.read()[header:], dtype=np.uint8)


def split(prefix):
    x = idx(prefix + "-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    y = idx(prefix + "-labels-idx1-ubyte.gz", 8)
    return x, y


def write_npy(path, array, version=None, fortran=False):
    if fortran:
        array = np.asfortranarray(array)
    with open(path, "wb") as f:
        npformat.write_array(f, array, version=version, allow_pickle=False)


def main():
    x_train, y_train = split("train")
    x_test, y_test = split("t10k")
    np.savez(os.path.join(HERE, "fashion-test-100.npz"),
             x_train=x_train[:100], y_train=y_train[:100], x_test=x_test[:100], y_test=y_test[:100])
    np.save(os.path.join(HERE, "fashion-test-20-f32.npy"),
            (x_test[:20].astype(np.float32) / np.float32(255)).reshape(20, 28, 28, 1))
    np.savez_compressed(os.path.join(HERE, "fashion-test-50-xy.npz"),
                        x=x_test[:50], y=y_test[:50].astype(np.int64))

    formats = os.path.join(HERE, "npy-formats")
    os.makedirs(formats, exist_ok=True)
    small = np.arange(12, dtype=np.float32).reshape(3, 2, 2) / 4  # 0, 0.25, ... 2.75
    write_npy(os.path.join(formats, "v1-f4.npy"), small, version=(1, 0))
    write_npy(os.path.join(formats, "v2-f4.npy"), small, version=(2, 0))
    write_npy(os.path.join(formats, "v3-f4.npy"), small, version=(3, 0))
    write_npy(os.path.join(formats, "be-f4.npy"), small.astype(">f4"))
    write_npy(os.path.join(formats, "f8.npy"), small.astype(np.float64))
    write_npy(os.path.join(formats, "i4.npy"), np.arange(12, dtype=np.int32).reshape(3, 2, 2))
    write_npy(os.path.join(formats, "fortran.npy"), small, fortran=True)
    write_npy(os.path.join(formats, "c8.npy"), small.astype(np.complex64))
    np.savez(os.path.join(formats, "f8-i4.npz"),
             x=small.astype(np.float64), y=np.array([2, 0, 1], dtype=np.int32))
    np.savez(os.path.join(formats, "onehot.npz"), x=small, y=np.eye(3, dtype=np.float32))
    np.savez(os.path.join(formats, "x-only.npz"), x=small)
    np.savez(os.path.join(formats, "train-only.npz"), x_train=small, y_train=np.array([0, 1, 2], dtype=np.uint8))


if __name__ == "__main__":
    main()
