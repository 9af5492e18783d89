//! The cleaner's key -> latest offset map, of fixed size (Kafka's `SkimpyOffsetMap`): each slot
//! holds a 16-byte digest of a key and the key's latest offset, so a key costs 24 bytes whatever
//! its length, and the map never grows past the budget it was made with
//! (`sluice.log.cleaner.dedupe.buffer.bytes`). It counts as full at 90% of its slots (Kafka's
//! `log.cleaner.io.buffer.load.factor`), after which `put` of a new key is refused and the clean
//! stops at the offset it reached.
//!
//! The digest is two SipHash-1-3 values under keys drawn at random per map: two different keys
//! share a digest with probability ~2^-128 (then the older record of one of them would be
//! dropped, as with Kafka's MD5), and nobody can craft such keys without knowing the map's keys.
//!
//! Open addressing with linear probing; a slot with offset 0 is empty (offsets are stored + 1).
//! The arrays are allocated zeroed, so untouched pages cost no memory.
//!
//! Concurrency contract: owned by one cleaning job on one thread.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// Bytes per slot: a 16-byte digest and an 8-byte offset.
pub const SLOT_BYTES: u64 = 24;
/// Fraction of the slots used before the map counts as full.
const LOAD_FACTOR: f64 = 0.9;

pub struct OffsetMap {
    digests: Vec<u128>,
    /// offset + 1; 0 = empty slot.
    offsets: Vec<i64>,
    entries: usize,
    max_entries: usize,
    first_key: RandomState,
    second_key: RandomState,
    /// The last offset whose batch was completely read into the map (-1: none).
    latest_offset: i64,
}

impl OffsetMap {
    /// A map using at most `budget_bytes` for its slots. Panics below two slots (callers
    /// validate the budget).
    pub fn with_budget(budget_bytes: u64) -> OffsetMap {
        let slots = usize::try_from(budget_bytes / SLOT_BYTES).expect("the budget fits memory");
        assert!(slots >= 2, "an offset map needs room for two slots");
        let max_entries = ((slots as f64 * LOAD_FACTOR) as usize).clamp(1, slots - 1);
        OffsetMap {
            digests: vec![0; slots],
            offsets: vec![0; slots],
            entries: 0,
            max_entries,
            first_key: RandomState::new(),
            second_key: RandomState::new(),
            latest_offset: -1,
        }
    }

    fn digest(&self, key: &[u8]) -> u128 {
        let a = self.first_key.hash_one(key) as u128;
        let b = self.second_key.hash_one(key) as u128;
        (a << 64) | b
    }

    /// The slot holding `digest`, or the empty slot where it would go. Terminates because the
    /// map always keeps at least one empty slot (`max_entries < slots`).
    fn slot(&self, digest: u128) -> usize {
        let slots = self.digests.len();
        let mut at = (digest % slots as u128) as usize;
        while self.offsets[at] != 0 && self.digests[at] != digest {
            at = (at + 1) % slots;
        }
        at
    }

    /// Records `offset` as the latest for `key`. False (nothing changed) when the key is new and
    /// the map is full.
    pub fn put(&mut self, key: &[u8], offset: i64) -> bool {
        assert!(offset >= 0, "offsets are non-negative");
        let digest = self.digest(key);
        let at = self.slot(digest);
        if self.offsets[at] == 0 {
            if self.entries >= self.max_entries {
                return false;
            }
            self.entries += 1;
            self.digests[at] = digest;
        }
        self.offsets[at] = offset + 1;
        true
    }

    /// The latest offset recorded for `key`.
    pub fn get(&self, key: &[u8]) -> Option<i64> {
        let at = self.slot(self.digest(key));
        (self.offsets[at] != 0).then(|| self.offsets[at] - 1)
    }

    pub fn len(&self) -> usize {
        self.entries
    }

    /// Keys the map takes before it counts as full.
    pub fn capacity(&self) -> usize {
        self.max_entries
    }

    pub fn latest_offset(&self) -> i64 {
        self.latest_offset
    }

    pub fn update_latest_offset(&mut self, offset: i64) {
        self.latest_offset = self.latest_offset.max(offset);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_latest_offset_per_key() {
        let mut map = OffsetMap::with_budget(24 * 1000);
        for i in 0..500i64 {
            assert!(map.put(format!("key{}", i % 50).as_bytes(), i));
        }
        assert_eq!(map.len(), 50);
        for k in 0..50i64 {
            assert_eq!(map.get(format!("key{k}").as_bytes()), Some(450 + k));
        }
        assert_eq!(map.get(b"absent"), None);
        assert_eq!(map.get(b""), None);
        assert!(map.put(b"", 7));
        assert_eq!(map.get(b""), Some(7));
    }

    #[test]
    fn refuses_new_keys_at_the_load_factor_but_updates_known_ones() {
        let mut map = OffsetMap::with_budget(24 * 10);
        assert_eq!(map.capacity(), 9);
        for i in 0..9 {
            assert!(map.put(&[i as u8], i));
        }
        assert!(!map.put(b"one too many", 100));
        assert_eq!(map.get(b"one too many"), None);
        assert!(map.put(&[3], 200), "a known key still updates");
        assert_eq!(map.get(&[3]), Some(200));
        assert_eq!(map.len(), 9);
    }

    #[test]
    fn budget_bounds_the_slots() {
        let map = OffsetMap::with_budget(32 << 20);
        assert_eq!(map.digests.len(), (32 << 20) / 24);
        assert_eq!(map.capacity(), ((32 << 20) / 24) * 9 / 10);
    }

    #[test]
    fn latest_offset_only_moves_forward() {
        let mut map = OffsetMap::with_budget(48);
        assert_eq!(map.latest_offset(), -1);
        map.update_latest_offset(10);
        map.update_latest_offset(4);
        assert_eq!(map.latest_offset(), 10);
    }
}
