//! Splits: InfoPro's cut tables, even and memory-balanced splits, and errors for impossible ones.

use trgl::model::split::{infopro_balanced_cuts, module_activation_floats};
use trgl::model::{HeadSpec, ResNetSpec, infopro_cuts, split_at_cuts, split_balanced, split_even};

fn plan(depth: usize) -> trgl::model::ArchPlan {
    ResNetSpec::from_name("model.arch", &format!("resnet{depth}")).unwrap().plan(3, 32, 10)
}

#[test]
fn infopro_tables_give_the_published_block_counts() {
    let cases: &[(usize, usize, &[usize])] = &[
        (32, 2, &[7, 8]),
        (32, 3, &[5, 5, 5]),
        (32, 4, &[3, 4, 4, 4]),
        (32, 8, &[1, 2, 2, 2, 2, 2, 2, 2]),
        (32, 16, &[0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        (110, 2, &[27, 27]),
        (110, 3, &[18, 18, 18]),
        (110, 4, &[12, 14, 14, 14]),
        (110, 8, &[5, 7, 7, 7, 7, 7, 7, 7]),
        (110, 16, &[2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]),
    ];
    for &(depth, k, blocks) in cases {
        let p = plan(depth);
        let split = split_at_cuts(&p, &infopro_cuts(depth, k).unwrap()).unwrap();
        assert_eq!(split.len(), k);
        assert_eq!(split.blocks_per_module(), blocks, "resnet{depth} K={k}");
        // the modules tile the network
        assert_eq!(split.modules[0].start, 0);
        assert_eq!(split.modules.last().unwrap().end, p.units.len());
        assert!(split.modules.windows(2).all(|w| w[0].end == w[1].start && w[0].start < w[0].end));
    }
    // InfoPro*'s balanced K = 2 split of ResNet-110 is 15/39.
    let p = plan(110);
    let s = split_at_cuts(&p, &infopro_balanced_cuts(110, 2).unwrap()).unwrap();
    assert_eq!(s.blocks_per_module(), vec![15, 39]);
}

#[test]
fn even_splits() {
    assert_eq!(split_even(&plan(110), 4).unwrap().blocks_per_module(), vec![14, 14, 13, 13]);
    assert_eq!(split_even(&plan(110), 2).unwrap().blocks_per_module(), vec![27, 27]);
    assert_eq!(split_even(&plan(20), 4).unwrap().blocks_per_module(), vec![3, 2, 2, 2]);
    assert_eq!(split_even(&plan(20), 4).unwrap().modules[0], 0..4, "the stem rides with module 1");
    assert!(split_even(&plan(8), 4).is_err(), "3 blocks cannot make 4 even modules");
}

#[test]
fn balanced_split_minimises_the_largest_module() {
    let p = plan(110);
    let head = HeadSpec::default();
    for k in [2, 4, 8] {
        let balanced = split_balanced(&p, k, &head).unwrap();
        assert_eq!(balanced.len(), k);
        let worst = |s: &trgl::model::Split| {
            s.modules.iter().enumerate().map(|(i, r)| module_activation_floats(&p, r.clone(), &head, i + 1 == s.len())).max().unwrap()
        };
        let even = split_even(&p, k).unwrap();
        assert!(worst(&balanced) <= worst(&even), "K={k}");
        // early modules (high resolution) get fewer blocks
        let b = balanced.blocks_per_module();
        assert!(b[0] < b[k - 1], "K={k}: {b:?}");
    }
}

#[test]
fn bad_cuts_are_refused_with_a_reason() {
    let p = plan(32);
    let e = split_at_cuts(&p, &[[4, 0]]).unwrap_err().to_string();
    assert!(e.contains("[4, 0]"), "{e}");
    let e = split_at_cuts(&p, &[[2, 1], [1, 3]]).unwrap_err().to_string();
    assert!(e.contains("increasing"), "{e}");
    let e = split_at_cuts(&p, &[[3, 4]]).unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
}

#[test]
fn any_depth_6n_plus_2_builds_and_others_are_refused() {
    for (name, blocks) in [("resnet8", 3), ("resnet20", 9), ("resnet56", 27), ("resnet110", 54), ("resnet1202", 600)] {
        let p = ResNetSpec::from_name("model.arch", name).unwrap().plan(3, 32, 10);
        assert_eq!(p.num_blocks(), blocks);
    }
    let e = ResNetSpec::from_name("model.arch", "resnet21").unwrap_err().to_string();
    assert!(e.contains("model.arch"), "{e}");
}
