//! One region's index for the match function: the round's live tickets
//! that can play there, in rating order, with removal. Matched tickets stay
//! in place and are skipped through links that are compressed as they are
//! followed (like union-find), so walking from any position to the nearest
//! unmatched neighbour costs amortised near-constant time.

/// What a search reads of a ticket, stored in the lane itself so a scan
/// walks contiguous memory.
#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    pub rating: f64,
    /// Position in the round's (rating, id) order.
    pub rank: u32,
    /// Index into the round's tickets.
    pub ticket: u32,
    /// Party size.
    pub size: u32,
}

/// The live tickets that can play in one region, in rating order, with
/// links that skip matched tickets (compressed as they are followed).
pub(super) struct Lane {
    pub entries: Vec<Entry>,
    matched: Vec<bool>,
    /// For a matched entry at p: search on from this position (initially p + 1).
    skip_right: Vec<u32>,
    /// For a matched entry at p: the next candidate is below this bound (initially p).
    skip_left: Vec<u32>,
}

impl Lane {
    /// A lane of `entries`, given in rank order, none matched.
    pub fn new(entries: Vec<Entry>) -> Lane {
        debug_assert!(entries.is_sorted_by_key(|entry| entry.rank));
        let len = entries.len() as u32;
        Lane {
            entries,
            matched: vec![false; len as usize],
            skip_right: (1..=len).collect(),
            skip_left: (0..len).collect(),
        }
    }

    pub fn position_of(&self, rank: u32) -> usize {
        self.entries
            .binary_search_by_key(&rank, |entry| entry.rank)
            .expect("a live ticket is in the lane of every region it can use")
    }

    pub fn remove(&mut self, rank: u32) {
        let position = self.position_of(rank);
        self.matched[position] = true;
    }

    /// The first unmatched entry at or after `start`.
    pub fn alive_from(&mut self, start: usize) -> Option<usize> {
        let len = self.entries.len();
        let mut found = start;
        while found < len && self.matched[found] {
            found = self.skip_right[found] as usize;
        }
        let mut at = start;
        while at < found {
            let next = self.skip_right[at] as usize;
            self.skip_right[at] = found as u32;
            at = next;
        }
        (found < len).then_some(found)
    }

    /// The last unmatched entry before `end`.
    pub fn alive_before(&mut self, end: usize) -> Option<usize> {
        let mut bound = end;
        while bound > 0 && self.matched[bound - 1] {
            bound = self.skip_left[bound - 1] as usize;
        }
        let mut at = end;
        while at > bound {
            let next = self.skip_left[at - 1] as usize;
            self.skip_left[at - 1] = bound as u32;
            at = next;
        }
        (bound > 0).then(|| bound - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(len: u32) -> Lane {
        Lane::new((0..len).map(|i| Entry { rating: f64::from(i), rank: i * 2, ticket: i, size: 1 }).collect())
    }

    #[test]
    fn walks_skip_removed_entries_on_both_sides() {
        let mut lane = lane(8);
        for rank in [2, 4, 6, 10] {
            lane.remove(rank);
        }
        // Alive: positions 0, 4, 6, 7 (ranks 0, 8, 12, 14).
        assert_eq!(lane.alive_from(1), Some(4));
        assert_eq!(lane.alive_from(5), Some(6));
        assert_eq!(lane.alive_before(4), Some(0));
        assert_eq!(lane.alive_before(6), Some(4));
        lane.remove(0);
        assert_eq!(lane.alive_before(4), None);
        lane.remove(14);
        assert_eq!(lane.alive_from(7), None);
        // The compressed links still answer the same after more removals.
        lane.remove(8);
        assert_eq!(lane.alive_from(1), Some(6));
        assert_eq!(lane.alive_before(6), None);
        assert_eq!(lane.position_of(12), 6);
    }
}
