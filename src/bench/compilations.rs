//! Kernel compilations, counted from cubecl's compilation log (routed to the `log` crate): a steady-state
//! training step should compile nothing, every kernel having been compiled (and autotuned) in the first
//! steps. Install with [`count_compilations`] before the first GPU operation of the process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cubecl_runtime::config::{CubeClRuntimeConfig, RuntimeConfig, compilation::CompilationLogLevel};

static COMPILED: AtomicU64 = AtomicU64::new(0);
static COUNTING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
const TARGET: &str = "cubecl::compilation";

struct Count;

impl log::Log for Count {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.target() == TARGET
    }
    fn log(&self, record: &log::Record) {
        if record.target() == TARGET {
            COMPILED.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn flush(&self) {}
}

static COUNT: Count = Count;

/// Turns the counting on: cubecl's configuration as it would load it (a `cubecl.toml`, the
/// environment), with its compilation log sent to the `log` crate as well. Returns false (and counts
/// nothing) when cubecl's configuration was already read or another logger is installed.
pub fn count_compilations() -> bool {
    let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
    if matches!(config.compilation.logger.level, CompilationLogLevel::Disabled) {
        config.compilation.logger.level = CompilationLogLevel::Basic;
    }
    config.compilation.logger.log = Some(Default::default());
    if log::set_logger(&COUNT).is_err() {
        return false;
    }
    log::set_max_level(log::LevelFilter::Trace);
    let on = CubeClRuntimeConfig::try_set(config);
    COUNTING.store(on, Ordering::SeqCst);
    on
}

/// Whether [`count_compilations`] turned the counting on.
pub fn counting() -> bool {
    COUNTING.load(Ordering::SeqCst)
}

/// Compilations so far. cubecl logs from a task of its own: this waits until the count has not moved
/// for 100 ms (at most 2 s), after the caller synchronised the device.
pub fn compilations() -> u64 {
    let start = Instant::now();
    let mut last = COMPILED.load(Ordering::SeqCst);
    let mut still = Instant::now();
    while still.elapsed() < Duration::from_millis(100) && start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
        let now = COMPILED.load(Ordering::SeqCst);
        if now != last {
            last = now;
            still = Instant::now();
        }
    }
    last
}
