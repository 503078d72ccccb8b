#!/usr/bin/env python3
"""REPRODUCTION.md's verdicts, by the rules fixed there, from a finished sweep's run directories.

Usage: tools/repro/verdicts.py sequential runs/sweeps/repro-sequential [OUT.json]

Reads each run's summary.json and metrics.jsonl through the sweep's manifest; prints the positive control and
the claims the sweep serves (sequential: C1, C5, C8), each as mean ± half-width of the two-sided 95 % Student-t
interval over seeds, with its verdict; writes the same as JSON. Standard library only."""
import json, math, os, sys

# Two-sided 95 % Student-t quantiles, df = 1 … 30 (the printed table; tests/report.rs checks trgl's own).
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
       2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
STAGNATION_MARGIN = 0.005  # 0.5 points


def interval(values):
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return {"n": n, "mean": mean, "half_width": None}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return {"n": n, "mean": mean, "half_width": T95[n - 2] * sd / math.sqrt(n)}


def verdict(ci):
    if ci["half_width"] is None:
        return "inconclusive (n = 1)"
    if ci["mean"] - ci["half_width"] > 0:
        return "reproduced"
    if ci["mean"] + ci["half_width"] < 0:
        return "refuted"
    return "inconclusive"


def pts(ci):
    hw = "" if ci["half_width"] is None else f" ± {100 * ci['half_width']:.2f}"
    return f"{100 * ci['mean']:+.2f}{hw} points (n = {ci['n']})"


def load(sweep):
    manifest = json.load(open(os.path.join(sweep, "manifest.json")))
    runs = []
    for r in manifest["runs"]:
        d = os.path.join(sweep, r["dir"])
        summary = json.load(open(os.path.join(d, "summary.json")))
        records = [json.loads(l) for l in open(os.path.join(d, "metrics.jsonl"))]
        settings = dict(a.split("=", 1) for a in r["assignments"])
        runs.append({"name": r["name"], "settings": settings, "summary": summary, "records": records})
    return runs


def last_train_acc(records, module):
    train = [r for r in records if r["phase"] == "train" and r["module"] == module]
    return train[-1]["train_acc"]


def paper_metric(run):
    """Best test accuracy over modules and epochs (what the published code reports)."""
    return max(r["test_acc"] for r in run["records"] if r.get("test_acc") is not None)


def sequential(sweep):
    runs = load(sweep)
    by = {}
    for r in runs:
        s = r["settings"]
        by[(s["method.tau"], int(s["split.modules"]), int(s["seed"]))] = r
    ks = sorted({k for _, k, _ in by})
    seeds = sorted({s for _, _, s in by})
    out = {"sweep": sweep, "control": {}, "C1": {}, "C5": None, "C8": {}, "paper_metric": {}}
    final = lambda r, m: r["summary"]["modules"][m - 1]["final_acc"]
    gains = {}
    for k in ks:
        vangl = [by[("inf", k, s)] for s in seeds]
        trgl = [by[("1.0", k, s)] for s in seeds]
        means = [sum(final(r, m) for r in vangl) / len(vangl) for m in range(1, k + 1)]
        earlier = max(means[:-1])
        stagnates = means[-1] <= earlier + STAGNATION_MARGIN
        out["control"][k] = {"vangl_module_means": means, "last": means[-1], "best_earlier": earlier, "stagnates": stagnates}
        gains[k] = [final(t, k) - final(v, k) for t, v in zip(trgl, vangl)]
        ci = interval(gains[k])
        out["C1"][k] = {"difference": ci, "verdict": verdict(ci),
                        "trgl_module_means": [sum(final(r, m) for r in trgl) / len(trgl) for m in range(1, k + 1)]}
        gap = lambda r: last_train_acc(r["records"], k) - final(r, k)
        ci8 = interval([gap(v) - gap(t) for t, v in zip(trgl, vangl)])
        out["C8"][k] = {"vangl_gap_minus_trgl_gap": ci8, "verdict": verdict(ci8),
                        "vangl_gap": interval([gap(v) for v in vangl]), "trgl_gap": interval([gap(t) for t in trgl])}
        ciP = interval([paper_metric(t) - paper_metric(v) for t, v in zip(trgl, vangl)])
        out["paper_metric"][k] = ciP
    if 2 in gains and 8 in gains:
        ci5 = interval([a - b for a, b in zip(gains[2], gains[8])])
        out["C5"] = {"gain_K2_minus_gain_K8": ci5, "verdict": verdict(ci5)}
    out["regime_reached"] = any(c["stagnates"] for k, c in out["control"].items() if k in (4, 8))
    return out


def show(out):
    print(f"{out['sweep']}")
    for k, c in out["control"].items():
        m = ", ".join(f"{100 * v:.2f}" for v in c["vangl_module_means"])
        print(f"  control K = {k}: VanGL module means {m} %: last {'stagnates' if c['stagnates'] else 'still improves'} "
              f"(last − best earlier = {100 * (c['last'] - c['best_earlier']):+.2f} points)")
    regime = out["regime_reached"]
    print(f"  regime reached (VanGL stagnates at K = 4 or 8): {regime}")
    for k, c in out["C1"].items():
        m = ", ".join(f"{100 * v:.2f}" for v in c["trgl_module_means"])
        v = c["verdict"] if regime else "regime not reached"
        print(f"  C1 K = {k}: TRGL module means {m} %; last module TRGL − VanGL {pts(c['difference'])}: {v}")
        print(f"     paper's metric (best over modules and epochs) TRGL − VanGL {pts(out['paper_metric'][k])}")
    if out["C5"]:
        v = out["C5"]["verdict"] if regime else "regime not reached"
        print(f"  C5: gain at K = 2 − gain at K = 8 {pts(out['C5']['gain_K2_minus_gain_K8'])}: {v}")
    for k, c in out["C8"].items():
        v = c["verdict"] if regime else "regime not reached"
        print(f"  C8 K = {k}: last-module train − test gap VanGL {pts(c['vangl_gap'])}, TRGL {pts(c['trgl_gap'])}; "
              f"VanGL − TRGL {pts(c['vangl_gap_minus_trgl_gap'])}: {v}")


if __name__ == "__main__":
    kind, sweep = sys.argv[1], sys.argv[2]
    out = {"sequential": sequential}[kind](sweep)
    show(out)
    if len(sys.argv) > 3:
        json.dump(out, open(sys.argv[3], "w"), indent=1)
