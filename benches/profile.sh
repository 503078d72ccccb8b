#!/usr/bin/env bash
# Where a training step's time goes on Flex: samples `trgl bench step` with perf and groups the self time by
# what the symbols do. Needs `perf` (Debian: linux-perf) and a release build.
#   benches/profile.sh [--model resnet20] [--modules 4] [--batch 128] [--mode parallel]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
mode=(--mode parallel)
for a in "$@"; do [[ $a == --mode || $a == --mode=* ]] && mode=(); done
perf record -F 499 -g -o "$out/perf.data" -- ./target/release/trgl bench step --steps 5 --warmup 1 "${mode[@]}" "$@" >"$out/step.txt" 2>&1
cat "$out/step.txt"
perf report -i "$out/perf.data" --no-children --sort symbol --stdio 2>/dev/null | python3 -c '
import re, sys
groups = [
    ("convolution: Winograd transforms, im2col, col2im (patched burn-flex) or the unpatched conv_transpose scatter", r"conv2d_winograd|winograd_rows|conv2d_gemm|im2col|col2im|conv_transpose|conv3d|conv2d_f32"),
    ("GEMM micro-kernels and packing (convolutions, linear heads)", r"gemm"),
    ("batch norm (patched burn-flex)", r"batch_norm"),
    ("copies: memmove (im2col rows), layout copies", r"memmove|memcpy|copy_2d|copy_strided|contiguous"),
    ("zero-fill of new buffers (memset)", r"memset|clear_page|filled"),
    ("element-wise: ReLU, add, kinetic term, SGD update", r"binary|unary|zip|macerator|scalar|relu|combine|sqrt"),
    ("reductions (means, pooling)", r"reduce|sum|mean|pool"),
    ("kernel: page faults, scheduling, allocation", r"^\[k\]"),
]
total, acc = 0.0, {g: 0.0 for g, _ in groups}
other = 0.0
for line in sys.stdin:
    m = re.match(r"\s+([0-9.]+)%\s+(\[[.k]\])\s+(.*)", line)
    if not m:
        continue
    pct, kind, sym = float(m.group(1)), m.group(2), m.group(3)
    total += pct
    key = kind + " " + sym
    for g, pat in groups:
        if re.search(pat, key if g.startswith("kernel") else sym):
            acc[g] += pct
            break
    else:
        other += pct
print("share of samples".rjust(17) + "  where")
for g, _ in groups:
    print(f"{acc[g]:>16.1f}%  {g}")
print(f"{other:>16.1f}%  other (autodiff bookkeeping, allocator, rayon, …)")
'
rm -rf "$out"
