//! [`Ranking`]: a board's lines in order, with the rank of any line in
//! about O(√n): sorted blocks of at most [`BLOCK`] keys, so a rank is the
//! sizes of the blocks before plus a binary search in one block, and an
//! insert or removal moves at most one block's keys. At 1,000,000 lines a
//! rank is ~1,000 additions and a search of 1,024 keys (a balanced tree
//! without subtree counts would walk every line before it).

use std::ops::Bound;

/// Most keys in one block; a full block splits in two.
const BLOCK: usize = 1024;

/// Keys in order, ranked.
#[derive(Debug)]
pub struct Ranking<K> {
    blocks: Vec<Vec<K>>,
    len: usize,
}

impl<K> Default for Ranking<K> {
    fn default() -> Self {
        Ranking { blocks: Vec::new(), len: 0 }
    }
}

impl<K: Ord + Clone> Ranking<K> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The block that holds `key`, or would: the first whose last key is
    /// not below it (the last block when none is).
    fn block_for(&self, key: &K) -> usize {
        self.blocks
            .partition_point(|block| block.last().is_some_and(|last| last < key))
            .min(self.blocks.len().saturating_sub(1))
    }

    /// Adds `key`; `false` if it was there.
    pub fn insert(&mut self, key: K) -> bool {
        if self.blocks.is_empty() {
            self.blocks.push(vec![key]);
            self.len = 1;
            return true;
        }
        let b = self.block_for(&key);
        let block = &mut self.blocks[b];
        let Err(at) = block.binary_search(&key) else {
            return false;
        };
        block.insert(at, key);
        self.len += 1;
        if block.len() > BLOCK {
            let upper = block.split_off(BLOCK / 2);
            self.blocks.insert(b + 1, upper);
        }
        true
    }

    /// Removes `key`; `false` if it was not there.
    pub fn remove(&mut self, key: &K) -> bool {
        if self.blocks.is_empty() {
            return false;
        }
        let b = self.block_for(key);
        let block = &mut self.blocks[b];
        let Ok(at) = block.binary_search(key) else {
            return false;
        };
        block.remove(at);
        self.len -= 1;
        if block.is_empty() {
            self.blocks.remove(b);
        }
        true
    }

    pub fn contains(&self, key: &K) -> bool {
        !self.blocks.is_empty() && self.blocks[self.block_for(key)].binary_search(key).is_ok()
    }

    /// How many keys sort before `key` (its 0-based rank, whether or not it is there).
    pub fn count_before(&self, key: &K) -> usize {
        if self.blocks.is_empty() {
            return 0;
        }
        let b = self.block_for(key);
        let before: usize = self.blocks[..b].iter().map(Vec::len).sum();
        before + self.blocks[b].partition_point(|k| k < key)
    }

    /// The keys in order from the first that `from` admits.
    pub fn iter_from(&self, from: Bound<&K>) -> impl DoubleEndedIterator<Item = &K> + '_ {
        let (b, at) = match from {
            Bound::Unbounded => (0, 0),
            _ if self.blocks.is_empty() => (0, 0),
            Bound::Included(key) | Bound::Excluded(key) => {
                let b = self.block_for(key);
                let block = &self.blocks[b];
                let at = match from {
                    Bound::Excluded(_) => block.partition_point(|k| k <= key),
                    _ => block.partition_point(|k| k < key),
                };
                (b, at)
            }
        };
        let first: &[K] = self.blocks.get(b).map_or(&[], |block| &block[at..]);
        first.iter().chain(self.blocks.iter().skip(b + 1).flatten())
    }

    /// The keys before `key`, nearest first.
    pub fn iter_before(&self, key: &K) -> impl Iterator<Item = &K> + '_ {
        let (b, at) = if self.blocks.is_empty() {
            (0, 0)
        } else {
            let b = self.block_for(key);
            (b, self.blocks[b].partition_point(|k| k < key))
        };
        let last: &[K] = self.blocks.get(b).map_or(&[], |block| &block[..at]);
        last.iter()
            .rev()
            .chain(self.blocks[..b.min(self.blocks.len())].iter().rev().flat_map(|block| block.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn it_answers_as_a_sorted_set_does_through_splits_and_removals() {
        let mut ranking = Ranking::default();
        let mut reference = BTreeSet::new();
        let mut x: u64 = 1;
        for step in 0..20_000u64 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let key = (x >> 40) % 5_000;
            if step % 3 == 2 {
                assert_eq!(ranking.remove(&key), reference.remove(&key));
            } else {
                assert_eq!(ranking.insert(key), reference.insert(key));
            }
            assert_eq!(ranking.len(), reference.len());
            if step % 97 == 0 {
                let probe = (x >> 20) % 5_000;
                assert_eq!(ranking.count_before(&probe), reference.range(..probe).count(), "rank of {probe}");
                assert_eq!(ranking.contains(&probe), reference.contains(&probe));
                let after: Vec<_> = ranking.iter_from(Bound::Excluded(&probe)).take(5).copied().collect();
                let want: Vec<_> =
                    reference.range((Bound::Excluded(probe), Bound::Unbounded)).take(5).copied().collect();
                assert_eq!(after, want, "after {probe}");
                let from: Vec<_> = ranking.iter_from(Bound::Included(&probe)).take(3).copied().collect();
                assert_eq!(from, reference.range(probe..).take(3).copied().collect::<Vec<_>>());
                let before: Vec<_> = ranking.iter_before(&probe).take(5).copied().collect();
                assert_eq!(
                    before,
                    reference.range(..probe).rev().take(5).copied().collect::<Vec<_>>(),
                    "before {probe}"
                );
            }
        }
        assert!(ranking.blocks.len() > 1, "the test reached a split");
        assert_eq!(
            ranking.iter_from(Bound::Unbounded).copied().collect::<Vec<_>>(),
            reference.iter().copied().collect::<Vec<_>>()
        );
    }
}
