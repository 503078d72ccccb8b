//! The same seed gives the same metrics file and weights. Alone in its test binary on purpose: Flex's
//! multi-threaded reductions are only reproducible while one training runs in the process (concurrent
//! trainings share rayon's pool, whose work splitting then changes float summation order).

mod common;

use common::{tiny_config, tiny_data, tmp};
use trgl::train::{self, Mode};

#[test]
fn the_same_seed_gives_an_identical_metrics_file() {
    let data = tiny_data();
    for mode in [Mode::Parallel, Mode::Sequential] {
        let (a, b, c) = (tmp("det-a"), tmp("det-b"), tmp("det-c"));
        let config = tiny_config(mode);
        let run_a = train::run(&config, &data, Some(&a), "a").unwrap();
        let run_b = train::run(&config, &data, Some(&b), "b").unwrap();
        let mut other = config.clone();
        other.seed = 1;
        train::run(&other, &data, Some(&c), "c").unwrap();
        let read = |d: &std::path::Path| std::fs::read(d.join("metrics.jsonl")).unwrap();
        assert_eq!(read(&a), read(&b), "{mode:?}: same seed, different metrics");
        assert_ne!(read(&a), read(&c), "{mode:?}: the seed has no effect");
        // and the same weights (the weights file also holds burn's random parameter ids, so compare values)
        assert_eq!(common::snapshot(&run_a.session.trainer.network), common::snapshot(&run_b.session.trainer.network));
        for d in [a, b, c] {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

