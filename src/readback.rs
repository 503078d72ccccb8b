//! Every device→host read of trgl's own goes through here. A read makes the host wait for the device's
//! queue to drain: inside a training step it stalls an asynchronous GPU once per module and batch. The
//! training loops therefore keep their statistics on the device and read them only at logging points
//! (`output.log_every`), at epoch ends and for evaluation; this module counts the reads, the same way on
//! every backend (Flex included), so that a test can hold the loops to it (`tests/host_reads.rs`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use burn::prelude::*;

static READS: AtomicU64 = AtomicU64::new(0);

/// Device→host reads made through this module since the process started.
pub fn host_reads() -> u64 {
    READS.load(Ordering::SeqCst)
}

/// A float tensor's values on the host, as f32, in one transfer.
pub fn read_f32<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    READS.fetch_add(1, Ordering::SeqCst);
    t.into_data().convert::<f32>().try_into_vec::<f32>().expect("a float tensor converts to f32")
}

/// An integer tensor's values on the host, as i64, in one transfer.
pub fn read_i64<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    READS.fetch_add(1, Ordering::SeqCst);
    t.into_data().convert::<i64>().try_into_vec::<i64>().expect("an int tensor converts to i64")
}

static PLANTED: AtomicBool = AtomicBool::new(false);

/// For tests only: plants one read of the loss inside every local step (`train::step::local_step`), the
/// mistake the read counter exists to catch.
#[doc(hidden)]
pub fn plant_read_in_step(on: bool) {
    PLANTED.store(on, Ordering::SeqCst);
}

pub(crate) fn planted_read() -> bool {
    PLANTED.load(Ordering::Relaxed)
}
