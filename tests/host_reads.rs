//! The training loops read nothing back from the device between two logging points. Every read of trgl's
//! own goes through `trgl::readback`, which counts them the same way on every backend, so these counts
//! hold on a GPU as they do here on Flex.

mod common;

use std::sync::Mutex;

use common::{tiny_config, tiny_data};
use trgl::readback::{host_reads, plant_read_in_step};
use trgl::train::{Mode, Optimizers, Pass, Session, train_pass};
use trgl::transport::TauSchedule;

/// The counter is process-wide: one test at a time reads it.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// tiny_data has 96 training images; batches of 16 make 6 steps an epoch.
const STEPS: usize = 6;

fn session(mode: Mode, log_every: usize, uzawa: bool) -> Session {
    let mut c = tiny_config(mode);
    c.output.log_every = log_every;
    c.train.pipeline_workers = 2;
    if uzawa {
        c.method.schedule = TauSchedule::Uzawa;
        c.method.uzawa_every = 2;
    }
    let s = Session::new(&c, &tiny_data(), None).unwrap();
    assert_eq!(s.steps_per_epoch(), STEPS);
    s
}

/// Reads made by one local epoch of modules `active` (a frozen prefix before them).
fn local_epoch_reads(s: &mut Session, active: std::ops::Range<usize>) -> u64 {
    let mut optims = Optimizers::per_module(s, |_| 1);
    let before = host_reads();
    train_pass(s, &Pass::Local(active), &mut optims, "").unwrap();
    host_reads() - before
}

/// Logging points inside an epoch of `STEPS` steps, plus the epoch's own read at its end.
fn expected(log_every: usize) -> u64 {
    (if log_every == 0 { 0 } else { (STEPS - 1) / log_every }) as u64 + 1
}

#[test]
fn a_local_epoch_reads_only_at_logging_points_and_its_end() {
    let _g = serial();
    for uzawa in [false, true] {
        for log_every in [0, 1, 2, 4, 6] {
            let mut s = session(Mode::Parallel, log_every, uzawa);
            assert_eq!(local_epoch_reads(&mut s, 0..4), expected(log_every), "all four modules, log_every {log_every}, uzawa {uzawa}");
            // A module on a frozen prefix, as in sequential mode.
            assert_eq!(local_epoch_reads(&mut s, 2..3), expected(log_every), "module 3 alone, log_every {log_every}, uzawa {uzawa}");
        }
    }
}

#[test]
fn an_end_to_end_epoch_reads_only_at_logging_points_and_its_end() {
    let _g = serial();
    for log_every in [0, 2, 5] {
        let mut s = session(Mode::E2e, log_every, false);
        let mut optims = Optimizers::whole_network(&s, 1);
        let before = host_reads();
        train_pass(&mut s, &Pass::EndToEnd, &mut optims, "").unwrap();
        assert_eq!(host_reads() - before, expected(log_every), "log_every {log_every}");
        assert_eq!(optims.steps, [STEPS]);
    }
}

#[test]
fn each_pipeline_worker_reads_only_at_logging_points_and_its_end() {
    let _g = serial();
    for log_every in [0, 3] {
        let mut s = session(Mode::Pipelined, log_every, true);
        let mut optims = Optimizers::per_module(&s, |_| 1);
        let before = host_reads();
        train_pass(&mut s, &Pass::Pipelined, &mut optims, "").unwrap();
        assert_eq!(host_reads() - before, 2 * expected(log_every), "two workers, log_every {log_every}");
    }
}

#[test]
fn a_read_planted_inside_the_step_is_counted() {
    let _g = serial();
    let mut s = session(Mode::Parallel, 0, false);
    plant_read_in_step(true);
    let planted = local_epoch_reads(&mut s, 0..4);
    plant_read_in_step(false);
    assert_eq!(planted, 1 + (STEPS * 4) as u64, "one planted read per module and step, and the epoch's own");
    assert_eq!(local_epoch_reads(&mut s, 0..4), 1, "the plant is gone");
}

#[test]
fn evaluating_every_head_reads_once() {
    let _g = serial();
    let mut s = session(Mode::Parallel, 0, false);
    let before = host_reads();
    let accs = s.evaluate(0..4);
    assert_eq!(host_reads() - before, 1);
    assert!(accs.iter().all(|a| a.is_some_and(|a| (0.0..=1.0).contains(&a))));
}

#[test]
fn a_non_finite_loss_is_named_by_its_first_step_at_any_logging_interval() {
    let _g = serial();
    let failure = |log_every: usize| {
        let mut c = tiny_config(Mode::Parallel);
        c.optim.lr = 1e30;
        c.output.log_every = log_every;
        let mut s = Session::new(&c, &tiny_data(), None).unwrap();
        let mut optims = Optimizers::per_module(&s, |_| 1);
        match train_pass(&mut s, &Pass::Local(0..4), &mut optims, "") {
            Err(trgl::Error::NonFinite { module, epoch, step, value }) => {
                assert!(!value.is_finite());
                (module, epoch, step, optims.steps[0])
            }
            other => panic!("log_every {log_every}: expected a non-finite loss, got {:?}", other.map(|_| ())),
        }
    };
    let (module, epoch, step, trained) = failure(1);
    assert_eq!(epoch, 1);
    assert!((1..=STEPS).contains(&step));
    assert_eq!(trained, step, "reading every step, training stops at the first non-finite loss");
    for log_every in [0, 2, 4] {
        let (m, e, st, _) = failure(log_every);
        assert_eq!((m, e, st), (module, epoch, step), "log_every {log_every} names the same module and step");
    }
}

#[test]
fn only_the_readback_module_reads_from_the_device() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut offenders = Vec::new();
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") && !p.ends_with("src/readback.rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                for read in [".into_data(", ".to_data(", ".into_scalar", "into_data_async", ".into_scalar_async"] {
                    if text.contains(read) {
                        offenders.push(format!("{}: {read}", p.display()));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "device reads outside src/readback.rs: {offenders:?}");
}
