//! The pipelined mode computes what the parallel mode computes: exactly with one worker, up to float
//! summation order with several (workers share the CPU's thread pool). Its own binary, tests in turn:
//! concurrent trainings in one process change the order of Flex's float sums.

mod common;

use trgl::train::Mode;
use trgl::train::pipelined::worker_groups;

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn run(mode: Mode, workers: usize, device: &str) -> trgl::train::RunOutcome {
    let mut c = common::tiny_config(mode);
    c.train.pipeline_workers = workers;
    c.device = device.into();
    trgl::train::run(&c, &common::tiny_data(), None, "p").unwrap()
}

#[test]
fn one_worker_is_the_parallel_mode_exactly() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let parallel = run(Mode::Parallel, 1, "cpu");
    let pipelined = run(Mode::Pipelined, 1, "cpu");
    let strip = |o: &trgl::train::RunOutcome| o.session.record.metrics.records.iter().map(|r| (r.module, r.epoch, r.train_loss, r.test_acc, r.steps)).collect::<Vec<_>>();
    assert_eq!(strip(&parallel), strip(&pipelined));
    assert_eq!(common::snapshot(&parallel.session.trainer.network), common::snapshot(&pipelined.session.trainer.network));
}

/// Two and four pipeline stages (worker threads) train the steps of the parallel mode. On the CPU build
/// `cpu,cpu` opens the same Flex device twice: that case covers the device-list path (worker w on entry
/// w mod 2, features and labels handed over through `to_device`), not two distinct devices, which a
/// CPU-only machine does not have.
#[test]
fn two_and_four_pipeline_stages_on_the_cpu_train_the_parallel_steps() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let parallel = run(Mode::Parallel, 1, "cpu");
    for (workers, device) in [(2, "cpu"), (4, "cpu,cpu")] {
        let entries = trgl::device::parse_devices(device).unwrap().len();
        assert_eq!(entries, device.split(',').count(), "{device}: one device per entry");
        let pipelined = run(Mode::Pipelined, workers, device);
        let (a, b) = (&parallel.session.record.metrics.records, &pipelined.session.record.metrics.records);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert_eq!((x.module, x.epoch, x.steps, x.phase.as_str()), (y.module, y.epoch, y.steps, y.phase.as_str()));
            assert!((x.train_loss - y.train_loss).abs() < 1e-3 * x.train_loss.abs().max(1.0), "{workers} workers: {x:?} vs {y:?}");
        }
        let (wa, wb) = (common::snapshot(&parallel.session.trainer.network), common::snapshot(&pipelined.session.trainer.network));
        let max_diff = wa.iter().flatten().zip(wb.iter().flatten()).map(|(p, q)| (p - q).abs()).fold(0f32, f32::max);
        assert!(max_diff < 1e-2, "{workers} workers: weights differ by {max_diff}");
    }
}

#[test]
fn modules_are_shared_out_in_contiguous_groups() {
    assert_eq!(worker_groups(4, 2), vec![0..2, 2..4]);
    assert_eq!(worker_groups(5, 2), vec![0..2, 2..5]);
    assert_eq!(worker_groups(3, 8), vec![0..1, 1..2, 2..3]);
    assert_eq!(worker_groups(4, 1), vec![0..4]);
    let mut c = common::tiny_config(Mode::Parallel);
    c.device = "cpu,cpu".into();
    assert!(c.validate().unwrap_err().to_string().contains("pipelined"));
}
