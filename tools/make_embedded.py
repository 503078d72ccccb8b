#!/usr/bin/env python3
"""Writes data/fashion-mnist-demo/: the first N_TRAIN training and N_TEST test images of Fashion-MNIST,
as gzipped IDX files, taken from Debian's `dataset-fashion-mnist` package.

    apt-get download dataset-fashion-mnist && dpkg -x dataset-fashion-mnist_*.deb x
    python3 tools/make_embedded.py x/usr/share/datasets/fashion-mnist
"""
import gzip, struct, sys, os

N_TRAIN, N_TEST = 6000, 1000
src = sys.argv[1]
dst = os.path.join(os.path.dirname(__file__), "..", "data", "fashion-mnist-demo")
os.makedirs(dst, exist_ok=True)

def subset(name, n):
    raw = gzip.open(os.path.join(src, name)).read()
    magic, count = struct.unpack(">II", raw[:8])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    per_item = 1
    for d in shape[1:]:
        per_item *= d
    header = struct.pack(">I", magic) + struct.pack(">I", n) + raw[8:4 + 4 * dims]
    body = raw[4 + 4 * dims: 4 + 4 * dims + n * per_item]
    # mtime=0 keeps the output byte-identical between runs.
    with gzip.GzipFile(os.path.join(dst, name), "wb", compresslevel=9, mtime=0) as f:
        f.write(header + body)

for name, n in [("train-images-idx3-ubyte.gz", N_TRAIN), ("train-labels-idx1-ubyte.gz", N_TRAIN),
                ("t10k-images-idx3-ubyte.gz", N_TEST), ("t10k-labels-idx1-ubyte.gz", N_TEST)]:
    subset(name, n)
