#!/usr/bin/env bash
# The GPU measurements of BENCHMARKS.md, in one script, on a machine with an NVIDIA GPU, PyTorch (python3) and
# no Rust toolchain. Run from the repository root with the Vulkan build at $TRGL (built elsewhere:
# `CARGO_TARGET_DIR=target/vk cargo build --release --features vulkan`) and, when the machine lacks the Vulkan
# loader, its Debian package in .gl/. Results go to $OUT (default /tmp/trgl-gpu).
set -uo pipefail
OUT=${OUT:-/tmp/trgl-gpu}
mkdir -p "$OUT"
T=${TRGL:-target/vk/release/trgl}
if [ -f "$T.xz" ] && [ ! -x "$T" ]; then xz -dk "$T.xz"; chmod +x "$T"; fi
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export PYTHONUNBUFFERED=1
log() { echo "== $*" | tee -a "$OUT/log.txt"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))' | tee -a "$OUT/gpu.txt"

# Peak device memory of one command, as the driver sees it (sampled every 20 ms, minus the idle level).
peak_mib() {
  local idle; idle=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits | head -1)
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 20 > "$OUT/mem.samples" &
  local sampler=$!
  "$@" > /dev/null 2>>"$OUT/log.txt"
  local rc=$?
  kill $sampler; wait $sampler 2>/dev/null
  echo "$(( $(sort -n "$OUT/mem.samples" | tail -1) - idle )) rc=$rc"
}

# 1. Kernel compilation and autotune cache: the same first step twice, in two processes.
for run in 1 2; do
  log "resnet20 e2e first step, process $run"
  timeout 240 "$T" bench step --model resnet20 --modules 4 --batch 128 --mode e2e --steps 3 --warmup 1 --json \
    --set 'device="vulkan:0"' > "$OUT/first_step_$run.json" 2>>"$OUT/log.txt"
  python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['timings'][0]; print('first step', round(t['first_step_seconds'],2), 's; then', round(t['images_per_second'],1), 'img/s')" "$OUT/first_step_$run.json" | tee -a "$OUT/log.txt"
done

# 2. Throughput, trgl (Vulkan) vs PyTorch eager (CUDA), same model, split, heads, loss, optimizers.
for cfg in "resnet20 128" "resnet20 1024" "resnet110 128" "resnet110 1024"; do
  set -- $cfg
  log "compare $1 batch $2"
  timeout 300 python3 benches/compare_step.py --trgl "$T" --device vulkan:0 --model "$1" --modules 4 --batch "$2" \
    --mode e2e+parallel --steps 5 --warmup 3 2>>"$OUT/log.txt" | tee "$OUT/compare_$1_$2.txt"
done

# 3. Pipelined parallel mode on the one GPU, against the serial parallel mode.
log "pipelined resnet20 K=4 batch 128"
timeout 240 "$T" bench step --model resnet20 --modules 4 --batch 128 --mode pipelined --steps 20 \
  --set 'device="vulkan:0"' --set train.pipeline_workers=4 2>>"$OUT/log.txt" | tee "$OUT/pipelined.txt"

# 4. Peak device memory of each mode's step, resnet110 K=4 (balanced split), one process each.
for batch in 128 1024; do
  for mode in e2e parallel sequential; do
    log "peak memory resnet110 batch $batch $mode"
    echo "resnet110 K=4 balanced batch $batch $mode: $(peak_mib timeout 240 "$T" bench step --model resnet110 --modules 4 --batch $batch \
      --mode $mode --steps 2 --warmup 1 --set 'device="vulkan:0"' --set 'split.method="balanced"') MiB" | tee -a "$OUT/memory.txt"
  done
  log "peak memory PyTorch resnet110 batch $batch"
  timeout 240 python3 benches/reference/trgl_step.py --model resnet110 --bounds "$("$T" bench step --model resnet110 --modules 4 --batch 2 --mode e2e --steps 1 --warmup 0 --json --set 'split.method="balanced"' | python3 -c 'import json,sys; print(",".join(map(str, json.load(sys.stdin)["bounds"])))')" \
    --batch $batch --device cuda --format nchw --mode all --steps 2 --warmup 1 --json > "$OUT/torch_memory_$batch.json" 2>>"$OUT/log.txt"
  python3 -c "
import json,sys
for r in json.load(open(sys.argv[1])): print('PyTorch resnet110 K=4 balanced batch', sys.argv[2], r['kind'], round(r['max_memory_allocated']/2**20), 'MiB allocated')" "$OUT/torch_memory_$batch.json" $batch | tee -a "$OUT/memory.txt"
done
log done
