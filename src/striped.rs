//! State that every request writes, split into stripes: one per serving thread, each on cache
//! lines of its own.
//!
//! A write to memory another core wrote last first moves the cache line over, and an atomic
//! increment or a lock does exactly that. The server serves each connection wholly on one
//! thread (`server`, lanes), so when each thread writes its own stripe — its part of the
//! journal, its handle on the current state — those lines stay in its core's cache. Measured in-process (BENCHMARKS.md): two threads answering the same signed
//! call spent ~35% more CPU per request than one before the request path's shared writes were
//! striped.
//!
//! Threads take stripes in turn, when they first need one; there are twice as many stripes as
//! CPUs, so the serving threads, started first, have one each. Two threads that share a stripe
//! are still correct: every stripe is behind its own lock.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Locks a mutex, recovering it if a thread panicked while holding it: no code holding these
/// locks panics, and if one did, what they guard is still whole (every write to it is a single
/// assignment or push), so recover rather than fail every later call.
pub fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `T` alone on its cache lines (128 bytes: adjacent-line prefetching pairs 64-byte lines):
/// for a stripe, and for a counter every request writes, so that its writes do not evict
/// what is read beside it.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Padded<T>(pub T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// One `T` per stripe.
pub struct Striped<T> {
    stripes: Box<[Padded<T>]>,
}

impl<T> Striped<T> {
    /// A stripe per [`count`], each made by `make`.
    pub fn new(mut make: impl FnMut() -> T) -> Self {
        Self {
            stripes: (0..count()).map(|_| Padded(make())).collect(),
        }
    }

    /// The calling thread's stripe.
    pub fn local(&self) -> &T {
        &self.stripes[index() % self.stripes.len()].0
    }

    /// The calling thread's stripe's position.
    #[cfg(test)]
    fn local_index(&self) -> usize {
        index() % self.stripes.len()
    }

    /// Every stripe, in order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.stripes.iter().map(|padded| &padded.0)
    }
}

/// Stripes per striped value: twice the CPUs the process may use, 2 to 64.
fn count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        (cpus * 2).clamp(2, 64)
    })
}

/// The calling thread's stripe number, taken in turn on first use.
fn index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed);
    }
    INDEX.with(|index| *index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_take_stripes_in_turn_and_keep_them() {
        let striped = Striped::new(|| std::sync::Mutex::new(Vec::new()));
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..2 {
            std::thread::scope(|scope| {
                let threads: Vec<_> = (0..2)
                    .map(|_| {
                        scope.spawn(|| {
                            let first = striped.local_index();
                            striped.local().lock().unwrap().push(first);
                            assert_eq!(striped.local_index(), first, "a thread keeps its stripe");
                            first
                        })
                    })
                    .collect();
                for thread in threads {
                    seen.insert(thread.join().unwrap());
                }
            });
        }
        // Four threads one after another, stripes taken in turn: four different ones (with at
        // least two stripes per CPU and this process's other threads taking some too, they
        // may wrap, so only distinctness among concurrent ones is certain).
        assert!(seen.len() >= 2, "{seen:?}");
        let held: usize = striped.iter().map(|s| s.lock().unwrap().len()).sum();
        assert_eq!(held, 4);
        assert!(std::mem::align_of::<Padded<u8>>() >= 128);
    }
}
