//! Host memory, exact to the byte: a global allocator that counts live bytes and their peak (install it
//! with `#[global_allocator]`, as the `trgl` binary does), plus the kernel's view, peak RSS.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The system allocator, counting.
pub struct CountingAlloc;

/// Buffers from this size up (tensors, scratch) start on a cache line: a vector load or store of a
/// full line then touches one line, not two.
const LINE_ALIGNED_FROM: usize = 4096;
const LINE: usize = 64;

/// The layout the system allocator is asked for (the same for a block's allocation and release).
fn widened(layout: Layout) -> Layout {
    if layout.size() >= LINE_ALIGNED_FROM && layout.align() < LINE {
        Layout::from_size_align(layout.size(), LINE).unwrap_or(layout)
    } else {
        layout
    }
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(widened(layout)) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(widened(layout)) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, widened(layout)) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new_layout = Layout::from_size_align(new_size, layout.align()).unwrap_or(layout);
        let p = if widened(layout) == layout && widened(new_layout) == new_layout {
            unsafe { System.realloc(ptr, layout, new_size) }
        } else {
            // A block changes alignment class: move it (what the system allocator does for
            // over-aligned blocks anyway).
            let p = unsafe { System.alloc(widened(new_layout)) };
            if !p.is_null() {
                unsafe {
                    std::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new_size));
                    System.dealloc(ptr, widened(layout));
                }
            }
            p
        };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grow(new_size);
        }
        p
    }
}

fn grow(bytes: usize) {
    INSTALLED.store(true, Ordering::Relaxed);
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

/// Whether the counting allocator is the process's allocator (it is in the `trgl` binary, not in tests
/// or in programs that do not install it).
pub fn counting() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

/// Bytes allocated now.
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Highest `live_bytes` since the last [`reset_peak`].
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new phase: its peak starts at what is live now.
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Peak resident set size of the process (Linux `VmHWM`), in bytes.
pub fn peak_rss_bytes() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<usize>().ok().map(|kb| kb * 1024)
}

/// Resets the kernel's peak RSS to the current RSS (Linux ≥ 4.0); false where that is not possible.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Asks the C allocator (glibc) to keep freed memory for reuse instead of handing it back to the kernel
/// at every free. burn allocates a fresh buffer for nearly every tensor operation; with glibc's defaults,
/// buffers above a few hundred KiB are mapped and unmapped (or trimmed off the heap) each time, so every
/// page of every activation came back as a page fault — about a quarter of a resnet20 training step
/// (BENCHMARKS.md). The thresholds set here: no mapping below 32 MiB (glibc's maximum), no trimming
/// below 2 GiB free, and a top pad of 64 MiB: a thread's arena (the training loop runs on a pool
/// thread, see [`crate::threads`]) grows in heaps of 64 MiB, and glibc unmaps an emptied top heap
/// whatever the trim threshold unless the pad is a whole heap — without it about 24 MiB of every
/// resnet20 step came back as fresh pages. [`PhaseMeter::start`] returns what is free to the kernel,
/// so that per-phase peak RSS still starts from the live memory. A no-op off glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // Safety: mallopt only changes allocator parameters.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Returns the allocator's free memory to the kernel (glibc `malloc_trim`); a no-op elsewhere.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // Safety: malloc_trim only releases memory that is free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Peak host memory of one phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PhaseMemory {
    /// Peak bytes allocated during the phase, above what was live when it started (the counting
    /// allocator; `None` when it is not installed).
    pub peak_alloc_bytes: Option<usize>,
    /// Process peak RSS at the end of the phase (reset at its start where the kernel allows).
    pub peak_rss_bytes: Option<usize>,
}

/// A phase being measured: both peaks were reset when it started.
pub struct PhaseMeter {
    base: usize,
}

impl PhaseMeter {
    pub fn start() -> Self {
        release_free_memory();
        reset_peak_rss();
        let base = live_bytes();
        reset_peak();
        PhaseMeter { base }
    }

    pub fn finish(&self) -> PhaseMemory {
        PhaseMemory { peak_alloc_bytes: counting().then(|| peak_bytes().saturating_sub(self.base)), peak_rss_bytes: peak_rss_bytes() }
    }
}

/// Measures a phase: resets both peaks, runs `f`, reads them.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, PhaseMemory) {
    let meter = PhaseMeter::start();
    let out = f();
    (out, meter.finish())
}
