//! Every training mode runs, learns a learnable task (accuracy well above chance, falling loss, falling
//! kinetic energy; see `common::assert_learns`) and writes its metrics.

mod common;

use common::{assert_learns, learnable_data, tiny_config, tiny_data, tmp};
use trgl::report::Record;
use trgl::train::{self, Mode};

fn records(dir: &std::path::Path) -> Vec<Record> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn each_mode_trains_and_writes_one_record_per_epoch_and_module() {
    let data = learnable_data();
    // (mode, train records expected, modules with a final record): 3 epochs; sequential ne1 = 2, ne2 = 1
    for (mode, train_records, finals) in [
        (Mode::Parallel, 3 * 4, 4),
        (Mode::Sequential, 2 + 3 + 4 + 5, 4),
        (Mode::Multilap, 2 * (2 + 3 + 4 + 5), 4),
        (Mode::E2e, 3, 1),
        (Mode::Pipelined, 3 * 4, 4),
    ] {
        let dir = tmp(mode.name());
        let mut config = tiny_config(mode);
        config.train.epochs = 3;
        config.train.ne1 = 2;
        config.train.pipeline_workers = 2;
        let out = train::run(&config, &data, Some(&dir), mode.name()).unwrap();
        let recs = records(&dir);
        assert_eq!(recs.iter().filter(|r| r.phase == "train").count(), train_records, "{mode:?}");
        assert_eq!(recs.iter().filter(|r| r.phase == "final").count(), finals, "{mode:?}");
        for r in &recs {
            assert_eq!(r.mode, mode.name());
            assert!(r.train_loss.is_finite() && r.test_acc.is_some());
            assert!(r.seconds.is_none(), "timings are off");
        }
        assert!(dir.join("weights.bpk").exists() && dir.join("config.toml").exists() && dir.join("summary.json").exists());
        assert_learns(&out, mode != Mode::E2e, mode.name());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn sequential_epochs_follow_ne1_plus_k_ne2_and_multilap_counts_laps() {
    let mut c = tiny_config(Mode::Multilap);
    c.train.ne1 = 2;
    c.train.ne2 = 1;
    c.train.laps = 2;
    let out = train::run(&c, &tiny_data(), None, "m").unwrap();
    let recs = &out.session.record.metrics.records;
    for k in 1..=4 {
        let per_lap = 2 + (k - 1);
        let epochs: Vec<_> = recs.iter().filter(|r| r.phase == "train" && r.module == k).map(|r| (r.lap, r.epoch)).collect();
        assert_eq!(epochs.len(), 2 * per_lap, "module {k}");
        assert_eq!(epochs.last().unwrap(), &(2, 2 * per_lap));
    }
}

#[test]
fn uzawa_and_varying_schedules_train() {
    let data = learnable_data();
    for schedule in ["uzawa", "varying"] {
        let mut c = tiny_config(Mode::Parallel);
        c.train.epochs = 3;
        c.method.schedule = serde_json::from_str(&format!("\"{schedule}\"")).unwrap();
        c.method.uzawa_every = 2;
        let out = train::run(&c, &data, None, schedule).unwrap();
        assert_learns(&out, true, schedule);
        let taus: Vec<_> = out.session.record.metrics.records.iter().filter(|r| r.module == 1).map(|r| r.tau.unwrap()).collect();
        if schedule == "uzawa" {
            assert!(taus[1] > taus[0], "λ grows with CE: {taus:?}");
        } else {
            assert_eq!(taus[0], c.method.tau / 2.0);
        }
    }
}

#[test]
fn every_head_optimizer_schedule_init_and_shortcut_trains() {
    let data = learnable_data();
    let variants: &[&[&str]] = &[
        // The smaller heads learn the early modules' features more slowly: 6 epochs where the others take 3.
        &["head.kind=\"1c2f\"", "train.epochs=6"],
        &["head.kind=\"linear\"", "train.epochs=6"],
        &["head.kind=\"mlp-sr\"", "train.epochs=6"],
        &["optim.kind=\"adamw\"", "optim.lr=0.003", "optim.weight_decay=0.05"],
        &["optim.nesterov=true"],
        &["lr_schedule.kind=\"cosine\"", "lr_schedule.warmup_epochs=1"],
        &["lr_schedule.kind=\"multistep\"", "lr_schedule.milestones=[1]"],
        &["model.init=\"orthogonal\"", "model.init_gain=0.1"],
        &["model.shortcut=\"B\""],
        &["split.method=\"balanced\""],
        &["split.method=\"cuts\"", "split.modules=3", "split.cuts=[[0,0],[2,0]]"],
        &["data.augment.padding_mode=\"reflect\""],
        // The W_p transport costs: mean(|r|) and mean(|r|³) (the kinetic check then reads that cost).
        &["method.p=1.0"],
        &["method.p=3.0"],
    ];
    for overrides in variants {
        let mut base = tiny_config(Mode::Parallel);
        base.train.epochs = 3;
        let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let c = trgl::config::Config::from_toml_str(&base.to_toml(), "tiny", &o).unwrap();
        let out = train::run(&c, &data, None, "v").unwrap_or_else(|e| panic!("{overrides:?}: {e}"));
        let recs = &out.session.record.metrics.records;
        assert!(recs.iter().all(|r| r.train_loss.is_finite()), "{overrides:?}");
        assert_learns(&out, true, &format!("{overrides:?}"));
        if overrides[0].starts_with("lr_schedule") {
            let lrs: Vec<f64> = recs.iter().filter(|r| r.module == 1 && r.phase == "train").map(|r| r.lr).collect();
            assert!(lrs[1] < c.optim.lr, "{overrides:?}: the rate decays: {lrs:?}");
        }
    }
}

#[test]
fn a_cached_prefix_trains_like_the_recomputed_one() {
    for mode in [Mode::Sequential, Mode::Multilap] {
        let mut c = common::tiny_config(mode);
        c.data.augment.crop_padding = 0;
        c.data.augment.flip = false;
        let data = common::tiny_data();
        let plain = trgl::train::run(&c, &data, None, "plain").unwrap();
        c.train.cache_prefix = true;
        let cached = trgl::train::run(&c, &data, None, "cached").unwrap();
        let (a, b) = (&plain.session.record.metrics.records, &cached.session.record.metrics.records);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!((x.module, x.epoch, x.steps), (y.module, y.epoch, y.steps));
            // Same batches; features equal up to summation order.
            assert!((x.train_loss - y.train_loss).abs() < 1e-3 * x.train_loss.abs().max(1.0), "{mode:?}: {x:?} vs {y:?}");
        }
        let (wa, wb) = (common::snapshot(&plain.session.trainer.network), common::snapshot(&cached.session.trainer.network));
        let max_diff = wa.iter().flatten().zip(wb.iter().flatten()).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
        assert!(max_diff < 1e-2, "{mode:?}: weights differ by {max_diff}");
        let cache = cached.session.trainer.prefix_cache().expect("a cache was used");
        assert_eq!(cache.len(), data.train.len());
    }
    let mut c = common::tiny_config(Mode::Sequential);
    c.train.cache_prefix = true;
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("train.cache_prefix") && e.contains("augmentation"), "{e}");
}
