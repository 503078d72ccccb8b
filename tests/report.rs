//! `trgl report` on fixed, committed runs (tests/fixtures/report: VanGL and TRGL, seeds 0–2, K = 2): group
//! means, 95 % Student-t intervals and paired per-seed differences equal the values numpy and
//! scipy.stats.t.ppf give for the same numbers (`python3 tests/fixtures/report/make.py` writes the runs and
//! prints them).

mod common;

use std::path::PathBuf;

use trgl::report::aggregate::{Group, build, load_runs};
use trgl::report::stats::{MeanCi, t_quantile};

fn fixtures() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report");
    ["vangl-s0", "vangl-s1", "vangl-s2", "trgl-s0", "trgl-s1", "trgl-s2"].iter().map(|d| root.join(d)).collect()
}

fn close(got: &MeanCi, mean: f64, half: f64) {
    assert!((got.mean - mean).abs() < 1e-9, "mean {} against {mean}", got.mean);
    let h = got.half_width.expect("an interval");
    assert!((h - half).abs() < 1e-9, "half-width {h} against {half}");
}

fn group<'a>(groups: &'a [Group], tau: &str) -> &'a Group {
    groups.iter().find(|g| g.label == format!("method.tau={tau}")).unwrap_or_else(|| panic!("no group τ = {tau}: {:?}", groups.iter().map(|g| &g.label).collect::<Vec<_>>()))
}

/// t_{0.975, n−1} for n = 2…30 seeds: the printed tables' values (12.706, 4.303, 3.182, … 2.045) to their
/// three decimals, and scipy.stats.t.ppf(0.975, df) to 1e-9.
#[test]
fn t_quantiles_match_the_published_table() {
    const SCIPY: [(u32, f64); 29] = [
    (1, 12.706204736174694),
    (2, 4.302652729749462),
    (3, 3.1824463052837078),
    (4, 2.7764451051977934),
    (5, 2.5705818356363146),
    (6, 2.4469118511449786),
    (7, 2.364624251592784),
    (8, 2.306004135204166),
    (9, 2.262157162798205),
    (10, 2.228138851986274),
    (11, 2.200985160091639),
    (12, 2.1788128296672284),
    (13, 2.1603686564627913),
    (14, 2.144786687917804),
    (15, 2.131449545559776),
    (16, 2.1199052992212546),
    (17, 2.1098155778333156),
    (18, 2.1009220402410382),
    (19, 2.0930240544083087),
    (20, 2.085963447265864),
    (21, 2.0796138447276795),
    (22, 2.0738730679040254),
    (23, 2.0686576104190486),
    (24, 2.0638985616280245),
    (25, 2.0595385527532972),
    (26, 2.0555294386428735),
    (27, 2.0518305164802846),
    (28, 2.0484071417952454),
    (29, 2.045229642132703)
,
    ];
    // A printed table (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2), df = 1…29, three decimals.
    const PRINTED: [f64; 29] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110,
        2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045,
    ];
    for ((df, q), printed) in SCIPY.iter().zip(PRINTED) {
        let t = t_quantile(0.975, *df as f64);
        assert!((t - q).abs() < 1e-9, "df {df}: {t} against scipy's {q}");
        assert!((t - printed).abs() <= 0.0005 + 1e-12, "df {df}: {t} against the printed {printed}");
    }
}

#[test]
fn means_intervals_and_paired_differences_equal_hand_computed_values() {
    let (runs, skipped) = load_runs(&fixtures()).unwrap();
    assert_eq!(runs.len(), 6);
    assert!(skipped.is_empty());
    let report = build(&runs, skipped, None);
    assert_eq!(report.groups.len(), 2, "grouped by every field but the seed and output.*");
    let (vangl, trgl) = (group(&report.groups, "inf"), group(&report.groups, "0.5"));
    assert_eq!(vangl.seeds, [0, 1, 2]);
    close(vangl.modules[1].final_acc.as_ref().unwrap(), 0.7466666666666667, 0.05171145012542267);
    close(trgl.modules[0].final_acc.as_ref().unwrap(), 0.7166666666666667, 0.037945830335967635);
    close(vangl.modules[1].gap.as_ref().unwrap(), 0.1666666666666667, 0.02868435153166311);
    // The stagnation curve: module 2's test accuracy at epoch 1 over the three seeds.
    let p = &trgl.test_acc_curves[1][0];
    assert_eq!(p.epoch, 1);
    close(&p.value, 0.69, 0.024841377117503186);

    // τ varies and VanGL is there: TRGL − VanGL by default, paired by seed.
    assert_eq!(report.comparisons.len(), 1);
    let c = &report.comparisons[0];
    assert_eq!((c.group.as_str(), c.baseline.as_str()), ("method.tau=0.5", "method.tau=inf"));
    assert_eq!(c.seeds, [0, 1, 2]);
    close(c.modules[1].final_acc.as_ref().unwrap(), 0.030000000000000027, 0.02484137711750332);
    close(c.modules[0].final_acc.as_ref().unwrap(), 0.01666666666666668, 0.014342175765831553);
    assert_eq!(c.modules[1].verdict, "above 0");
}

#[test]
fn one_seed_has_no_interval() {
    let (runs, skipped) = load_runs(&fixtures()[..1]).unwrap();
    let report = build(&runs, skipped, None);
    let m = report.groups[0].modules[1].final_acc.as_ref().unwrap();
    assert_eq!((m.n, m.half_width), (1, None));
    assert!(trgl::report::write::markdown(&report).contains("(n = 1)"));
    assert!(report.comparisons.is_empty());
}

#[test]
fn an_explicit_comparison_pairs_only_common_seeds() {
    let f = fixtures();
    let (runs, skipped) = load_runs(&[f[0].clone(), f[1].clone(), f[3].clone()]).unwrap();
    let report = build(&runs, skipped, Some(("method.tau", "inf")));
    let c = &report.comparisons[0];
    assert_eq!(c.seeds, [0]);
    assert_eq!(c.modules[1].verdict, "n = 1");
}

#[test]
fn the_cli_writes_markdown_csv_and_json() {
    let out = common::tmp("report-cli");
    let mut args = vec!["report".to_string(), "--out".into(), out.display().to_string()];
    args.extend(fixtures().iter().map(|p| p.display().to_string()));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_trgl")).args(&args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Paired difference: (method.tau=0.5) − (method.tau=inf)"), "{md}");
    assert!(md.contains("| 2 | 74.67 ± 5.17 |"), "{md}");
    let csv = std::fs::read_to_string(out.join("report.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 2 * 2);
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["groups"].as_array().unwrap().len(), 2);
    // The figures: SVG with the series in them, PNG of the stated size with more than the background.
    for name in ["test_accuracy", "tau", "modules", "kinetic_energy"] {
        let svg = std::fs::read_to_string(out.join(format!("{name}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.matches("<polyline").count() >= 2, "{name}.svg holds no lines");
        let png = image::open(out.join(format!("{name}.png"))).unwrap().to_rgb8();
        let ink = png.pixels().filter(|p| p.0 != [255, 255, 255]).count();
        assert!(png.width() >= 600 && ink > (png.width() * png.height() / 50) as usize, "{name}.png is nearly blank ({ink} pixels drawn)");
    }
    let svg = std::fs::read_to_string(out.join("tau.svg")).unwrap();
    assert!(svg.contains("\n∞\n") && svg.contains("\n0.5\n"), "the τ axis names 0.5 and ∞");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "the four figures inline");
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "nothing fetched");
}

#[test]
fn a_folder_of_runs_is_read_and_anything_else_refused() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report");
    let (runs, _) = load_runs(&[root.clone()]).unwrap();
    assert_eq!(runs.len(), 6);
    let err = load_runs(&[root.join("make.py")]).unwrap_err().to_string();
    assert!(err.contains("make.py") && err.contains("not a run directory"), "{err}");
}

#[test]
fn runs_of_different_datasets_are_refused_naming_them() {
    let tmp = common::tmp("report-datasets");
    let other = tmp.join("mnist-run");
    std::fs::create_dir_all(&other).unwrap();
    let src = fixtures()[0].clone();
    for f in ["metrics.jsonl", "summary.json"] {
        std::fs::copy(src.join(f), other.join(f)).unwrap();
    }
    let config = std::fs::read_to_string(src.join("config.toml")).unwrap().replace("dataset = \"fashion-mnist-demo\"", "dataset = \"mnist\"\ndir = \"/nowhere\"");
    std::fs::write(other.join("config.toml"), config).unwrap();
    let err = load_runs(&[src, other]).unwrap_err().to_string();
    assert!(err.contains("different datasets") && err.contains("`mnist`") && err.contains("`fashion-mnist-demo`"), "{err}");
}

/// Runs that vary the mode, with timings on: throughput per group, and the memory/throughput figure.
#[test]
fn runs_varying_the_mode_get_throughput_and_the_resource_figure() {
    let root = common::tmp("report-resources");
    std::fs::create_dir_all(&root).unwrap();
    let text = common::tiny_sweep_text(&root.join("out"), 2.0, 1).replace("timings = false", "timings = true").replace(
        "[[zip]]\nlabel = [\"vangl\", \"trgl\"]\n\"method.tau\" = [inf, 2.0]\n\n[axes]\nseed = [0, 1]\n",
        "[axes]\n\"train.mode\" = [\"e2e\", \"parallel\"]\n",
    );
    assert!(text.contains("train.mode"), "{text}");
    std::fs::write(root.join("sweep.toml"), text).unwrap();
    let trgl = env!("CARGO_BIN_EXE_trgl");
    let o = std::process::Command::new(trgl).args(["sweep", root.join("sweep.toml").to_str().unwrap(), "--threads-per-run", "1"]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (runs, _) = load_runs(&[root.join("out")]).unwrap();
    let report = build(&runs, Vec::new(), None);
    assert_eq!(report.groups.len(), 2);
    for g in &report.groups {
        let ips = g.images_per_second.as_ref().expect("timings on: a throughput");
        assert!(ips.mean > 0.0 && ips.n == 1, "{ips:?}");
        assert!(g.peak_alloc_bytes.is_some());
    }
    trgl::report::write::write_all(&report, &root.join("report")).unwrap();
    let png = image::open(root.join("report/resources.png")).unwrap().to_rgb8();
    assert!(png.pixels().filter(|p| p.0 != [255, 255, 255]).count() > 1000);
}

fn run_with(tau: f64, seed: u64, val: &[f64], test: &[f64]) -> trgl::report::aggregate::LoadedRun {
    use trgl::report::{Record, RunSummary};
    let mut config = trgl::config::Config::default();
    config.method.tau = tau;
    config.seed = seed;
    config.split.modules = 1;
    let rec = |phase: &str, epoch: usize, v: f64, t: f64| Record {
        mode: "e2e".into(),
        phase: phase.into(),
        lap: 1,
        module: 1,
        epoch,
        lr: 0.1,
        train_loss: 1.0,
        ce: 1.0,
        kinetic_energy: 0.0,
        tau: None,
        train_acc: 0.9,
        test_acc: Some(t),
        val_acc: Some(v),
        steps: 10,
        seconds: None,
        peak_alloc_bytes: None,
        peak_rss_bytes: None,
        events: Vec::new(),
    };
    let mut records: Vec<Record> = val.iter().zip(test).enumerate().map(|(e, (&v, &t))| rec("train", e + 1, v, t)).collect();
    records.push(rec("final", val.len(), *val.last().unwrap(), *test.last().unwrap()));
    let summary = RunSummary::from_records("r", "e2e", &[3], &records, 1.0);
    let flat = trgl::sweep::manifest::flatten_toml(&config.to_toml());
    trgl::report::aggregate::LoadedRun { name: format!("tau{tau}-s{seed}"), dir: PathBuf::new(), config, flat, records, summary }
}

/// The epoch and τ chosen on validation, scored on test.
#[test]
fn epochs_and_tau_are_chosen_on_validation() {
    let runs = vec![
        // τ = ∞: validation peaks at epoch 2 in both seeds; its final val is 0.60 on average
        run_with(f64::INFINITY, 0, &[0.50, 0.70, 0.60], &[0.40, 0.45, 0.50]),
        run_with(f64::INFINITY, 1, &[0.55, 0.72, 0.60], &[0.41, 0.47, 0.52]),
        // τ = 2: final val 0.65 on average — chosen
        run_with(2.0, 0, &[0.50, 0.60, 0.64], &[0.40, 0.44, 0.48]),
        run_with(2.0, 1, &[0.50, 0.60, 0.66], &[0.40, 0.44, 0.50]),
    ];
    let report = build(&runs, Vec::new(), None);
    let vangl = group(&report.groups, "inf");
    let m = &vangl.modules[0];
    assert!((m.val_selected_test_acc.as_ref().unwrap().mean - 0.46).abs() < 1e-12, "test at the best val epoch: (0.45 + 0.47) / 2");
    assert!((m.final_val_acc.as_ref().unwrap().mean - 0.60).abs() < 1e-12);
    assert_eq!(report.selections.len(), 1);
    let s = &report.selections[0];
    assert_eq!((s.field.as_str(), s.chosen.as_str(), s.candidates), ("method.tau", "2.0", 2));
    assert!((s.val_acc.mean - 0.65).abs() < 1e-12 && (s.test_acc.as_ref().unwrap().mean - 0.49).abs() < 1e-12);
    let md = trgl::report::write::markdown(&report);
    assert!(md.contains("test at the best val epoch") && md.contains("Chosen on validation: method.tau"), "{md}");
}

/// The series lines of an SVG figure (plotters draws them 2 px wide), as pixel points, in drawing order.
fn series_lines(svg: &str) -> Vec<Vec<(f64, f64)>> {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && l.contains("stroke-width=\"2\""))
        .map(|l| {
            let points = l.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
            points.split_whitespace().map(|p| p.split_once(',').map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap())).unwrap()).collect()
        })
        .collect()
}

/// Pixels are a fixed affine map of values: fitted on the two most distant values, every other point lies
/// on it within a pixel (the SVG rounds to whole pixels).
fn assert_affine(pairs: &[(f64, f64)], what: &str) {
    let lo = pairs.iter().cloned().min_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
    let hi = pairs.iter().cloned().max_by(|a, b| a.0.total_cmp(&b.0)).unwrap();
    assert!(hi.0 > lo.0, "{what}: no spread of values");
    let slope = (hi.1 - lo.1) / (hi.0 - lo.0);
    for &(v, px) in pairs {
        let expected = lo.1 + slope * (v - lo.0);
        assert!((px - expected).abs() <= 1.0, "{what}: value {v} drawn at {px}, the map says {expected:.1}");
    }
}

/// Each figure holds report.json's series and their values: one line per (module, group), one point per
/// epoch, the points where the values put them.
#[test]
fn the_figures_hold_the_reports_series_and_values() {
    let out = common::tmp("report-svg");
    let (runs, skipped) = load_runs(&fixtures()).unwrap();
    let report = build(&runs, skipped, None);
    trgl::report::write::write_all(&report, &out).unwrap();
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let groups = json["groups"].as_array().unwrap();

    let lines = series_lines(&std::fs::read_to_string(out.join("test_accuracy.svg")).unwrap());
    let modules = groups[0]["test_acc_curves"].as_array().unwrap().len();
    assert_eq!(lines.len(), modules * groups.len(), "one line per module and group");
    for m in 0..modules {
        let (mut ys, mut xs) = (Vec::new(), Vec::new());
        for (g, group) in groups.iter().enumerate() {
            let curve = group["test_acc_curves"][m].as_array().unwrap();
            let line = &lines[m * groups.len() + g];
            assert_eq!(line.len(), curve.len(), "module {}: one point per epoch", m + 1);
            for (p, point) in curve.iter().zip(line) {
                ys.push((p["value"]["mean"].as_f64().unwrap(), point.1));
                xs.push((p["epoch"].as_f64().unwrap(), point.0));
            }
        }
        assert_affine(&ys, &format!("test_accuracy.svg module {} y", m + 1));
        assert_affine(&xs, &format!("test_accuracy.svg module {} x", m + 1));
    }

    // τ figure: one line per module, a point per τ, at its final accuracy.
    let lines = series_lines(&std::fs::read_to_string(out.join("tau.svg")).unwrap());
    let mut ys = Vec::new();
    for m in 0..modules {
        let line = &lines[m];
        assert_eq!(line.len(), groups.len(), "module {}: a point per τ", m + 1);
        // Points go by increasing τ: 0.5, then ∞ (the right end).
        let by_tau = |label: &str| groups.iter().find(|g| g["label"] == label).unwrap()["modules"][m]["final_acc"]["mean"].as_f64().unwrap();
        ys.push((by_tau("method.tau=0.5"), line[0].1));
        ys.push((by_tau("method.tau=inf"), line[1].1));
        assert!(line[1].0 > line[0].0, "∞ is right of 0.5");
    }
    assert_affine(&ys, "tau.svg y");

    // Depth figure: one line per group, a point per module, at its final accuracy, left to right.
    let lines = series_lines(&std::fs::read_to_string(out.join("modules.svg")).unwrap());
    assert_eq!(lines.len(), groups.len(), "one line per group");
    let (mut ys, mut xs) = (Vec::new(), Vec::new());
    for (group, line) in groups.iter().zip(&lines) {
        assert_eq!(line.len(), modules, "{}: a point per module", group["label"]);
        for (m, point) in line.iter().enumerate() {
            ys.push((group["modules"][m]["final_acc"]["mean"].as_f64().unwrap(), point.1));
            xs.push(((m + 1) as f64, point.0));
        }
    }
    assert_affine(&ys, "modules.svg y");
    assert_affine(&xs, "modules.svg x");
}
