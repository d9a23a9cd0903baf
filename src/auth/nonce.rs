//! The replay cache of `--auth strict`: nonces seen in the last `window`, bounded in size.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Nonces (per AccessKeyId) of requests whose signature verified, remembered for `window`.
/// A request is accepted while its timestamp is within ±15 minutes of now, so a nonce must be
/// remembered for 30 minutes to refuse every replay. At most `capacity` nonces are kept; past
/// that the oldest are forgotten first (replays of those would then pass — documented).
///
/// One mutex: each check-and-insert is a few hash operations, far shorter than a request.
pub struct NonceCache {
    window: Duration,
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    seen: HashSet<String>,
    order: VecDeque<(Instant, String)>,
}

/// Default bound on remembered nonces (~100 bytes each).
pub const DEFAULT_CAPACITY: usize = 100_000;
/// How long a nonce is remembered: twice the ±15-minute timestamp window.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30 * 60);

impl Default for NonceCache {
    fn default() -> Self {
        Self::new(DEFAULT_WINDOW, DEFAULT_CAPACITY)
    }
}

impl NonceCache {
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records `nonce` for `access_key_id`; `false` when it was already seen (a replay).
    pub fn check_and_insert(&self, access_key_id: &str, nonce: &str, now: Instant) -> bool {
        let key = format!("{access_key_id}\n{nonce}");
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while let Some((at, _)) = inner.order.front() {
            let expired = now.saturating_duration_since(*at) >= self.window;
            if !expired && inner.order.len() < self.capacity {
                break;
            }
            if let Some((_, old)) = inner.order.pop_front() {
                inner.seen.remove(&old);
            }
        }
        if !inner.seen.insert(key.clone()) {
            return false;
        }
        inner.order.push_back((now, key));
        true
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .seen
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_refused_the_second_time_per_access_key() {
        let cache = NonceCache::default();
        let now = Instant::now();
        assert!(cache.check_and_insert("AK", "n1", now));
        assert!(!cache.check_and_insert("AK", "n1", now));
        assert!(cache.check_and_insert("AK2", "n1", now));
    }

    #[test]
    fn nonces_are_forgotten_after_the_window_and_past_the_capacity() {
        let cache = NonceCache::new(Duration::from_secs(60), 3);
        let start = Instant::now();
        assert!(cache.check_and_insert("AK", "old", start));
        let later = start + Duration::from_secs(61);
        assert!(cache.check_and_insert("AK", "old", later), "expired");
        for n in ["a", "b", "c"] {
            assert!(cache.check_and_insert("AK", n, later));
        }
        assert_eq!(cache.len(), 3);
        assert!(
            cache.check_and_insert("AK", "old", later),
            "evicted as the oldest"
        );
    }
}
