#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/corpus/<target>/): small valid files cut from the real data in
../shared/data where it exists (Fashion-MNIST IDX headers and images, CIFAR-10 JPEGs), the files of a real run
of target/release/trgl (config, metrics, checkpoint state, SHA256SUMS, preprocess.json, sweep manifest), and
the hostile files the reliability work names: an IDX of 0×0 images and a 1 MB gzip bomb (1 GiB of zeros behind
a header declaring 10 images of 28×28). Usage: tools/fuzz/make_corpus.py [SHARED_DATA_DIR]. Standard library
only; deterministic."""
import gzip, hashlib, io, json, os, random, shutil, struct, subprocess, sys, tarfile, tempfile, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
rng = random.Random(2026)


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def idx(dims, body):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


def gz(data, level=6):
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=level, mtime=0) as f:
        f.write(data)
    return out.getvalue()


# ---- IDX: real heads of Fashion-MNIST (3 images, 8 labels), raw and gzipped; 0×0 images; the bomb
fm = os.path.join(SHARED, "fashion-mnist")
if os.path.isdir(fm):
    images = gzip.open(os.path.join(fm, "t10k-images-idx3-ubyte.gz")).read(16 + 3 * 784)
    labels = gzip.open(os.path.join(fm, "t10k-labels-idx1-ubyte.gz")).read(8 + 8)
    real_images = idx([3, 28, 28], images[16:])
    real_labels = idx([8], labels[8:])
else:
    print(f"no Fashion-MNIST in {fm}: synthetic IDX seeds", file=sys.stderr)
    real_images = idx([3, 28, 28], bytes(rng.randrange(256) for _ in range(3 * 784)))
    real_labels = idx([8], bytes(rng.randrange(10) for _ in range(8)))
put("idx", "images-3x28x28", real_images)
put("idx", "images-3x28x28.gz", gz(real_images))
put("idx", "labels-8", real_labels)
put("idx", "labels-8.gz", gz(real_labels))
put("idx", "zero-by-zero-images", idx([3, 0, 0], b""))
bomb = io.BytesIO()
with gzip.GzipFile(fileobj=bomb, mode="wb", compresslevel=9, mtime=0) as f:
    f.write(idx([10, 28, 28], b"")[:16])
    zeros = bytes(1 << 20)
    for _ in range(1024):
        f.write(zeros)
put("idx", "gzip-bomb-1GiB-behind-10x28x28.gz", bomb.getvalue())

# ---- CIFAR binary batches and STL-10: two records each (their files are not in ../shared/data)
put("cifar", "two-records-1-label-byte", b"".join(bytes([i]) + bytes(rng.randrange(256) for _ in range(3072)) for i in (3, 7)))
put("cifar", "two-records-2-label-bytes", b"".join(bytes([i, 10 * i]) + bytes(rng.randrange(256) for _ in range(3072)) for i in (1, 4)))
put("stl10", "one-image", bytes(rng.randrange(256) for _ in range(3 * 96 * 96)))
put("stl10", "labels", bytes([1, 2, 10]))

# ---- MAT v5 (SVHN's layout: X uint8 32×32×3×N, y double N×1), plain and with compressed variables
def mat_element(kind, data):
    pad = (8 - len(data) % 8) % 8
    return struct.pack("<II", kind, len(data)) + data + bytes(pad)


def mat_matrix(name, mclass, dims, data_kind, data):
    flags = mat_element(6, struct.pack("<II", mclass, 0))
    dims_el = mat_element(5, b"".join(struct.pack("<i", d) for d in dims))
    return mat_element(14, flags + dims_el + mat_element(1, name.encode()) + mat_element(data_kind, data))


def mat_file(n, compress):
    header = b"MATLAB 5.0 MAT-file, made by trgl's fuzz corpus".ljust(116) + bytes(8) + struct.pack("<H", 0x0100) + b"IM"
    x = mat_matrix("X", 9, [32, 32, 3, n], 2, bytes(rng.randrange(256) for _ in range(32 * 32 * 3 * n)))
    y = mat_matrix("y", 6, [n, 1], 9, b"".join(struct.pack("<d", float(1 + i % 10)) for i in range(n)))
    if compress:
        return header + b"".join(mat_element(15, zlib.compress(v)) for v in (x, y))
    return header + x + y


put("svhn_mat", "two-images.mat", mat_file(2, False))
put("svhn_mat", "one-image-compressed.mat", mat_file(1, True))

# ---- images and an ImageFolder archive: real CIFAR-10 JPEGs where available
jpegs = []
cifar = os.path.join(SHARED, "cifar10-images.tar.gz")
if os.path.isfile(cifar):
    with tarfile.open(cifar) as t:
        seen = {}
        for m in t:
            if m.isfile() and m.name.lower().endswith((".jpg", ".jpeg", ".png")):
                cls = m.name.split("/")[-2]
                if seen.get(cls, 0) < 2 and len(seen) <= 3:
                    seen[cls] = seen.get(cls, 0) + 1
                    jpegs.append((m.name, t.extractfile(m).read()))
            if len(jpegs) >= 6:
                break


def png(w, h):
    raw = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(3 * w)) for _ in range(h))
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


put("image", "rgb-6x5.png", png(6, 5))
for i, (name, data) in enumerate(jpegs[:3]):
    put("image", f"cifar10-{i}.jpg", data)
members = [(f"train/{n.split('/')[-2]}/{i}.jpg", d) for i, (n, d) in enumerate(jpegs)] or [(f"train/c{i % 2}/{i}.png", png(4, 4)) for i in range(4)]
for compressed in (False, True):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if compressed else "w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            t.addfile(info, io.BytesIO(data))
    put("image_folder_tar", "set.tar.gz" if compressed else "set.tar", out.getvalue())

# ---- files of a real run (a tiny one, on the embedded data) and of a real sweep
trgl = os.path.join(ROOT, "target", "release", "trgl")
if os.path.exists(trgl):
    with tempfile.TemporaryDirectory() as tmp:
        run = os.path.join(tmp, "run")
        subprocess.run([trgl, "train", "--config", os.path.join(ROOT, "configs", "demo.toml"), "--set", f'output.dir="{run}"',
                        "--set", "data.train_limit=256", "--set", "data.val_fraction=0", "--set", "data.test_limit=64", "--set", "train.max_steps_per_epoch=2",
                        "--set", "train.ne1=1", "--set", "train.ne2=1", "--set", "output.progress=false", "--set", "output.timings=false"],
                       check=True, capture_output=True)
        for name in ("metrics.jsonl", "SHA256SUMS", "preprocess.json"):
            target = {"metrics.jsonl": "metrics", "SHA256SUMS": "sha256sums", "preprocess.json": "preprocess"}[name]
            put(target, name, open(os.path.join(run, name), "rb").read())
        put("checkpoint_state", "state.json", open(os.path.join(run, "checkpoint", "state.json"), "rb").read())
        put("sha256sums", "checkpoint-SHA256SUMS", open(os.path.join(run, "checkpoint", "SHA256SUMS"), "rb").read())
        put("config", "resolved-config.toml", open(os.path.join(run, "config.toml"), "rb").read())
        sweep = os.path.join(tmp, "sweep.toml")
        with open(sweep, "w") as f:
            f.write(f'dir = "{tmp}/sw"\nset = ["data.train_limit=64", "data.test_limit=32", "data.batch_size=32", "train.epochs=1", "train.max_steps_per_epoch=1", "model.width=4", "output.progress=false"]\n'
                    '[config]\nseed = 0\n[config.train]\nmode = "parallel"\n[axes]\nseed = [0, 1]\n"method.tau" = [1.0, inf]\n')
        subprocess.run([trgl, "sweep", sweep, "--jobs", "1"], check=True, capture_output=True)
        put("sweep_manifest", "manifest.json", open(os.path.join(tmp, "sw", "manifest.json"), "rb").read())
else:
    print(f"no {trgl}: build it first for the run-file seeds", file=sys.stderr)

for name in sorted(os.listdir(os.path.join(ROOT, "configs"))):
    if name.endswith(".toml"):
        put("config", name, open(os.path.join(ROOT, "configs", name), "rb").read())
for name in sorted(os.listdir(os.path.join(ROOT, "configs", "sweeps"))):
    text = open(os.path.join(ROOT, "configs", "sweeps", name)).read()
    put("sweep", name, "\n".join(l for l in text.splitlines() if not l.startswith("base")) + "\n[config]\nseed = 1\n")

# ---- a decoded-set cache (TRGLSET2: magic, SHA-256 of the body, then train and test sets)
def cache_set(n, c, h, w, classes):
    header = json.dumps({"channels": c, "classes": classes, "height": h, "n": n, "width": w}, separators=(",", ":")).encode()
    return struct.pack("<Q", len(header)) + header + b"".join(struct.pack("<H", i % len(classes)) for i in range(n)) + bytes(rng.randrange(256) for _ in range(n * c * h * w))


body = cache_set(3, 1, 4, 4, ["a", "b"]) + cache_set(2, 1, 4, 4, ["a", "b"])
put("decoded_cache", "set.trglset", b"TRGLSET2" + hashlib.sha256(body).digest() + body)
print("corpora in", CORPUS)
for t in sorted(os.listdir(CORPUS)):
    files = os.listdir(os.path.join(CORPUS, t))
    print(f"  {t}: {len(files)} files, {sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)} bytes")
