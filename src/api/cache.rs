//! A short-lived cache of serialized experiments for
//! `GET /api/v1/experiments/{id}`, the route dashboards and CI poll.
//!
//! Consistency: the API's own transitions (start, end, abort) forget the
//! entry, so a client reads its own writes; the scheduler's changes and
//! other replicas' show within `http.read_cache_ttl` (default 500ms; 0
//! disables). Must not: cache errors or absent experiments.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use uuid::Uuid;

/// Most entries held before the cache starts over.
const CAPACITY: usize = 10_000;

/// Serialized experiments by id, each with the time it was read.
#[derive(Debug)]
pub struct ExperimentCache {
    ttl: Duration,
    entries: Mutex<HashMap<Uuid, (Bytes, Instant)>>,
}

impl ExperimentCache {
    /// A cache keeping entries for `ttl` (zero: nothing is cached).
    pub fn new(ttl: Duration) -> Self {
        ExperimentCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The remembered JSON of `id`, if read less than `ttl` ago.
    pub fn get(&self, id: Uuid) -> Option<Bytes> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().ok()?;
        entries
            .get(&id)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(b, _)| b.clone())
    }

    /// Remembers the JSON of `id`, read at `read_at`.
    pub fn put(&self, id: Uuid, json: Bytes, read_at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.retain(|_, (_, at)| at.elapsed() < self.ttl);
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(id, (json, read_at));
        }
    }

    /// Forgets `id` (after this server changed it).
    pub fn forget(&self, id: Uuid) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_can_be_forgotten() {
        let c = ExperimentCache::new(Duration::from_secs(60));
        let id = Uuid::nil();
        c.put(id, Bytes::from_static(b"{}"), Instant::now());
        assert_eq!(c.get(id), Some(Bytes::from_static(b"{}")));
        c.forget(id);
        assert_eq!(c.get(id), None);
        let old = Instant::now().checked_sub(Duration::from_secs(61));
        if let Some(old) = old {
            c.put(id, Bytes::from_static(b"{}"), old);
            assert_eq!(c.get(id), None, "older than the ttl");
        }
        let off = ExperimentCache::new(Duration::ZERO);
        off.put(id, Bytes::from_static(b"{}"), Instant::now());
        assert_eq!(off.get(id), None);
    }
}
