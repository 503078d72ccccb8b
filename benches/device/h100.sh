#!/usr/bin/env bash
# The GPU measurements of BENCHMARKS.md, in one script, for a machine with an NVIDIA GPU, PyTorch (python3)
# and no Rust toolchain. Run from the repository root with the Vulkan build at $TRGL (made elsewhere with
# `CARGO_TARGET_DIR=target/vk cargo build --release --features vulkan`; `$TRGL.xz` is unpacked if present)
# and, where the machine lacks the Vulkan loader, its Debian package in .gl/.
# Writes $OUT/results.txt (the tables), $OUT/log.txt (stderr) and $OUT/details.tar.gz (the JSON).
set -uo pipefail
OUT=${OUT:-/tmp/trgl-gpu}
mkdir -p "$OUT"
T=${TRGL:-target/vk/release/trgl}
if [ ! -x "$T" ] && [ -f "$T.xz" ]; then
  python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$T.xz" "$T" && chmod +x "$T"
fi
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
J=$(mktemp -d)
R="$OUT/results.txt"
L="$OUT/log.txt"
say() { echo "$*" | tee -a "$R"; }
trap 'tar -czf "$OUT/details.tar.gz" -C "$J" . 2>/dev/null' EXIT
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$R"
echo "Vulkan ICD: $VK_DRIVER_FILES" | tee -a "$R"
# (judged by the output: the process may crash in NVIDIA's driver while it exits, after its work is done)
timeout 120 "$T" bench step --model resnet8 --modules 2 --batch 8 --mode e2e --steps 1 --warmup 1 --set 'device="vulkan:0"' > "$J/probe.txt" 2>>"$L"
if ! grep -q img/s "$J/probe.txt"; then
  say "trgl cannot open the GPU through Vulkan; details in log.txt"
  { ldconfig -p | grep -i -E "vulkan|nvidia|GLdispatch"; cat "$VK_DRIVER_FILES"; } >> "$L" 2>&1
  exit 1
fi
python3 -c 'import torch; print("PyTorch", torch.__version__, torch.cuda.get_device_name(0))' | tee -a "$R"

# Peak device memory of one command as the driver sees it (sampled every 20 ms), minus the idle level.
peak_mib() {
  local idle; idle=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 20 > "$J/mem.samples" &
  local sampler=$!
  "$@" > /dev/null 2>>"$L"
  local rc=$?
  kill $sampler; wait $sampler 2>/dev/null
  echo "$(( $(sort -n "$J/mem.samples" | tail -1) - idle )) MiB (rc $rc)"
}

compare() { # model batch
  say "== trgl (Vulkan) vs PyTorch eager (CUDA): $1 K=4 batch $2"
  timeout 200 python3 benches/compare_step.py --trgl "$T" --device vulkan:0 --model "$1" --modules 4 --batch "$2" \
    --mode e2e+parallel --steps 5 --warmup 3 2>>"$L" | tee -a "$R"
}

# 1. Throughput at batch 128 (the issue's target) and the first step's compile/autotune time.
compare resnet20 128

# 2. Peak device memory per mode, resnet110 K=4 with the memory-balanced split.
for batch in 128 1024; do
  for mode in e2e parallel sequential; do
    say "peak device memory, trgl, resnet110 K=4 balanced, batch $batch, $mode steps: $(peak_mib timeout 150 "$T" bench step \
      --model resnet110 --modules 4 --batch $batch --mode $mode --steps 2 --warmup 1 --set 'device="vulkan:0"' --set 'split.method="balanced"')"
  done
  bounds=$("$T" bench step --model resnet110 --modules 4 --batch 2 --mode e2e --steps 1 --warmup 0 --json --set 'split.method="balanced"' 2>>"$L" \
    | python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["bounds"])))')
  timeout 150 python3 benches/reference/trgl_step.py --model resnet110 --bounds "$bounds" --batch $batch --device cuda --format nchw \
    --mode all --steps 2 --warmup 1 --json > "$J/torch_memory_$batch.json" 2>>"$L"
  python3 - "$J/torch_memory_$batch.json" $batch <<'PY' | tee -a "$R"
import json, sys
rows = json.load(open(sys.argv[1]))
for r in rows:
    print(f"peak device memory, PyTorch (max_memory_allocated), resnet110 K=4 balanced, batch {sys.argv[2]}, {r['kind']}: {r['max_memory_allocated'] / 2**20:.0f} MiB")
PY
done

# 3. A second process: is the first step's compilation/autotuning cached on disk?
for run in 1 2; do
  timeout 120 "$T" bench step --model resnet20 --modules 4 --batch 128 --mode e2e --steps 3 --warmup 1 --json \
    --set 'device="vulkan:0"' > "$J/first_step_$run.json" 2>>"$L"
  python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['timings'][0]; print('resnet20 e2e, fresh process', sys.argv[2], ': first step', round(t['first_step_seconds'],2), 's, then', round(t['images_per_second'],1), 'img/s')" "$J/first_step_$run.json" $run | tee -a "$R"
done

# 4. Pipelined parallel mode (4 workers, one per module) against the serial parallel mode, one GPU.
say "== pipelined vs serial parallel mode, resnet20 K=4 batch 128, Vulkan"
timeout 150 "$T" bench step --model resnet20 --modules 4 --batch 128 --mode pipelined --steps 20 \
  --set 'device="vulkan:0"' --set train.pipeline_workers=4 2>>"$L" | tee -a "$R"

# 5. The other sizes.
compare resnet110 128
compare resnet20 1024
compare resnet110 1024
say "== done"
