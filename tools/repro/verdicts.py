#!/usr/bin/env python3
"""REPRODUCTION.md's verdicts, by the rules fixed there, from a finished sweep's run directories.

Usage: tools/repro/verdicts.py sequential runs/sweeps/repro-sequential [OUT.json]
       tools/repro/verdicts.py parallel runs/sweeps/repro-parallel runs/sweeps/repro-sequential [OUT.json]
       tools/repro/verdicts.py schedules runs/sweeps/repro-schedules runs/sweeps/repro-sequential [OUT.json]
       tools/repro/verdicts.py tau runs/sweeps/repro-tau runs/sweeps/repro-sequential [OUT.json]
       tools/repro/verdicts.py data-size runs/sweeps/repro-data-size runs/sweeps/repro-sequential [OUT.json]
       tools/repro/verdicts.py demo-selection runs/sweeps/demo-selection [OUT.json]
       tools/repro/verdicts.py demo-confirm runs/sweeps/demo-confirm [OUT.json]

Reads each run's summary.json and metrics.jsonl through the sweep's manifest; prints the positive control and
the claims the sweep serves (sequential: C1, C5, C8; parallel, with the sequential sweep for K = 4: C3, C7), each as mean ± half-width of the two-sided 95 % Student-t
interval over seeds, with its verdict; writes the same as JSON. The second sweep, where given, is repro-sequential:
its positive control decides whether verdicts are given at all. Standard library only."""
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


def last_acc(run):
    """The honest metric: the last module's test accuracy after the final epoch."""
    return run["summary"]["modules"][-1]["final_acc"]


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


def parallel(sweep, sequential_sweep):
    by = {}
    for r in load(sweep):
        s = r["settings"]
        by[(s["train.mode"].strip('"'), s["method.tau"], int(s["seed"]))] = r
    seq = {}
    for r in load(sequential_sweep):
        s = r["settings"]
        if s["split.modules"] == "4":
            seq[(s["method.tau"], int(s["seed"]))] = r
    seeds = sorted({s for _, _, s in by})
    peak = lambda r: r["summary"]["peak_alloc_bytes"]
    e2e = [by[("e2e", "inf", s)] for s in seeds]
    trgl = [by[("parallel", "1.0", s)] for s in seeds]
    vangl = [by[("parallel", "inf", s)] for s in seeds]
    trgl_seq = [seq[("1.0", s)] for s in seeds]
    out = {"sweep": sweep, "sequential_sweep": sequential_sweep}
    ci3 = interval([last_acc(t) - last_acc(e) for t, e in zip(trgl, e2e)])
    ratios = [peak(t) / peak(e) for t, e in zip(trgl, e2e)]
    out["C3"] = {"trgl_parallel_minus_e2e": ci3, "verdict": verdict(ci3), "e2e": interval([last_acc(e) for e in e2e]),
                 "trgl_parallel": interval([last_acc(t) for t in trgl]), "vangl_parallel": interval([last_acc(v) for v in vangl]),
                 "memory_ratios": ratios, "memory_verdict": "reproduced" if all(x <= 0.9 for x in ratios) else "refuted",
                 "e2e_peak_mib": [peak(e) / 2**20 for e in e2e], "trgl_peak_mib": [peak(t) / 2**20 for t in trgl]}
    ci7 = interval([last_acc(p) - last_acc(q) for p, q in zip(trgl, trgl_seq)])
    more = [peak(p) > peak(q) for p, q in zip(trgl, trgl_seq)]
    out["C7"] = {"parallel_minus_sequential": ci7, "verdict": verdict(ci7), "trgl_sequential": interval([last_acc(q) for q in trgl_seq]),
                 "parallel_peak_mib": [peak(p) / 2**20 for p in trgl], "sequential_peak_mib": [peak(q) / 2**20 for q in trgl_seq],
                 "memory_verdict": "reproduced" if all(more) else "refuted"}
    civ = interval([last_acc(t) - last_acc(v) for t, v in zip(trgl, vangl)])
    out["parallel_trgl_minus_vangl"] = {"difference": civ, "verdict": verdict(civ)}
    return out


def schedules(sweep):
    """C6: each τ schedule against VanGL, and varying and Uzawa against constant (run labels name them)."""
    by = {}
    for r in load(sweep):
        label, seed = r["name"].rsplit("_seed-", 1)
        by.setdefault(label, {})[int(seed)] = r
    seeds = sorted(by["vangl"])
    diff = lambda a, b: interval([last_acc(by[a][s]) - last_acc(by[b][s]) for s in seeds])
    out = {"sweep": sweep, "last_module": {k: interval([last_acc(v[s]) for s in seeds]) for k, v in by.items()}, "C6": {}}
    for k in by:
        if k != "vangl":
            ci = diff(k, "vangl")
            out["C6"][f"{k} − vangl"] = {"difference": ci, "verdict": verdict(ci)}
    for k in by:
        if k not in ("vangl", "constant"):
            out["C6"][f"{k} − constant"] = {"difference": diff(k, "constant"), "verdict": None}
    return out


def show_schedules(out, regime):
    print(out["sweep"])
    for k, ci in out["last_module"].items():
        print(f"  last module, final test, {k}: {pts(ci)}")
    for k, c in out["C6"].items():
        v = "" if c["verdict"] is None else (": " + (c["verdict"] if regime else "regime not reached"))
        print(f"  C6 {k}: {pts(c['difference'])}{v}")


def unquote(v):
    return v.strip('"')


def final_record(run, module):
    """The module's record of the final evaluation (test and validation accuracy after the last epoch)."""
    return [r for r in run["records"] if r["phase"] == "final" and r["module"] == module][-1]


def epochs_to_reach(run, module, threshold):
    """The first epoch after which the module's validation accuracy is at least `threshold`; None if never."""
    for r in run["records"]:
        if r["phase"] == "train" and r["module"] == module and r.get("val_acc") is not None and r["val_acc"] >= threshold:
            return r["epoch"]
    return None


C9_TAU = "0.01"
C9_FRACTION = 0.9


def tau(sweep):
    """C4 (τ robustness) and C9 (convergence speed against τ), one block per dataset label."""
    by = {}
    for r in load(sweep):
        label = r["name"].split("_tau-", 1)[0]
        by.setdefault(label, {}).setdefault(r["settings"]["method.tau"], {})[int(r["settings"]["seed"])] = r
    out = {"sweep": sweep, "datasets": {}}
    for label, taus in by.items():
        vangl = taus["inf"]
        seeds = sorted(vangl)
        k = len(vangl[seeds[0]]["summary"]["modules"])
        val = lambda r: final_record(r, k)["val_acc"]
        finite = sorted((t for t in taus if t != "inf"), key=float)
        per_tau = {}
        for t in finite:
            ci = interval([last_acc(taus[t][s]) - last_acc(vangl[s]) for s in seeds])
            per_tau[t] = {"test": interval([last_acc(taus[t][s]) for s in seeds]), "val": interval([val(taus[t][s]) for s in seeds]),
                          "trgl_minus_vangl": ci, "verdict": verdict(ci),
                          "paper_metric_difference": interval([paper_metric(taus[t][s]) - paper_metric(vangl[s]) for s in seeds])}
        above = sum(v["verdict"] == "reproduced" for v in per_tau.values())
        below = sum(v["verdict"] == "refuted" for v in per_tau.values())
        c4 = "reproduced" if above >= 5 else "refuted" if below >= 5 else "inconclusive"
        # τ chosen on validation: the finite τ whose last module has the best mean final validation accuracy.
        chosen = max(finite, key=lambda t: per_tau[t]["val"]["mean"])
        ci_chosen = per_tau[chosen]["trgl_minus_vangl"]
        # C9: per seed, epochs for the last module to reach 90 % of that seed's VanGL final validation accuracy;
        # a run that never reaches it counts as one epoch past its last (censored, and counted).
        epochs = len([r for r in vangl[seeds[0]]["records"] if r["phase"] == "train" and r["module"] == k])
        need = {}
        censored = {}
        for t in [C9_TAU, "inf"]:
            need[t], censored[t] = [], 0
            for s in seeds:
                e = epochs_to_reach(taus[t][s], k, C9_FRACTION * val(vangl[s]))
                censored[t] += e is None
                need[t].append(epochs + 1 if e is None else e)
        ci9 = interval([a - b for a, b in zip(need[C9_TAU], need["inf"])])
        out["datasets"][label] = {
            "seeds": seeds, "modules": k, "vangl": {"test": interval([last_acc(vangl[s]) for s in seeds]), "val": interval([val(vangl[s]) for s in seeds])},
            "per_tau": per_tau, "C4": {"intervals_above_0": above, "intervals_below_0": below, "of": len(finite), "verdict": c4},
            "C4_val_chosen": {"tau": chosen, "val": per_tau[chosen]["val"], "test": per_tau[chosen]["test"],
                              "trgl_minus_vangl": ci_chosen, "verdict": verdict(ci_chosen)},
            "C9": {"tau": C9_TAU, "epochs_needed": need, "censored": censored, "epochs": epochs,
                   "difference": ci9, "verdict": verdict(ci9)},
        }
    return out


def show_tau(out, regime):
    v = lambda x: x if regime else "regime not reached"
    print(out["sweep"])
    for label, d in out["datasets"].items():
        print(f"  {label}: VanGL last module, final test {pts(d['vangl']['test'])}, validation {pts(d['vangl']['val'])}")
        for t, c in d["per_tau"].items():
            print(f"    τ = {t:>5}: test {pts(c['test'])}; TRGL − VanGL {pts(c['trgl_minus_vangl'])}: {c['verdict']}; "
                  f"paper's metric {pts(c['paper_metric_difference'])}")
        c4 = d["C4"]
        print(f"    C4: interval above 0 for {c4['intervals_above_0']} of {c4['of']} τ, below 0 for {c4['intervals_below_0']}: {v(c4['verdict'])}")
        c = d["C4_val_chosen"]
        print(f"    C4, τ chosen on validation: τ = {c['tau']} (validation {pts(c['val'])}); on test TRGL − VanGL "
              f"{pts(c['trgl_minus_vangl'])}: {v(c['verdict'])}")
        c9 = d["C9"]
        diff = c9["difference"]
        hw = "" if diff["half_width"] is None else f" ± {diff['half_width']:.2f}"
        print(f"    C9: epochs to reach {100 * C9_FRACTION:.0f} % of VanGL's final validation accuracy: τ = {c9['tau']} "
              f"{c9['epochs_needed'][c9['tau']]} (never: {c9['censored'][c9['tau']]}), VanGL {c9['epochs_needed']['inf']} "
              f"(never: {c9['censored']['inf']}); difference {diff['mean']:+.2f}{hw} epochs: {v(c9['verdict'])}")


def data_size(sweep, seq):
    """C2: TRGL − VanGL at the last module per (architecture, mode, training images per class), and the gain at
    the smallest size minus the gain at the largest, per architecture; `seq` is `sequential`'s output for
    repro-sequential (its K = 4 cell is C2's sequential ResNet)."""
    by = {}
    for r in load(sweep):
        s = r["settings"]
        by[(unquote(s["model.arch"]), int(s["data.train_per_class"]), s["method.tau"], int(s["seed"]))] = r
    seeds = sorted({k[3] for k in by})
    archs = sorted({k[0] for k in by})
    sizes = sorted({k[1] for k in by})
    trgl_tau = next(k[2] for k in by if k[2] != "inf")
    out = {"sweep": sweep, "sequential_sweep": seq["sweep"], "cells": [], "less_data": {}}
    gains = {}
    for a in archs:
        for n in sizes:
            g = [last_acc(by[(a, n, trgl_tau, s)]) - last_acc(by[(a, n, "inf", s)]) for s in seeds]
            gains[(a, n)] = g
            ci = interval(g)
            out["cells"].append({"arch": a, "mode": "parallel", "per_class": n, "vangl": interval([last_acc(by[(a, n, "inf", s)]) for s in seeds]),
                                 "trgl": interval([last_acc(by[(a, n, trgl_tau, s)]) for s in seeds]), "trgl_minus_vangl": ci, "verdict": verdict(ci),
                                 "paper_metric_difference": interval([paper_metric(by[(a, n, trgl_tau, s)]) - paper_metric(by[(a, n, "inf", s)]) for s in seeds])})
        ci = interval([x - y for x, y in zip(gains[(a, sizes[0])], gains[(a, sizes[-1])])])
        out["less_data"][a] = {"smaller": sizes[0], "larger": sizes[-1], "gain_smaller_minus_gain_larger": ci, "verdict": verdict(ci)}
    if 4 in seq["C1"]:
        c = seq["C1"][4]
        out["cells"].append({"arch": "resnet20", "mode": "sequential", "per_class": 500, "trgl_minus_vangl": c["difference"],
                             "verdict": c["verdict"], "paper_metric_difference": seq["paper_metric"][4], "from": seq["sweep"]})
    return out


def show_data_size(out, regime):
    v = lambda x: x if regime else "regime not reached"
    print(f"{out['sweep']} (+ {out['sequential_sweep']}, K = 4)")
    for c in out["cells"]:
        both = f"VanGL {pts(c['vangl'])}, TRGL {pts(c['trgl'])}; " if "vangl" in c else ""
        print(f"  C2 {c['arch']} {c['mode']} {c['per_class']} per class: {both}TRGL − VanGL {pts(c['trgl_minus_vangl'])}: "
              f"{v(c['verdict'])}; paper's metric {pts(c['paper_metric_difference'])}")
    for a, c in out["less_data"].items():
        print(f"  C2 larger gain with less data, {a}: gain at {c['smaller']} − gain at {c['larger']} per class "
              f"{pts(c['gain_smaller_minus_gain_larger'])}: {v(c['verdict'])}")


def by_tau_seed(sweep):
    by = {}
    for r in load(sweep):
        by.setdefault(r["settings"]["method.tau"], {})[int(r["settings"]["seed"])] = r
    return by


def demo_selection(sweep):
    """The demo's τ: the largest mean per-seed TRGL − VanGL of the last module's final validation accuracy."""
    by = by_tau_seed(sweep)
    seeds = sorted(by["inf"])
    k = len(by["inf"][seeds[0]]["summary"]["modules"])
    val = lambda r: final_record(r, k)["val_acc"]
    cands = {}
    for t in sorted((t for t in by if t != "inf"), key=float):
        cands[t] = {"val_difference": interval([val(by[t][s]) - val(by["inf"][s]) for s in seeds]),
                    "test_difference": interval([last_acc(by[t][s]) - last_acc(by["inf"][s]) for s in seeds])}
    chosen = max(cands, key=lambda t: cands[t]["val_difference"]["mean"])
    exists = cands[chosen]["val_difference"]["mean"] > 0
    return {"sweep": sweep, "seeds": seeds, "candidates": cands, "chosen": chosen, "setting_exists": exists,
            "vangl_val": interval([val(by["inf"][s]) for s in seeds])}


def show_demo_selection(out):
    print(f"{out['sweep']}: VanGL last module, final validation {pts(out['vangl_val'])}")
    for t, c in out["candidates"].items():
        print(f"  τ = {t:>4}: TRGL − VanGL validation {pts(c['val_difference'])}, test {pts(c['test_difference'])}")
    word = "a setting exists: confirm it on seeds 5–9" if out["setting_exists"] else "no setting exists (mean not above 0)"
    print(f"  chosen on validation: τ = {out['chosen']}; {word}")


def demo_confirm(sweep):
    """Seeds 5–9: TRGL − VanGL at the last module on test, per seed; the effect holds in at least 4 of 5."""
    by = by_tau_seed(sweep)
    t = next(t for t in by if t != "inf")
    seeds = sorted(by["inf"])
    diffs = [last_acc(by[t][s]) - last_acc(by["inf"][s]) for s in seeds]
    wins = sum(d > 0 for d in diffs)
    return {"sweep": sweep, "tau": t, "seeds": seeds, "differences": diffs, "trgl_above": wins,
            "difference": interval(diffs), "confirmed": wins >= 4}


def show_demo_confirm(out):
    per = ", ".join(f"{100 * d:+.2f}" for d in out["differences"])
    print(f"{out['sweep']}: τ = {out['tau']}, seeds {out['seeds']}: TRGL − VanGL at the last module, test: {per} points "
          f"(mean {pts(out['difference'])}); above 0 in {out['trgl_above']} of {len(out['seeds'])}: "
          f"{'confirmed' if out['confirmed'] else 'not confirmed'}")


def show_parallel(out, regime):
    c3, c7 = out["C3"], out["C7"]
    v = lambda x: x if regime else "regime not reached"
    print(f"{out['sweep']} (+ {out['sequential_sweep']}, K = 4)")
    print(f"  last module, final test: e2e {pts(c3['e2e'])}, parallel VanGL {pts(c3['vangl_parallel'])}, parallel TRGL {pts(c3['trgl_parallel'])}, sequential TRGL {pts(c7['trgl_sequential'])}")
    print(f"  parallel TRGL − VanGL {pts(out['parallel_trgl_minus_vangl']['difference'])}: {out['parallel_trgl_minus_vangl']['verdict']}")
    print(f"  C3 accuracy, TRGL parallel − e2e {pts(c3['trgl_parallel_minus_e2e'])}: {v(c3['verdict'])}")
    print(f"  C3 memory, TRGL parallel / e2e peak allocation {', '.join(f'{r:.3f}' for r in c3['memory_ratios'])} "
          f"(e2e {c3['e2e_peak_mib'][0]:.1f} MiB): {v(c3['memory_verdict'])}")
    print(f"  C7 accuracy, TRGL parallel − sequential {pts(c7['parallel_minus_sequential'])}: {v(c7['verdict'])}")
    print(f"  C7 memory, parallel {', '.join(f'{m:.1f}' for m in c7['parallel_peak_mib'])} MiB against sequential "
          f"{', '.join(f'{m:.1f}' for m in c7['sequential_peak_mib'])} MiB: {v(c7['memory_verdict'])}")


if __name__ == "__main__":
    kind, sweep, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    alone = {"sequential": (sequential, show), "demo-selection": (demo_selection, show_demo_selection),
             "demo-confirm": (demo_confirm, show_demo_confirm)}
    # These read repro-sequential (their second argument) too: its positive control decides the verdicts.
    with_control = {"parallel": (lambda seq: parallel(sweep, seq["sweep"]), show_parallel),
                    "schedules": (lambda seq: schedules(sweep), show_schedules),
                    "tau": (lambda seq: tau(sweep), show_tau),
                    "data-size": (lambda seq: data_size(sweep, seq), show_data_size)}
    if kind in alone:
        compute, display = alone[kind]
        out = compute(sweep)
        display(out)
    elif kind in with_control:
        seq = sequential(rest[0])
        rest = rest[1:]
        compute, display = with_control[kind]
        out = compute(seq)
        out["regime_reached"] = seq["regime_reached"]
        display(out, out["regime_reached"])
    else:
        sys.exit(f"unknown kind {kind!r}: expected one of {', '.join([*alone, *with_control])}")
    if rest:
        json.dump(out, open(rest[0], "w"), indent=1)
