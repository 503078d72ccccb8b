#!/usr/bin/env bash
# The GPU measurements of BENCHMARKS.md in one script, for a machine with an NVIDIA GPU, PyTorch (python3)
# and no Rust toolchain. Run from the repository root with trgl's Vulkan builds made elsewhere:
#   CARGO_TARGET_DIR=target/vk cargo build --release --features vulkan          -> $TRGL_VULKAN
#   CARGO_TARGET_DIR=target/vk cargo build --release --features vulkan,fusion   -> $TRGL_FUSION
# (a `.xz` beside a path is unpacked first) and, where the machine lacks the Vulkan loader, its Debian
# packages in .gl/. BUDGET (seconds, default 480) bounds the whole script; what it measured by then stays.
# Writes $OUT/results.txt (the tables), $OUT/log.txt (stderr) and $OUT/*.json.
set -uo pipefail
OUT=${OUT:-/tmp/trgl-gpu}
mkdir -p "$OUT"
BUDGET=${BUDGET:-480}
deadline=$(( $(date +%s) + BUDGET ))
left() { echo $(( deadline - $(date +%s) )); }
R="$OUT/results.txt"
L="$OUT/log.txt"
say() { echo "$*" | tee -a "$R"; }
unpack() {
  if [ ! -x "$1" ] && [ -f "$1.xz" ]; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1.xz" "$1" && chmod +x "$1"
  fi
}
V=${TRGL_VULKAN:-target/vk/release/trgl}
F=${TRGL_FUSION:-}
unpack "$V"
[ -n "$F" ] && unpack "$F"
# The Vulkan loader and the GL dispatch libraries the NVIDIA ICD needs, when brought along.
if ls .gl/*.deb >/dev/null 2>&1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  VK_DRIVER_FILES=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
  export VK_DRIVER_FILES
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$R"
echo "Vulkan ICD: $VK_DRIVER_FILES" | tee -a "$R"
python3 -c 'import torch; print("PyTorch", torch.__version__, torch.cuda.get_device_name(0))' | tee -a "$R"
say "== trgl devices"
timeout 60 "$V" devices 2>>"$L" | tee -a "$R"
say "== a device that is not there: an error, not a panic"
timeout 60 "$V" bench step --model resnet8 --modules 2 --batch 8 --steps 1 --warmup 0 --set 'device="vulkan:integrated:3"' >>"$R" 2>&1
say "exit status $?"

builds=(--trgl "vulkan=$V")
[ -n "$F" ] && builds+=(--trgl "fusion=$F")
table() { # json-name budget workloads...
  local name=$1 budget=$2; shift 2
  local args=()
  for w in "$@"; do args+=(--workload "$w"); done
  timeout $(( budget + 200 )) python3 benches/device/gpu_table.py "${builds[@]}" "${args[@]}" --steps 20 --warmup 3 \
    --budget "$budget" --timeout 150 --out "$OUT" --json "$name" 2>>"$L" | tee -a "$R"
}
kernels() { # binary name mode
  say "== kernels, $2 build, resnet20 K=4 batch 128, $3 step"
  timeout 120 "$1" bench kernels --model resnet20 --modules 4 --batch 128 --mode "$3" --steps 5 --warmup 3 --top 12 \
    --set 'device="vulkan:0"' 2>>"$L" | tee -a "$R"
}

# 1. The workload first: resnet20 K=4 batch 128, both builds against PyTorch; then where its time goes.
say "== throughput and device memory (trgl: nvidia-smi, driver's view; PyTorch: max_memory_allocated)"
table first.json 200 resnet20:4:128
kernels "$V" vulkan parallel
[ -n "$F" ] && kernels "$F" fusion parallel
kernels "$V" vulkan e2e
# 2. The other sizes, as long as the budget lasts.
rest=$(( $(left) - 60 ))
if [ "$rest" -gt 30 ]; then
  table rest.json "$rest" resnet110:4:128 resnet20:1:128 resnet20:4:1024 resnet110:1:128 resnet110:4:1024 resnet20:1:1024 resnet110:1:1024
fi
say "tch (libtorch): not measured: tch 0.22 builds against libtorch 2.9.0, this machine's PyTorch is $(python3 -c 'import torch; print(torch.__version__)')"
say "== done, $(left) s of the budget left"
