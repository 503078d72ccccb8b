#!/usr/bin/env python3
"""The GPU table of BENCHMARKS.md in one command, on a machine with an NVIDIA GPU and PyTorch, for trgl
builds made elsewhere. For each workload (model, K, batch), in the order given, until --budget seconds
are spent:
- trgl, one row per build (--trgl NAME=PATH, e.g. vulkan=... fusion=...) and step (one process each), e2e
  and parallel by default: img/s
  (median of --steps timed steps after --warmup), the first step's seconds (kernel compilation and
  autotuning), and peak device memory (nvidia-smi's memory.used sampled every 20 ms minus the idle level:
  the driver's view, burn's memory pool included);
- PyTorch eager on CUDA, NCHW and channels_last, the same model, split, heads, loss and optimizers
  (benches/reference/trgl_step.py): img/s and torch.cuda.max_memory_allocated (its allocator's live bytes,
  a different measure from the driver's).
Writes OUT/gpu_table.json (--json) after every workload and prints the table as it goes.

    python3 benches/device/gpu_table.py --trgl vulkan=path/trgl --trgl fusion=path/trgl-fusion \\
        --workload resnet20:4:128 --workload resnet110:4:128 --out /tmp/out --budget 400
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from compare_step import reference_command, run_json, trgl_command  # noqa: E402


class DeviceMemory:
    """Peak of nvidia-smi's memory.used while a command runs, minus the level before it."""

    def __init__(self):
        self.idle = self.read_once()
        self.peak = self.idle
        self.proc = subprocess.Popen(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits", "-lms", "20"],
                                     stdout=subprocess.PIPE, text=True)
        self.thread = threading.Thread(target=self.follow, daemon=True)
        self.thread.start()

    @staticmethod
    def read_once():
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"], capture_output=True, text=True).stdout
        return int(out.split()[0])

    def follow(self):
        for line in self.proc.stdout:
            try:
                self.peak = max(self.peak, int(line.split()[0]))
            except (ValueError, IndexError):
                pass

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        return self.peak - self.idle


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trgl", action="append", required=True, help="NAME=PATH of a trgl build (repeatable)")
    p.add_argument("--workload", action="append", required=True, help="MODEL:K:BATCH (repeatable, run in order)")
    p.add_argument("--mode", default="e2e+parallel")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="vulkan:0")
    p.add_argument("--budget", type=float, default=1e9, help="seconds; no workload starts after them")
    p.add_argument("--timeout", type=float, default=240, help="seconds for one command")
    p.add_argument("--out", default=os.environ.get("OUT", "."))
    p.add_argument("--json", default="gpu_table.json", help="file name under --out")
    a = p.parse_args()
    builds = [b.split("=", 1) for b in a.trgl]
    common = ["--steps", str(a.steps), "--warmup", str(a.warmup), "--mode", a.mode]
    start = time.time()
    table = []
    print(f"{'workload':<20} {'step':<9} {'who':<22} {'img/s':>10} {'vs NCHW':>8} {'first s':>8} {'memory MiB':>11} {'compiled':>8}", flush=True)
    for w in a.workload:
        if time.time() - start > a.budget:
            print(f"{w}: not measured (budget of {a.budget:.0f} s spent)", flush=True)
            continue
        model, k, batch = w.split(":")
        rows, ours_any = [], None
        for name, path in builds:
            # One process per step kind, so that each has its own peak device memory.
            for mode in a.mode.split("+"):
                steps = ["--steps", str(a.steps), "--warmup", str(a.warmup), "--mode", mode]
                mem = DeviceMemory()
                ours, why = run_json(trgl_command(path, model, int(k), int(batch), a.device, steps), timeout=a.timeout)
                mib = mem.stop()
                if why:
                    print(f"{w:<20} trgl {name} {mode}: {why.splitlines()[0]}", flush=True)
                    rows.append({"who": f"trgl {name}", "kind": mode, "error": why[-2000:]})
                    continue
                ours_any = ours
                for t in ours["timings"]:
                    rows.append({"who": f"trgl {name}", "kind": t["kind"], "images_per_second": t["images_per_second"],
                                 "first_step_seconds": t.get("first_step_seconds"), "seconds": t["seconds"], "device_mib": mib,
                                 "compiled_in_timed_steps": t.get("compiled_in_timed_steps")})
        if ours_any is not None:
            ref, why = run_json(reference_command(ours_any, model, int(batch), "cuda", common), timeout=a.timeout)
            if why:
                rows.append({"who": "PyTorch", "error": why[-2000:]})
            else:
                for r in ref:
                    rows.append({"who": f"PyTorch {r['torch']} {r['format']}", "kind": r["kind"], "images_per_second": r["images_per_second"],
                                 "device_mib": r.get("max_memory_allocated", 0) / 2**20})
        nchw = {r["kind"]: r["images_per_second"] for r in rows if r.get("who", "").endswith("nchw")}
        for r in rows:
            if "error" in r:
                continue
            base = nchw.get(r["kind"])
            ratio = f"{r['images_per_second'] / base:.3f}x" if base else "-"
            first = f"{r['first_step_seconds']:.2f}" if r.get("first_step_seconds") is not None else "-"
            compiled = r.get("compiled_in_timed_steps")
            compiled = "-" if compiled is None else str(compiled)
            print(f"{w:<20} {r['kind']:<9} {r['who']:<22} {r['images_per_second']:>10.1f} {ratio:>8} {first:>8} {r['device_mib']:>11.0f} {compiled:>8}", flush=True)
        table.append({"workload": w, "rows": rows})
        with open(os.path.join(a.out, a.json), "w") as f:
            json.dump(table, f, indent=1)
    print(f"table done in {time.time() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
