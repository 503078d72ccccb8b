//! Class-balanced subsets and the validation split: every class kept in its asked share, picked per seed,
//! the validation images apart from the training ones and the same whatever the training subset's size;
//! too few images refused naming the class; `val_acc` recorded beside `test_acc`.

mod common;

use trgl::config::Config;
use trgl::data::subset::{SubsetSpec, stratified, stratified_indices};
use trgl::data::{ImageSet, synthetic};
use trgl::train::Mode;

/// 3 classes × 10 images stored class by class, as an ImageFolder is.
fn class_sorted() -> ImageSet {
    let mut set = synthetic(30, 3, 1, 4, 3, 1).train;
    let mut order: Vec<usize> = (0..30).collect();
    order.sort_by_key(|&i| set.labels[i]);
    set = trgl::data::subset::gather(&set, &order);
    assert_eq!(&set.labels[..10], &[0; 10]);
    set
}

fn per_class(set: &ImageSet, indices: &[usize]) -> Vec<usize> {
    let mut n = vec![0; set.classes.len()];
    for &i in indices {
        n[set.labels[i] as usize] += 1;
    }
    n
}

#[test]
fn every_class_keeps_its_share_picked_per_seed() {
    let set = class_sorted();
    let spec = SubsetSpec { per_class: 4, fraction: 1.0, val_fraction: 0.0 };
    let (a, val) = stratified_indices(&set, &spec, 0).unwrap();
    assert_eq!(per_class(&set, &a), [4, 4, 4]);
    assert!(val.is_empty());
    assert_eq!(stratified_indices(&set, &spec, 0).unwrap().0, a, "the same seed picks the same images");
    assert_ne!(stratified_indices(&set, &spec, 1).unwrap().0, a, "another seed picks others");
    assert!(a.windows(2).all(|w| w[0] < w[1]), "the set's order is kept");

    let half = SubsetSpec { per_class: 0, fraction: 0.5, val_fraction: 0.0 };
    assert_eq!(per_class(&set, &stratified_indices(&set, &half, 3).unwrap().0), [5, 5, 5]);
}

#[test]
fn the_validation_split_is_apart_and_does_not_depend_on_the_training_subset() {
    let set = class_sorted();
    let all = SubsetSpec { per_class: 0, fraction: 1.0, val_fraction: 0.2 };
    let few = SubsetSpec { per_class: 3, fraction: 1.0, val_fraction: 0.2 };
    let (train_all, val_all) = stratified_indices(&set, &all, 5).unwrap();
    let (train_few, val_few) = stratified_indices(&set, &few, 5).unwrap();
    assert_eq!(per_class(&set, &val_all), [2, 2, 2]);
    assert_eq!(per_class(&set, &train_all), [8, 8, 8]);
    assert_eq!(per_class(&set, &train_few), [3, 3, 3]);
    assert_eq!(val_all, val_few, "fewer training images, the same validation images");
    assert!(train_all.iter().all(|i| !val_all.contains(i)));
    assert!(train_few.iter().all(|i| train_all.contains(i)));
    let (t, v) = stratified(&set, &few, 5).unwrap();
    assert_eq!((t.len(), v.map(|v| v.len())), (9, Some(6)));
}

#[test]
fn too_few_images_are_refused_naming_the_class() {
    let set = class_sorted();
    let err = stratified_indices(&set, &SubsetSpec { per_class: 9, fraction: 1.0, val_fraction: 0.2 }, 0).unwrap_err().to_string();
    assert!(err.contains("data.train_per_class") && err.contains("class0") && err.contains("has 8"), "{err}");
    let err = stratified_indices(&set, &SubsetSpec { per_class: 0, fraction: 1.0, val_fraction: 0.01 }, 0).unwrap_err().to_string();
    assert!(err.contains("data.val_fraction"), "{err}");
}

#[test]
fn conflicting_subset_fields_are_refused() {
    let cases: &[(&[&str], &str)] = &[
        (&["data.train_fraction=0"], "data.train_fraction"),
        (&["data.train_fraction=1.5"], "data.train_fraction"),
        (&["data.val_fraction=1.0"], "data.val_fraction"),
        (&["data.train_per_class=10", "data.train_fraction=0.5"], "data.train_per_class"),
        (&["data.train_limit=100", "data.train_per_class=10"], "data.train_limit"),
    ];
    for (set, field) in cases {
        let o: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        let err = Config::from_toml_str("", "test.toml", &o).unwrap_err().to_string();
        assert!(err.contains(field), "{set:?}: {err}");
    }
}

#[test]
fn a_run_with_a_validation_split_records_val_acc() {
    let mut c = common::tiny_config(Mode::Parallel);
    c.data.val_fraction = 0.25;
    let data = common::tiny_data();
    let out = trgl::train::run(&c, &data, None, "val").unwrap();
    let records = &out.session.record.metrics.records;
    assert!(records.iter().all(|r| r.val_acc.is_some_and(|a| (0.0..=1.0).contains(&a))), "every record has val_acc");
    assert_eq!(out.session.loaders.val.as_ref().map(|v| v.len()), Some(24), "a quarter of the 96 training images");
    assert_eq!(out.session.loaders.train.len(), 72);

    c.data.val_fraction = 0.0;
    let out = trgl::train::run(&c, &data, None, "no-val").unwrap();
    assert!(out.session.record.metrics.records.iter().all(|r| r.val_acc.is_none()));
    let line = serde_json::to_string(&out.session.record.metrics.records[0]).unwrap();
    assert!(!line.contains("val_acc"), "metrics without a validation split stay as they were: {line}");
}
