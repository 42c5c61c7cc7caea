//! The kernels' thread pool. A forward pass is a few hundred short parallel loops (S0: ~150,
//! most under 100 µs); rayon parks an idle worker within microseconds, and waking it again
//! costs a futex call and a reschedule per loop (`perf stat` of 200 S0 passes at 2 threads:
//! 10,585 context switches with rayon, 3,357 with this pool). The workers here spin between
//! loops for [`SPIN`] before they park, as ONNX Runtime's intra-op pool and XNNPACK's
//! `pthreadpool` do, and tasks are claimed one at a time from a shared counter, so a worker
//! that wakes late only takes fewer of them; the caller works too.
//!
//! A pool is installed on the calling thread for the duration of a closure ([`install`]);
//! [`for_each_task`] runs on the installed pool, or inline where none is (or where it is busy
//! with another caller's loop, or inside a task), so kernels need no pool argument and nested
//! or concurrent calls never wait on each other.

use std::any::Any;
use std::cell::Cell;
use std::mem::MaybeUninit;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, TryLockError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::buffers;
use super::lanes::Element;

/// How long an idle worker spins for the next loop before it parks.
pub const SPIN: Duration = Duration::from_millis(1);

/// One parallel loop's body, published to the workers by a thin pointer (its task count lives
/// in the state word).
struct Job<'a> {
    body: &'a (dyn Fn(usize) + Sync),
}

/// Tasks one loop can have: they are counted in 16 bits of the state word.
const MAX_TASKS: usize = u16::MAX as usize;

/// The state word: `epoch << 32 | next << 16 | tasks`. Claiming a task is one compare-and-swap
/// that also checks the loop is still the one the worker saw, so a worker that wakes after
/// its loop ended claims nothing and never touches a finished job.
fn pack(epoch: u64, next: usize, tasks: usize) -> u64 {
    (epoch << 32) | ((next as u64) << 16) | tasks as u64
}

fn unpack(state: u64) -> (u64, usize, usize) {
    (state >> 32, ((state >> 16) & 0xffff) as usize, (state & 0xffff) as usize)
}

struct Shared {
    state: AtomicU64,
    job: AtomicPtr<Job<'static>>,
    done: AtomicUsize,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
    sleepers: AtomicUsize,
    shutdown: AtomicBool,
    /// Held by the thread whose loop runs on the workers.
    dispatch: Mutex<()>,
}

impl Shared {
    /// Claims the next task of loop `epoch`, if any is left.
    fn claim(&self, epoch: u64) -> Option<usize> {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let (current, next, tasks) = unpack(state);
            if current != epoch || next >= tasks {
                return None;
            }
            match self.state.compare_exchange_weak(state, pack(epoch, next + 1, tasks), Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(next),
                Err(actual) => state = actual,
            }
        }
    }

    /// Runs tasks of loop `epoch` until none is left.
    fn work(&self, epoch: u64) {
        while let Some(task) = self.claim(epoch) {
            // SAFETY: a task was claimed, so the loop's dispatcher is still waiting for it
            // (`done` is short of `tasks`) and its job, published before the epoch, is alive.
            let job = unsafe { &*self.job.load(Ordering::Acquire) };
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| (job.body)(task))) {
                self.panic.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(payload);
            }
            self.done.fetch_add(1, Ordering::Release);
        }
    }
}

/// Worker threads for [`for_each_task`]: `threads - 1` of them, the caller being the last.
pub struct ThreadPool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool").field("threads", &self.threads()).finish()
    }
}

impl ThreadPool {
    /// A pool of `threads` (at least 1) counting the caller's.
    pub fn new(threads: usize) -> std::io::Result<ThreadPool> {
        let shared = Arc::new(Shared {
            state: AtomicU64::new(0),
            job: AtomicPtr::new(std::ptr::null_mut()),
            done: AtomicUsize::new(0),
            panic: Mutex::new(None),
            sleepers: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            dispatch: Mutex::new(()),
        });
        let mut pool = ThreadPool { shared, workers: Vec::new() };
        for index in 1..threads.max(1) {
            let shared = Arc::clone(&pool.shared);
            let worker = thread::Builder::new().name(format!("efficientformer-cpu-{index}")).spawn(move || worker(&shared))?;
            pool.workers.push(worker);
        }
        Ok(pool)
    }

    /// Threads that run a loop, the caller's included.
    pub fn threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Runs `tasks` calls of `body` on the workers and the calling thread.
    fn run(&self, tasks: usize, body: &(dyn Fn(usize) + Sync)) {
        let shared = &*self.shared;
        let _dispatch = match shared.dispatch.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => return (0..tasks).for_each(body),
        };
        let job = Job { body };
        // SAFETY: the pointer is only dereferenced by a thread that claimed a task of this
        // loop, and this call returns only once every task is done.
        let job_ptr = unsafe { std::mem::transmute::<*const Job<'_>, *mut Job<'static>>(&job) };
        shared.job.store(job_ptr, Ordering::Relaxed);
        shared.done.store(0, Ordering::Relaxed);
        let epoch = (unpack(shared.state.load(Ordering::Relaxed)).0 + 1) & u64::from(u32::MAX);
        shared.state.store(pack(epoch, 0, tasks), Ordering::SeqCst);
        if shared.sleepers.load(Ordering::SeqCst) > 0 {
            self.workers.iter().for_each(|w| w.thread().unpark());
        }
        shared.work(epoch);
        while shared.done.load(Ordering::Acquire) < tasks {
            std::hint::spin_loop();
        }
        if let Some(payload) = shared.panic.lock().unwrap_or_else(|e| e.into_inner()).take() {
            resume_unwind(payload);
        }
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        for worker in self.workers.drain(..) {
            worker.thread().unpark();
            let _ = worker.join();
        }
    }
}

fn worker(shared: &Shared) {
    let mut seen = unpack(shared.state.load(Ordering::Acquire)).0;
    loop {
        let idle_since = Instant::now();
        let mut spins = 0u32;
        let epoch = loop {
            let epoch = unpack(shared.state.load(Ordering::Acquire)).0;
            if epoch != seen {
                break epoch;
            }
            if shared.shutdown.load(Ordering::Relaxed) {
                return;
            }
            spins = spins.wrapping_add(1);
            if spins % 1024 == 0 && idle_since.elapsed() > SPIN {
                // Announce the nap, then look once more: a dispatcher that published after
                // this check sees the sleeper and unparks (both sides are `SeqCst`).
                shared.sleepers.fetch_add(1, Ordering::SeqCst);
                if unpack(shared.state.load(Ordering::SeqCst)).0 == seen && !shared.shutdown.load(Ordering::SeqCst) {
                    thread::park();
                }
                shared.sleepers.fetch_sub(1, Ordering::SeqCst);
            }
            std::hint::spin_loop();
        };
        seen = epoch;
        shared.work(epoch);
    }
}

thread_local! {
    static INSTALLED: Cell<*const ThreadPool> = const { Cell::new(std::ptr::null()) };
}

/// Runs `work` with `pool` serving this thread's [`for_each_task`] calls.
pub fn install<R>(pool: &ThreadPool, work: impl FnOnce() -> R) -> R {
    struct Restore(*const ThreadPool);
    impl Drop for Restore {
        fn drop(&mut self) {
            INSTALLED.with(|installed| installed.set(self.0));
        }
    }
    let _restore = Restore(INSTALLED.with(|installed| installed.replace(pool)));
    work()
}

fn with_installed<R>(f: impl FnOnce(Option<&ThreadPool>) -> R) -> R {
    let pool = INSTALLED.with(Cell::get);
    // SAFETY: `install` keeps the pool borrowed while the pointer is set on this thread.
    f(unsafe { pool.as_ref() })
}

/// Threads a loop started on this thread runs on (1 without an installed pool).
pub fn current_threads() -> usize {
    with_installed(|pool| pool.map_or(1, ThreadPool::threads))
}

/// `body(0)`, …, `body(tasks - 1)`, spread over the installed pool.
pub fn for_each_task(tasks: usize, body: impl Fn(usize) + Sync) {
    with_installed(|pool| match pool {
        Some(pool) if tasks > 1 && pool.threads() > 1 => {
            // Task indices live in 16 bits of the state word; longer loops are grouped.
            let group = tasks.div_ceil(MAX_TASKS);
            let grouped = |g: usize| (g * group..((g + 1) * group).min(tasks)).for_each(&body);
            pool.run(tasks.div_ceil(group), &grouped);
        }
        _ => (0..tasks).for_each(body),
    });
}

/// `body(index, chunk)` for each `chunk_len`-element chunk of `data` (the last may be
/// shorter), spread over the installed pool.
pub fn for_each_chunk<T: Send>(data: &mut [T], chunk_len: usize, body: impl Fn(usize, &mut [T]) + Sync) {
    assert!(chunk_len > 0, "for_each_chunk: empty chunks");
    let (len, base) = (data.len(), SharedPtr(data.as_mut_ptr()));
    for_each_task(len.div_ceil(chunk_len), |index| {
        let start = index * chunk_len;
        // SAFETY: chunks are disjoint and inside `data`, which this call borrows mutably.
        let chunk = unsafe { std::slice::from_raw_parts_mut(base.at(start), chunk_len.min(len - start)) };
        body(index, chunk);
    });
}

/// A new vector of `len` values (a recycled buffer, [`buffers::take`]) written in parallel,
/// `chunk_len` at a time, by `body(index, chunk)`: no pass that zeroes it first.
///
/// # Safety
/// `body` must write every element of each chunk it is given.
pub unsafe fn vec_by_chunks<E: Element>(len: usize, chunk_len: usize, body: impl Fn(usize, &mut [MaybeUninit<E>]) + Sync) -> Vec<E> {
    let mut values = buffers::take(len);
    if len > 0 {
        for_each_chunk(&mut values.spare_capacity_mut()[..len], chunk_len, body);
    }
    // SAFETY: every element of the first `len` was written (the caller's contract).
    unsafe { values.set_len(len) };
    values
}

/// A destination's base pointer shared by the tasks of one loop, each writing its own part.
pub struct SharedPtr<T>(pub *mut T);

impl<T> SharedPtr<T> {
    /// The element `offset` places from the base.
    ///
    /// # Safety
    /// `offset` must lie inside the destination, and no other task may write that element.
    pub unsafe fn at(self, offset: usize) -> *mut T {
        // SAFETY: the caller's guarantee.
        unsafe { self.0.add(offset) }
    }
}

impl<T> Clone for SharedPtr<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SharedPtr<T> {}

// SAFETY: tasks write disjoint parts through it (the contract of `at`).
unsafe impl<T: Send> Send for SharedPtr<T> {}
unsafe impl<T: Send> Sync for SharedPtr<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_runs_once_on_any_pool_size() {
        for threads in [1, 2, 3, 8] {
            let pool = ThreadPool::new(threads).unwrap();
            for tasks in [0, 1, 2, 7, 1000, MAX_TASKS + 3] {
                let mut hits = vec![0u8; tasks];
                install(&pool, || for_each_chunk(&mut hits, 1, |_, hit| hit[0] += 1));
                assert!(hits.iter().all(|&h| h == 1), "{threads} threads, {tasks} tasks");
            }
        }
    }

    #[test]
    fn chunks_cover_the_slice() {
        let pool = ThreadPool::new(3).unwrap();
        let mut data = vec![0usize; 103];
        install(&pool, || for_each_chunk(&mut data, 10, |index, chunk| chunk.iter_mut().for_each(|v| *v = index)));
        assert!(data.iter().enumerate().all(|(i, &v)| v == i / 10));
    }

    /// Workers that parked after [`SPIN`] wake for the next loop.
    #[test]
    fn parked_workers_wake_up() {
        let pool = ThreadPool::new(2).unwrap();
        for _ in 0..3 {
            thread::sleep(SPIN * 5);
            let seen = Mutex::new(std::collections::HashSet::new());
            install(&pool, || {
                for_each_task(64, |_| {
                    seen.lock().unwrap().insert(thread::current().id());
                    thread::sleep(Duration::from_millis(1));
                })
            });
            assert_eq!(seen.into_inner().unwrap().len(), 2, "both threads took tasks");
        }
    }

    /// Loops started inside a task, or by a second caller while the pool is busy, run inline.
    #[test]
    fn nested_and_concurrent_loops_complete() {
        let pool = ThreadPool::new(2).unwrap();
        let total = AtomicUsize::new(0);
        thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    install(&pool, || {
                        for_each_task(8, |_| for_each_task(8, |_| _ = total.fetch_add(1, Ordering::Relaxed)));
                    })
                });
            }
        });
        assert_eq!(total.into_inner(), 4 * 64);
    }

    #[test]
    fn a_panicking_task_panics_the_caller_and_the_pool_goes_on() {
        let pool = ThreadPool::new(2).unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| install(&pool, || for_each_task(16, |i| assert_ne!(i, 5)))));
        assert!(result.is_err());
        let count = AtomicUsize::new(0);
        install(&pool, || for_each_task(16, |_| _ = count.fetch_add(1, Ordering::Relaxed)));
        assert_eq!(count.into_inner(), 16);
    }
}
