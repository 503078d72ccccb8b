//! Every bad config field is refused before training, with an error that names it.

use trgl::config::Config;

fn error_of(overrides: &[&str]) -> String {
    let o: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Config::from_toml_str("", "test.toml", &o).unwrap_err().to_string()
}

#[test]
fn defaults_and_the_shipped_configs_are_valid() {
    Config::from_toml_str("", "empty", &[]).unwrap();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/configs")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        // data.dir may point at ../shared/data, absent on a fresh machine: parsing and validation need no files
        Config::from_file(&path, &[]).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// Every shipped sweep file expands into valid configs (the base files it names included).
#[test]
fn the_shipped_sweep_files_are_valid() {
    let mut n = 0;
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/sweeps")).unwrap() {
        let path = entry.unwrap().path();
        let sweep = trgl::sweep::Sweep::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!sweep.runs.is_empty(), "{}", path.display());
        n += 1;
    }
    assert!(n > 0);
}

#[test]
fn each_bad_field_is_named() {
    let cases: &[(&[&str], &str)] = &[
        (&["device=\"tpu:0\""], "device"),
        (&["data.dataset=\"imagenet\""], "data.dataset"),
        (&["data.dataset=\"image-folder\""], "data.dir"),
        (&["data.channels=2"], "data.channels"),
        (&["data.resize=1"], "data.resize"),
        (&["data.batch_size=1"], "data.batch_size"),
        (&["data.test_batch_size=0"], "data.test_batch_size"),
        (&["data.workers=0"], "data.workers"),
        (&["data.augment.crop_padding=40"], "data.augment.crop_padding"),
        (&["data.augment.padding_mode=\"mirror\""], "padding_mode"),
        (&["model.arch=\"resnet21\""], "model.arch"),
        (&["model.arch=\"alexnet\""], "model.arch"),
        (&["model.arch=\"vgg12\""], "model.arch"),
        (&["model.width=0"], "model.width"),
        (&["model.init_gain=-1"], "model.init_gain"),
        (&["model.shortcut=\"C\""], "shortcut"),
        (&["split.modules=0"], "split.modules"),
        (&["split.method=\"cuts\"", "split.modules=3", "split.cuts=[[1,2]]"], "split.cuts"),
        (&["split.cuts=[[1,2]]"], "split.cuts"),
        (&["head.kind=\"2cnn\""], "kind"),
        (&["head.pool=0"], "head.pool"),
        (&["method.tau=0"], "method.tau"),
        (&["method.tau=-1"], "method.tau"),
        (&["method.tau=nan"], "method.tau"),
        (&["method.schedule=\"uzawa\"", "method.uzawa_every=0"], "method.uzawa_every"),
        (&["method.schedule=\"uzawa\"", "method.uzawa_lambda0=0"], "method.uzawa_lambda0"),
        (&["train.mode=\"pipeline\""], "mode"),
        (&["train.mode=\"parallel\"", "train.epochs=0"], "train.epochs"),
        (&["train.ne1=0"], "train.ne1"),
        (&["train.mode=\"multilap\"", "train.laps=0"], "train.laps"),
        (&["train.label_smoothing=1.5"], "train.label_smoothing"),
        (&["optim.lr=0"], "optim.lr"),
        (&["optim.lr=inf"], "optim.lr"),
        (&["optim.momentum=1.2"], "optim.momentum"),
        (&["optim.momentum=0", "optim.nesterov=true"], "optim.nesterov"),
        (&["optim.weight_decay=-0.1"], "optim.weight_decay"),
        (&["optim.betas=[0.9, 1.0]"], "optim.betas[1]"),
        (&["optim.kind=\"lbfgs\""], "kind"),
        (&["lr_schedule.milestones=[10, 5]"], "lr_schedule.milestones"),
        (&["lr_schedule.gamma=0"], "lr_schedule.gamma"),
        (&["lr_schedule.min_lr=1"], "lr_schedule.min_lr"),
        (&["output.dir=\"\""], "output.dir"),
        (&["optim.learning_rate=0.1"], "learning_rate"),
        (&["seed=\"zero\""], "seed"),
    ];
    for (overrides, field) in cases {
        let e = error_of(overrides);
        assert!(e.contains(field), "{overrides:?}: error `{e}` does not name `{field}`");
    }
}

#[test]
fn overrides_set_nested_fields_and_keep_types() {
    let c = Config::from_toml_str(
        "[optim]\nlr = 0.1\n",
        "t",
        &["optim.lr=0.01".into(), "method.tau=inf".into(), "split.method=balanced".into(), "data.augment.flip=false".into()],
    )
    .unwrap();
    assert_eq!(c.optim.lr, 0.01);
    assert!(c.method.tau.is_infinite());
    assert_eq!(c.split.method, trgl::model::SplitMethod::Balanced);
    assert!(!c.data.augment.flip);
    // the resolved config round-trips, ∞ included
    let again = Config::from_toml_str(&c.to_toml(), "resolved", &[]).unwrap();
    assert_eq!(again, c);
    assert!(error_of(&["optim.lr"]).contains("key=value"));
}

#[test]
fn a_syntax_error_names_the_file() {
    let e = Config::from_toml_str("[optim\nlr = 1", "configs/broken.toml", &[]).unwrap_err().to_string();
    assert!(e.contains("configs/broken.toml"), "{e}");
}

/// Crop padding, when a config leaves it out: 4 for 32-px sets (CIFAR, SVHN; the published recipe), 2 for
/// 28-px ones; a value given is kept, and the resolved config records the one used.
#[test]
fn crop_padding_defaults_to_the_image_size() {
    let padding = |text: &str, set: &[&str]| {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        Config::from_toml_str(text, "test", &set).unwrap().data.augment.crop_padding
    };
    assert_eq!(padding("", &[]), 2, "the embedded 28-px set");
    assert_eq!(padding("[data]\ndataset = \"cifar10\"\n", &[]), 4);
    assert_eq!(padding("[data]\ndataset = \"svhn\"\n", &[]), 4);
    assert_eq!(padding("[data]\ndataset = \"fashion-mnist\"\n", &[]), 2);
    assert_eq!(padding("[data]\ndataset = \"fashion-mnist\"\nresize = 32\n", &[]), 4);
    assert_eq!(padding("[data]\ndataset = \"cifar10\"\n[data.augment]\ncrop_padding = 1\n", &[]), 1);
    assert_eq!(padding("[data]\ndataset = \"cifar10\"\n", &["data.augment.crop_padding=0"]), 0);
    let resolved = Config::from_toml_str("[data]\ndataset = \"cifar10\"\n", "test", &[]).unwrap().to_toml();
    assert_eq!(Config::from_toml_str(&resolved, "resolved", &[]).unwrap().data.augment.crop_padding, 4);
}
