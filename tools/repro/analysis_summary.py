#!/usr/bin/env python3
"""Summary of `trgl analyze --json` over a VanGL/TRGL sweep (configs/sweeps/beyond-regularity.toml).

Usage: tools/repro/analysis_summary.py ANALYSIS.json OUT_DIR

Groups the runs by (train.mode, method.tau) from each run's config.toml; per mode and module, the mean of each
measurement per method, and TRGL − VanGL paired by seed as mean ± half-width of the two-sided 95 % Student-t
interval; the verdict of each hypothesis of the sweep file (H1–H6) by its rule. Writes OUT_DIR/summary.json and
OUT_DIR/summary.md. Standard library only."""
import json, math, os, sys, tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verdicts  # noqa: E402  (its Student-t interval)

# (name, how to read it from a module's analysis, the side TRGL − VanGL is predicted on: -1 lower, +1 higher, 0 none)
MEASURES = [
    ("H1 kinetic energy", lambda m: m["kinetic_energy"], -1),
    ("H2 relative displacement", lambda m: m["relative_displacement"], -1),
    ("H3 local Lipschitz (near pairs, median)", lambda m: m["lipschitz_near"]["median"], -1),
    ("H4 Jacobian spectral norm (median)", lambda m: m["jacobian"]["sigma"]["median"], -1),
    ("H5 optimality ratio W2²/own", lambda m: m["optimality"]["ratio"], +1),
    ("H6 Hölder exponent", lambda m: m["holder"]["eta"], +1),
    ("Lipschitz over random pairs (median)", lambda m: m["lipschitz_pairs"]["median"], 0),
    ("head test accuracy", lambda m: m["head_accuracy"], 0),
    ("linear probe test accuracy", lambda m: m["probe"]["test_accuracy"], 0),
]


def interval(values):
    """mean and half-width of the two-sided 95 % Student-t interval (verdicts.py's, the rule of every verdict)."""
    ci = verdicts.interval(values)
    return ci["mean"], ci["half_width"]


def verdict(mean, half, side):
    if side == 0 or half is None:
        return "—"
    if mean - half > 0:
        return "as predicted" if side > 0 else "against"
    if mean + half < 0:
        return "as predicted" if side < 0 else "against"
    return "inconclusive"


def main():
    analysis, out = sys.argv[1], sys.argv[2]
    runs = json.load(open(analysis))["runs"]
    by = {}
    for r in runs:
        cfg = tomllib.load(open(os.path.join(r["run"], "config.toml"), "rb"))
        tau = cfg["method"]["tau"]
        method = "VanGL" if math.isinf(tau) else f"TRGL τ={tau:g}"
        by.setdefault(cfg["train"]["mode"], {}).setdefault(method, {})[cfg["seed"]] = r["analysis"]["modules"]
    summary, lines = [], ["# trgl analyze: TRGL − VanGL per module, paired by seed (mean ± 95 % t half-width)", ""]
    for mode in sorted(by):
        methods = by[mode]
        trgl = next(m for m in methods if m != "VanGL")
        seeds = sorted(set(methods["VanGL"]) & set(methods[trgl]))
        k = len(methods["VanGL"][seeds[0]])
        lines += [f"## {mode}: {trgl} against VanGL, seeds {seeds}", "",
                  "| measurement | module | VanGL | TRGL | TRGL − VanGL | verdict |", "|---|---|---|---|---|---|"]
        for name, read, side in MEASURES:
            for j in range(k):
                v = [read(methods["VanGL"][s][j]) for s in seeds]
                t = [read(methods[trgl][s][j]) for s in seeds]
                mean, half = interval([b - a for a, b in zip(v, t)])
                row = {"mode": mode, "measurement": name, "module": j + 1, "vangl": v, "trgl": t,
                       "difference_mean": mean, "difference_half_width": half, "verdict": verdict(mean, half, side)}
                summary.append(row)
                lines.append(f"| {name} | {j + 1} | {sum(v) / len(v):.4g} | {sum(t) / len(t):.4g} | "
                             f"{mean:+.4g} ± {half:.2g} | {row['verdict']} |")
        lines.append("")
    counts = {}
    for row in summary:
        if row["verdict"] != "—":
            key = (row["mode"], row["measurement"])
            counts.setdefault(key, {"as predicted": 0, "against": 0, "inconclusive": 0})[row["verdict"]] += 1
    lines += ["## Verdicts (modules of 4)", "", "| mode | hypothesis | as predicted | against | inconclusive |", "|---|---|---|---|---|"]
    lines += [f"| {m} | {h} | {c['as predicted']} | {c['against']} | {c['inconclusive']} |" for (m, h), c in sorted(counts.items())]
    os.makedirs(out, exist_ok=True)
    json.dump({"rows": summary, "verdicts": [{"mode": m, "hypothesis": h, **c} for (m, h), c in sorted(counts.items())]},
              open(os.path.join(out, "summary.json"), "w"), indent=1)
    open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


main()
