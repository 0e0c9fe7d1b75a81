//! A least-recently-used map whose hits leave it unwritten while the entry is near the front.
//!
//! `lru::LruCache::get` moves the entry it finds to the front of its list on every hit: it writes
//! the entry, its two neighbours and the list's head. Under load the two cores look up entries
//! in turn, so each hit writes lines the other core wrote a moment before, and waits for them to
//! come over. Here a hit moves its entry only once the entry has fallen more than `slack` places
//! behind the front. Places are counted by moves: every insertion and every move to the front puts
//! one entry ahead of all the others, so an entry last moved `n` moves ago is at most `n` places
//! back. At each use an entry is therefore within `slack + 1` places of the front, and the entry
//! evicted is the least recently used one to within that; with `slack` 0 it is exactly LRU.
//!
//! Both caches on the check's path keep their entries in one: the principal cache
//! ([`crate::cache`]) and the sidecar's decision cache.

use lru::LruCache;
use std::borrow::Borrow;
use std::hash::{BuildHasher, Hash};
use std::num::NonZeroUsize;

/// A map that evicts (about) the least recently used entry. See the module documentation.
pub struct Recency<K: Hash + Eq, V, S> {
    map: LruCache<K, Slot<V>, S>,
    /// Insertions and moves to the front so far.
    moves: u64,
    /// How many places an entry may fall behind the front before a hit moves it back.
    slack: u64,
}

impl<K: Hash + Eq, V, S: BuildHasher> std::fmt::Debug for Recency<K, V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recency")
            .field("len", &self.map.len())
            .field("moves", &self.moves)
            .field("slack", &self.slack)
            .finish()
    }
}

struct Slot<V> {
    value: V,
    /// `moves` when the entry last went to the front.
    moved_at: u64,
}

/// The slack of a map of `capacity` entries: an entry used in the last quarter of the map's
/// moves is never the one evicted.
fn slack_for(capacity: usize) -> u64 {
    u64::try_from(capacity / 4).unwrap_or(u64::MAX)
}

impl<K: Hash + Eq, V, S: BuildHasher> Recency<K, V, S> {
    /// A map holding at most `capacity` entries: inserting another evicts one ([`Recency::push`]).
    pub fn bounded(capacity: NonZeroUsize, hasher: S) -> Self {
        Recency {
            map: LruCache::with_hasher(capacity, hasher),
            moves: 0,
            slack: slack_for(capacity.get()),
        }
    }

    /// A map the caller bounds with [`Recency::pop_lru`]; `capacity` is what it will hold at most,
    /// which sets the slack.
    pub fn unbounded(capacity: usize, hasher: S) -> Self {
        Recency {
            map: LruCache::unbounded_with_hasher(hasher),
            moves: 0,
            slack: slack_for(capacity),
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn moved(&mut self) -> u64 {
        self.moves = self.moves.wrapping_add(1);
        self.moves
    }

    /// Reads an entry, a use: the entry goes to the front if it has fallen more than the slack
    /// behind it. One lookup, and no write, while it has not.
    pub fn read<Q, R>(&mut self, key: &Q, read: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (found, moved_at) = self
            .map
            .peek(key)
            .map(|slot| (read(&slot.value), slot.moved_at))?;
        if self.moves.wrapping_sub(moved_at) > self.slack {
            let now = self.moved();
            if let Some(slot) = self.map.get_mut(key) {
                slot.moved_at = now;
            }
        }
        Some(found)
    }

    /// An entry to change, a use: it goes to the front.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let now = self.moved();
        let slot = self.map.get_mut(key)?;
        slot.moved_at = now;
        Some(&mut slot.value)
    }

    /// Inserts an entry at the front; in a bounded map that is full, evicts the least recently
    /// used. Returns the entry replaced (same key) or evicted.
    pub fn push(&mut self, key: K, value: V) -> Option<(K, V)> {
        let moved_at = self.moved();
        self.map
            .push(key, Slot { value, moved_at })
            .map(|(k, slot)| (k, slot.value))
    }

    /// Removes an entry.
    pub fn pop<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.pop(key).map(|slot| slot.value)
    }

    /// Removes the least recently used entry.
    pub fn pop_lru(&mut self) -> Option<(K, V)> {
        self.map.pop_lru().map(|(k, slot)| (k, slot.value))
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// The keys, most recently moved first.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.map.iter().map(|(k, _)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::RandomState;

    fn bounded(capacity: usize) -> Recency<u32, u32, RandomState> {
        Recency::bounded(NonZeroUsize::new(capacity).unwrap(), RandomState::new())
    }

    #[test]
    fn small_maps_are_exactly_lru() {
        let mut m = bounded(3);
        for k in 0..3 {
            assert_eq!(m.push(k, k * 10), None);
        }
        assert_eq!(m.read(&0, |v| *v), Some(0));
        assert_eq!(m.push(3, 30), Some((1, 10)), "1 is the least recently used");
        assert_eq!(m.read(&2, |v| *v), Some(20));
        assert_eq!(m.push(4, 40), Some((0, 0)));
        assert_eq!(m.push(4, 41), Some((4, 40)), "the same key is replaced");
        assert_eq!(m.pop(&3), Some(30));
        assert_eq!(m.len(), 2);
        assert_eq!(m.read(&9, |v| *v), None);
    }

    /// Whatever the order of uses, an entry used within the last quarter of the map's moves is
    /// never evicted, and hits near the front move nothing.
    #[test]
    fn an_entry_used_lately_is_never_evicted() {
        let capacity = 64;
        let mut m = bounded(capacity);
        let mut last_use = std::collections::HashMap::new();
        // A fixed pseudo-random walk over 256 keys: reads of cached ones, pushes of the others.
        let mut x = 0x9E37_79B9u32;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let k = x % 256;
            if m.read(&k, |_| ()).is_none() {
                if let Some((gone, _)) = m.push(k, k) {
                    let used = last_use[&gone];
                    // Fewer than three quarters of the capacity's moves since its last use would
                    // leave it within reach of the front: the evicted entry is older.
                    assert!(
                        m.moves - used >= (capacity - capacity / 4 - 1) as u64,
                        "{gone} used at move {used}, evicted at {}",
                        m.moves
                    );
                }
            }
            last_use.insert(k, m.moves);
        }
        assert_eq!(m.len(), capacity);
        // Hits on the front entries leave the moves where they were.
        let front: Vec<u32> = m.keys().take(8).copied().collect();
        let moves = m.moves;
        for k in &front {
            assert!(m.read(k, |_| ()).is_some());
        }
        assert_eq!(m.moves, moves);
    }
}
