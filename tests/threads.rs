//! `on_pool` runs the training loop on a thread of rayon's global pool, so that the kernels' parallel
//! operations start from inside the pool.

use trgl::threads::on_pool;

#[test]
fn work_runs_on_a_pool_thread_and_its_value_comes_back() {
    assert_eq!(rayon::current_thread_index(), None, "the test harness's thread is not a pool thread");
    let (index, value) = on_pool(|| (rayon::current_thread_index(), 6 * 7));
    assert!(index.is_some(), "on_pool ran its work outside the pool");
    assert_eq!(value, 42);
    // Called again from the pool it runs in place, on the same thread.
    let (outer, inner) = on_pool(|| (rayon::current_thread_index(), on_pool(rayon::current_thread_index)));
    assert_eq!(outer, inner);
}
