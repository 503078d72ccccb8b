//! Which thread drives a training loop.
//!
//! The CPU kernels split each operation across rayon's global pool (one thread per core). Called from
//! a thread outside the pool, every such operation is handed to the pool and the caller blocks until
//! it is done: two thread hand-offs per operation, hundreds of operations per step. Driven from one of
//! the pool's own threads, the loop runs each operation's first share itself and the other threads
//! take the rest as they look for work — the way PyTorch's main thread is one of its OpenMP threads.
//! Measured on a resnet20 step (2 cores; BENCHMARKS.md, "What each change gained", "Threads and memory"):
//! e2e and parallel 4–8 % faster.

/// Runs `work` on a thread of rayon's global pool (in place when called from one) and returns what it
/// returns. Not for work that blocks on other threads which themselves run kernels — the pipelined
/// mode's stages — since a pool thread blocked outside rayon is one core fewer for their kernels.
pub fn on_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    rayon::scope(|_| work())
}
