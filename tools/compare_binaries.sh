#!/usr/bin/env bash
# Two builds of trgl side by side, for a change that must not change training (a refactor):
#   1. every mode (e2e, sequential, multi-lap, parallel, pipelined; Uzawa τ; the prefix cache in the
#      sequential modes) trained by both: metrics.jsonl (timings off) and the exported tensors must be
#      identical, byte for byte;
#   2. train-step throughput (`trgl bench step`, e2e and parallel), the two binaries alternating, ROUNDS
#      rounds: the median img/s of each and their ratio.
# usage: tools/compare_binaries.sh OLD_BINARY NEW_BINARY [ROUNDS=5]   (from the repository root)
set -euo pipefail
old=$1 new=$2 rounds=${3:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

same=0
for mode in e2e sequential multilap parallel pipelined; do
  extra=(--set train.epochs=2)
  [ "$mode" = multilap ] && extra=(--set train.laps=2)
  [ "$mode" = sequential ] && extra=()
  for which in old new; do
    bin=$old; [ "$which" = new ] && bin=$new
    "$bin" train --config configs/demo.toml --set "output.dir=\"$tmp/$which-$mode\"" --set "train.mode=\"$mode\"" \
      --set output.timings=false --set output.progress=false --set data.train_limit=1024 --set data.val_fraction=0 \
      --set data.test_limit=256 --set 'method.schedule="uzawa"' --set train.cache_prefix=true \
      --set data.augment.crop_padding=0 --set data.augment.flip=false "${extra[@]}" > /dev/null
    "$new" export "$tmp/$which-$mode" > /dev/null
  done
  # safetensors: compare the tensors (the header's metadata map has no fixed order).
  if cmp -s "$tmp/old-$mode/metrics.jsonl" "$tmp/new-$mode/metrics.jsonl" && python3 - "$tmp/old-$mode" "$tmp/new-$mode" <<'PY'
import json, struct, sys
def load(d):
    b = open(f"{d}/model.safetensors", "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop("__metadata__", None)
    return h, b[8 + n:]
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
  then echo "$mode: metrics and weights identical"; else echo "$mode: DIFFERENT"; same=1; fi
done

for r in $(seq "$rounds"); do
  for which in old new; do
    bin=$old; [ "$which" = new ] && bin=$new
    "$bin" bench step --mode e2e+parallel --steps 20 --warmup 3 --json 2>/dev/null > "$tmp/bench-$which-$r.json"
  done
done
python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
ips = {}
for which in ("old", "new"):
    for r in range(1, rounds + 1):
        for t in json.load(open(f"{tmp}/bench-{which}-{r}.json"))["timings"]:
            ips.setdefault((which, t["kind"]), []).append(t["images_per_second"])
print(f"step throughput, resnet20 K=4 batch 128, median of {rounds} alternating runs (img/s):")
print("| step | old | new | new/old |")
print("|---|---|---|---|")
for kind in ("e2e", "parallel"):
    o, n = statistics.median(ips[("old", kind)]), statistics.median(ips[("new", kind)])
    print(f"| {kind} | {o:.1f} | {n:.1f} | {n / o:.3f} |")
PY
exit $same
