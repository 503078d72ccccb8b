//! configs/paper/: every file loads, its settings are the ones its `# paper:` comment line states (table,
//! published script, epochs, lr, batch, τ, schedule, K, heads), and it trains two steps on synthetic data of
//! its dataset's shape (batch cut to 2: the shapes, not the scale, are under test here).

use std::collections::BTreeMap;
use std::path::Path;

use trgl::config::Config;

fn paper_line(text: &str, file: &Path) -> BTreeMap<String, String> {
    let line = text.lines().find_map(|l| l.strip_prefix("# paper:")).unwrap_or_else(|| panic!("{}: no `# paper:` line", file.display()));
    line.split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or_else(|| panic!("{}: `{kv}` is not key = value", file.display()));
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

fn json_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).unwrap().as_str().unwrap().to_string()
}

/// Channels, side and classes of each dataset the paper's tables use.
fn shape(dataset: &str) -> (usize, usize, usize) {
    match dataset {
        "stl10" => (3, 96, 10),
        "cifar10" => (3, 32, 10),
        "cifar100" => (3, 32, 100),
        "svhn" => (3, 32, 10),
        "tiny-imagenet" => (3, 64, 200),
        other => panic!("no shape known for {other}"),
    }
}

#[test]
fn every_paper_config_states_its_settings_and_trains() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/paper");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "toml")).collect();
    files.sort();
    assert!(files.len() >= 8, "{} files", files.len());
    let only = std::env::var("TRGL_PAPER_CONFIG").ok();
    for file in files.into_iter().filter(|f| only.as_ref().is_none_or(|o| f.to_string_lossy().contains(o.as_str()))) {
        let started = std::time::Instant::now();
        let text = std::fs::read_to_string(&file).unwrap();
        let paper = paper_line(&text, &file);
        let c = Config::from_file(&file, &[]).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.display().to_string();
        let script = &paper["script"];
        assert!(text.contains(&format!("python3 {script} ")), "{name}: the published command names {script}");
        assert!(["1", "2", "3"].contains(&paper["table"].as_str()), "{name}");
        assert_eq!(paper["epochs"].parse::<usize>().unwrap(), c.train.epochs, "{name}: epochs");
        assert_eq!(paper["lr"].parse::<f64>().unwrap(), c.optim.lr, "{name}: lr");
        assert_eq!(paper["batch"].parse::<usize>().unwrap(), c.data.batch_size, "{name}: batch");
        assert_eq!(paper["K"].parse::<usize>().unwrap(), c.split.modules, "{name}: K");
        assert_eq!(paper["head"], json_name(&c.head.kind), "{name}: head");
        assert_eq!(paper["schedule"], json_name(&c.method.schedule), "{name}: schedule");
        let tau: f64 = if paper["tau"] == "inf" { f64::INFINITY } else { paper["tau"].parse().unwrap() };
        assert_eq!(tau, c.method.tau, "{name}: tau");
        // The script's own `-bas`, `-lrt`, `-tau` flags, where its command gives them, say the same.
        let flag = |f: &str| text.split_whitespace().skip_while(|w| *w != f).nth(1).map(str::to_string);
        if let Some(b) = flag("-bas") {
            assert_eq!(b.parse::<usize>().unwrap(), c.data.batch_size, "{name}: -bas");
        }
        if let Some(l) = flag("-lrt") {
            assert_eq!(l.parse::<f64>().unwrap(), c.optim.lr, "{name}: -lrt");
        }
        if let Some(t) = flag("-tau") {
            assert_eq!(t.parse::<f64>().unwrap(), c.method.tau, "{name}: -tau");
        }
        if let Some(e) = flag("-ne0") {
            assert_eq!(e.parse::<usize>().unwrap(), c.train.epochs, "{name}: -ne0");
        }
        assert_eq!(json_name(&c.train.mode), "parallel", "{name}: the published code runs parallel training");
        assert_eq!(json_name(&c.head.last), "aux", "{name}: every module's head is the aux head, as published");
        assert_eq!(c.head.pool_kernels.len(), c.split.modules, "{name}: one published apc per module");

        // Two steps on synthetic data of the dataset's shape.
        let (channels, side, classes) = shape(&c.data.dataset);
        let mut small = c.clone();
        small.data.batch_size = 2;
        small.data.test_batch_size = 4;
        small.train.epochs = 1;
        small.train.max_steps_per_epoch = 2;
        small.output.progress = false;
        // burn's orthogonal initialiser (a QR per weight on one core) takes minutes on ResNet-101/152's
        // 1024- and 2048-channel heads; the scheme itself is exercised in tests/modes.rs.
        small.model.init = trgl::model::InitScheme::Kaiming;
        let data = trgl::data::synthetic(4, 4, channels, side, classes, 0);
        let outcome = trgl::train::run(&small, &data, None, "paper").unwrap_or_else(|e| panic!("{name}: {e}"));
        let train: Vec<_> = outcome.session.record.metrics.records.iter().filter(|r| r.phase == "train").collect();
        assert_eq!(train.len(), c.split.modules, "{name}: one record per module");
        assert!(train.iter().all(|r| r.steps == 2 && r.train_loss.is_finite()), "{name}: two finite steps per module");
        eprintln!("{name}: loaded, checked and stepped in {:.1} s", started.elapsed().as_secs_f64());
    }
}
