"""Where PyTorch's e2e (or parallel) step spends its time: torch.profiler over the reference step of trgl_step.py
(same model, split, heads, loss and optimizer), self CPU time per operator, per step.

    .venv/bin/python3 benches/reference/profile_step.py [--model resnet20] [--batch 128] [--steps 3] [--mode parallel]
"""
import argparse
import os
import sys
import types

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trgl_step  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="resnet20")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--rows", type=int, default=12)
    p.add_argument("--mode", default="e2e", choices=["e2e", "parallel"])
    a = p.parse_args()
    torch.manual_seed(0)
    depth = int(a.model.removeprefix("resnet"))
    modules = trgl_step.build(depth, 16, 3, 32, 10, [4, 6, 8], 4)
    x, y = torch.randn(a.batch, 3, 32, 32), torch.randint(0, 10, (a.batch,))
    args = types.SimpleNamespace(lr=0.05, momentum=0.9, weight_decay=2e-4, smoothing=0.1, warmup=1, steps=1, batch=a.batch, device="cpu")
    trgl_step.time_kind(a.mode, modules, x, y, args, 0.25)  # warm-up
    args.warmup, args.steps = 0, a.steps
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        r = trgl_step.time_kind(a.mode, modules, x, y, args, 0.25)
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {a.model} {a.mode} batch {a.batch}: "
          f"median {1000 * r['median_seconds']:.1f} ms/step under the profiler")
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    print(f"{'operator':<40} {'self ms/step':>12} {'calls/step':>10}")
    for e in events[: a.rows]:
        print(f"{e.key:<40} {e.self_cpu_time_total / 1000 / a.steps:>12.1f} {e.count / a.steps:>10.0f}")


if __name__ == "__main__":
    main()
