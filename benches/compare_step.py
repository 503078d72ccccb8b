#!/usr/bin/env python3
"""One command, trgl and PyTorch side by side on the same train step: runs `trgl bench step --json`, then
benches/reference/trgl_step.py with the model, split, heads, loss and optimizer that trgl reports, and prints
img/s and the ratio trgl / PyTorch for NCHW and channels_last.

    python3 benches/compare_step.py --model resnet20 --modules 4 --batch 128 [--steps 10] [--trgl target/release/trgl]
"""
import argparse
import json
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd, timeout=None):
    """Runs cmd and parses its stdout as JSON; judged by its output: trgl on Vulkan with NVIDIA's driver can
    crash while the process exits, after printing its results (a driver thread outlives the libraries being
    unloaded). Returns (value, None) or (None, why)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"{cmd[0]}: timed out after {timeout} s"
    try:
        return json.loads(p.stdout), None
    except json.JSONDecodeError:
        return None, f"{cmd[0]} exited with {p.returncode} and no JSON:\n{p.stderr[-3000:]}"


def trgl_command(trgl, model, modules, batch, device, common, sets=()):
    cmd = [trgl, "bench", "step", "--model", model, "--modules", str(modules), "--batch", str(batch), "--json",
           "--set", f'device="{device}"'] + common
    for s in sets:
        cmd += ["--set", s]
    return cmd


def reference_command(ours, model, batch, torch_device, common):
    """benches/reference/trgl_step.py with the model, split, heads, loss and optimizer that trgl reported."""
    c = ours["config"]
    if c["head"]["kind"] != "1cnn" or c["model"]["shortcut"] != "A":
        sys.exit("the reference implements 1cnn heads and option-A shortcuts only")
    return [sys.executable, os.path.join(here, "reference", "trgl_step.py"), "--model", model, "--width", str(c["model"]["width"] or 16),
            "--bounds", ",".join(map(str, ours["bounds"])), "--batch", str(batch), "--image-size", str(ours["image_size"]),
            "--channels", str(ours["channels"]), "--classes", str(ours["classes"]), "--pool", str(c["head"]["pool"]),
            "--tau", str(c["method"]["tau"]), "--lr", str(c["optim"]["lr"]), "--momentum", str(c["optim"]["momentum"]),
            "--weight-decay", str(c["optim"]["weight_decay"]), "--smoothing", str(c["train"]["label_smoothing"]),
            "--device", torch_device, "--json"] + common


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trgl", default=os.path.join(here, "..", "target", "release", "trgl"))
    p.add_argument("--model", default="resnet20")
    p.add_argument("--modules", type=int, default=4)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--mode", default="all")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--device", default="cpu", help="trgl device (cpu, vulkan:0, cuda:0); PyTorch runs on cpu or cuda to match")
    p.add_argument("--set", action="append", default=[], help="extra trgl --set KEY=VALUE")
    a = p.parse_args()

    common = ["--steps", str(a.steps), "--warmup", str(a.warmup), "--mode", a.mode]
    cmd = trgl_command(a.trgl, a.model, a.modules, a.batch, a.device, common, a.set)
    print("+", " ".join(cmd), file=sys.stderr)
    ours, why = run_json(cmd)
    if why:
        sys.exit(why)
    torch_device = "cpu" if a.device == "cpu" else "cuda"
    ref_cmd = reference_command(ours, a.model, a.batch, torch_device, common)
    print("+", " ".join(ref_cmd), file=sys.stderr)
    ref, why = run_json(ref_cmd)
    if why:
        sys.exit(why)
    if ref[0]["params"] != ours["params"]:
        sys.exit(f"parameter counts differ: trgl {ours['params']}, PyTorch {ref[0]['params']}: not the same model")

    print(f"{a.model} K={a.modules} batch {a.batch}, {ours['params']} parameters, trgl on {a.device}, PyTorch {ref[0]['torch']} "
          f"({ref[0]['threads']} threads) on {torch_device}; median of {a.steps} steps after {a.warmup} warm-up")
    print(f"{'step':<22} {'trgl img/s':>11} {'torch NCHW':>11} {'ratio':>7} {'torch CL':>11} {'ratio':>7}")
    for t in ours["timings"]:
        row = {r["format"]: r for r in ref if r["kind"] == t["kind"]}
        n, cl = row.get("nchw"), row.get("channels_last")
        fmt = lambda r: (f"{r['images_per_second']:>11.1f} {t['images_per_second'] / r['images_per_second']:>6.2f}x") if r else f"{'-':>11} {'-':>7}"
        print(f"{t['kind']:<22} {t['images_per_second']:>11.1f} {fmt(n)} {fmt(cl)}")


if __name__ == "__main__":
    main()
