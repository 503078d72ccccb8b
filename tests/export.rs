//! `trgl export` writes the network with PyTorch's names and layouts; importing it back gives the same
//! values; `trgl predict` classifies image files through any module's head.

mod common;

use std::path::Path;
use std::process::Command;

use burn::module::Module;
use trgl::config::Config;
use trgl::train::build::network_from_config;

const TRGL: &str = env!("CARGO_BIN_EXE_trgl");

fn safetensors_header(path: &Path) -> serde_json::Map<String, serde_json::Value> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice::<serde_json::Value>(&bytes[8..8 + n]).unwrap().as_object().unwrap().clone()
}

#[test]
fn export_import_and_predict() {
    let dir = common::tmp("export");
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.with_extension("toml");
    std::fs::write(
        &config_path,
        format!(
            "[data]\ntrain_limit = 256\ntest_limit = 64\nbatch_size = 32\n[model]\narch = \"resnet8\"\nwidth = 4\n[split]\nmodules = 3\n\
             [head]\npool = 2\n[train]\nmode = \"parallel\"\nepochs = 1\n[output]\ndir = \"{}\"\nprogress = false\n",
            dir.display()
        ),
    )
    .unwrap();
    assert!(Command::new(TRGL).args(["train", "--config"]).arg(&config_path).output().unwrap().status.success());
    let out = Command::new(TRGL).arg("export").arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let model = dir.join("model.safetensors");

    // PyTorch conventions: BatchNorm weight/bias/running stats, linear weights [out, in], no enum variants.
    let header = safetensors_header(&model);
    let shape = |name: &str| -> Vec<u64> {
        header.get(name).unwrap_or_else(|| panic!("no tensor {name}; have {:?}", header.keys().collect::<Vec<_>>()))["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    assert_eq!(shape("modules.0.stem.conv.weight"), [4, 1, 3, 3]);
    assert_eq!(shape("modules.0.stem.bn.weight"), [4]);
    assert_eq!(shape("modules.0.stem.bn.bias"), [4]);
    assert_eq!(shape("modules.0.stem.bn.running_var"), [4]);
    assert_eq!(shape("modules.2.blocks.0.conv1.weight"), [16, 8, 3, 3]);
    assert_eq!(shape("modules.2.head.fc.weight"), [10, 16]);
    assert_eq!(shape("modules.0.head.fc.weight"), [10, 4 * 2 * 2]);
    assert!(header.keys().all(|k| !k.contains("gamma") && !k.contains("Basic")), "{:?}", header.keys());

    // Importing gives back exactly the trained values.
    let config = Config::from_file(&dir.join("config.toml"), &[]).unwrap();
    let fresh = || network_from_config(&config, 1, 28, 10).unwrap().2;
    let trained = fresh().try_load_file(dir.join("weights.bpk")).unwrap();
    let imported = trgl::export::import_safetensors(fresh(), &model).unwrap();
    assert_eq!(common::snapshot(&trained), common::snapshot(&imported));

    // Predict on PNG files of test images, through the last head and through module 1's.
    let test = trgl::data::embedded_fashion_mnist().test;
    let mut files = Vec::new();
    for i in 0..4 {
        let p = dir.join(format!("img{i}.png"));
        image::GrayImage::from_raw(28, 28, test.image(i).to_vec()).unwrap().save(&p).unwrap();
        files.push(p);
    }
    for exit in [None, Some("1")] {
        let mut cmd = Command::new(TRGL);
        cmd.args(["predict", "--run"]).arg(&dir);
        if let Some(k) = exit {
            cmd.args(["--exit", k]);
        }
        let out = cmd.args(&files).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        for l in lines {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(test.classes.contains(&f[2].to_string()), "{l}");
            let p: f32 = f[3].parse().unwrap();
            assert!(p > 0.1 && p <= 1.0, "{l}");
        }
    }
    let out = Command::new(TRGL).args(["predict", "--run"]).arg(&dir).args(["--exit", "4"]).arg(&files[0]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("module 4 does not exist"));
}
