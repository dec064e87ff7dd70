//! Choosing nodes for new rooms, by region first, then by load.
//!
//! A match plays in the region the match function chose for it
//! (`MatchResult::region`). Each node declares its region
//! (`cluster.region`, in its signed record). A match's room goes to:
//!
//! 1. a node of the match's region, or a node that declares no region (it
//!    serves every region as its own: a cluster without regions places as
//!    it always did);
//! 2. when none of those can take it (all full, draining, or none live):
//!    a node of the regions in the match region's fallback list
//!    ([`RegionPolicy`], `cluster.region_fallback`), tried in the listed
//!    order; `"*"` (last in a list) stands for every other region;
//! 3. else nowhere: the match waits for the next round. A region without a
//!    fallback list never falls back.
//!
//! Within the first of these tiers that has a node with room, the room goes
//! to the live, non-draining node with the lowest load relative to its
//! capacity, counting the rooms placed earlier in the same call (ties by
//! id); a node at capacity gets nothing. Rooms therefore spread in
//! proportion to capacity inside a region.

use std::collections::BTreeMap;

use super::nodes::NodeInfo;
use crate::matchmaking::request::is_valid_region;

/// Every other region, in a fallback list.
pub const ANY_REGION: &str = "*";

/// Where the matches of each region may go when their region has no room:
/// region → the regions to try next, in order (`"*"`, last, for any other).
/// A region not listed never falls back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionPolicy {
    fallback: BTreeMap<String, Vec<String>>,
}

impl RegionPolicy {
    /// The policy of `fallback` (`cluster.region_fallback`); names the
    /// first bad entry: a name that is not a region, a list naming its own
    /// region or a region twice, `"*"` anywhere but last.
    pub fn new(fallback: BTreeMap<String, Vec<String>>) -> Result<RegionPolicy, String> {
        for (region, list) in &fallback {
            let bad = |why: String| format!("cluster.region_fallback.{region}: {why}");
            if !is_valid_region(region) {
                return Err(format!(
                    "cluster.region_fallback: {region:?} is not a region name (lowercase letters, digits and '-')"
                ));
            }
            for (at, next) in list.iter().enumerate() {
                if next == ANY_REGION {
                    if at + 1 != list.len() {
                        return Err(bad("\"*\" (any other region) must come last".into()));
                    }
                } else if !is_valid_region(next) {
                    return Err(bad(format!("{next:?} is not a region name (lowercase letters, digits and '-')")));
                } else if next == region {
                    return Err(bad("a region does not fall back to itself".into()));
                } else if list[..at].contains(next) {
                    return Err(bad(format!("{next:?} is listed twice")));
                }
            }
        }
        Ok(RegionPolicy { fallback })
    }

    /// Parses the JSON form, `{"eu": ["us"], "us": ["eu", "*"]}` (the
    /// matchmaker Lambda's `ARCADE_MM_REGION_FALLBACK`).
    pub fn from_json(text: &str) -> Result<RegionPolicy, String> {
        let fallback: BTreeMap<String, Vec<String>> = serde_json::from_str(text)
            .map_err(|e| format!("region fallback: {e} (expected {{\"region\": [\"next\", ...], ...}})"))?;
        RegionPolicy::new(fallback)
    }

    /// How far down the order a node of `node_region` is for a match of
    /// `match_region`: 0 for the match's own region (or a node or match
    /// without a region), `1 + i` for the `i`-th fallback, `None` when the
    /// match may not go there.
    pub fn tier(&self, match_region: &str, node_region: &str) -> Option<usize> {
        if node_region.is_empty() || match_region.is_empty() || node_region == match_region {
            return Some(0);
        }
        let list = self.fallback.get(match_region)?;
        list.iter().position(|next| next == node_region || next == ANY_REGION).map(|at| at + 1)
    }

    /// Whether a room of a `match_region` match on a node of `node_region`
    /// is a fallback (the node is of another declared region).
    pub fn is_fallback(match_region: &str, node_region: &str) -> bool {
        !node_region.is_empty() && !match_region.is_empty() && node_region != match_region
    }
}

/// For each new room (by the region of its match), the index in `nodes` of
/// the node to run it, or `None` when no node its region may use has room.
pub fn place_rooms<S: AsRef<str>>(nodes: &[NodeInfo], regions: &[S], policy: &RegionPolicy) -> Vec<Option<usize>> {
    let mut added = vec![0u32; nodes.len()];
    regions
        .iter()
        .map(|region| {
            let chosen = nodes
                .iter()
                .enumerate()
                .filter(|(i, node)| node.accepts(added[*i]))
                .filter_map(|(i, node)| Some((i, node, policy.tier(region.as_ref(), &node.region)?)))
                .min_by(|(i, a, a_tier), (j, b, b_tier)| {
                    a_tier
                        .cmp(b_tier)
                        .then_with(|| a.load(added[*i]).total_cmp(&b.load(added[*j])))
                        .then_with(|| a.id.cmp(&b.id))
                })
                .map(|(i, _, _)| i);
            if let Some(i) = chosen {
                added[i] += 1;
            }
            chosen
        })
        .collect()
}

/// The nodes (indices in `nodes`) other than `first` that can take a room
/// of a `region` match now, in placement order (tier, then load): where a
/// room whose creation failed on `first` is tried next.
pub fn next_choices(nodes: &[NodeInfo], region: &str, policy: &RegionPolicy, first: usize) -> Vec<usize> {
    let mut others: Vec<(usize, usize)> = nodes
        .iter()
        .enumerate()
        .filter(|(i, node)| *i != first && node.accepts(0))
        .filter_map(|(i, node)| Some((i, policy.tier(region, &node.region)?)))
        .collect();
    others.sort_by(|(i, a_tier), (j, b_tier)| {
        a_tier.cmp(b_tier).then_with(|| nodes[*i].load(0).total_cmp(&nodes[*j].load(0)))
    });
    others.into_iter().map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, capacity: u32, rooms: u32) -> NodeInfo {
        NodeInfo::for_tests(id, capacity, rooms)
    }

    fn in_region(region: &str, id: &str, capacity: u32, rooms: u32) -> NodeInfo {
        NodeInfo { region: region.into(), ..node(id, capacity, rooms) }
    }

    fn policy(entries: &[(&str, &[&str])]) -> RegionPolicy {
        let fallback = entries.iter().map(|(r, list)| (r.to_string(), list.iter().map(|s| s.to_string()).collect()));
        RegionPolicy::new(fallback.collect()).unwrap()
    }

    /// `rooms` rooms of matches in `region`.
    fn of(region: &str, rooms: usize) -> Vec<&str> {
        vec![region; rooms]
    }

    fn counts(nodes: &[NodeInfo], regions: &[&str], policy: &RegionPolicy) -> Vec<usize> {
        let mut counts = vec![0; nodes.len()];
        for i in place_rooms(nodes, regions, policy).into_iter().flatten() {
            counts[i] += 1;
        }
        counts
    }

    #[test]
    fn rooms_spread_in_proportion_to_capacity() {
        let nodes = [node("a", 200, 0), node("b", 100, 0), node("c", 100, 0)];
        assert_eq!(counts(&nodes, &of("local", 100), &RegionPolicy::default()), [50, 25, 25]);
    }

    #[test]
    fn existing_load_counts() {
        let nodes = [node("a", 100, 60), node("b", 100, 0)];
        assert_eq!(counts(&nodes, &of("local", 40), &RegionPolicy::default()), [0, 40]);
        assert_eq!(counts(&nodes, &of("local", 100), &RegionPolicy::default()), [20, 80]);
    }

    #[test]
    fn full_and_draining_nodes_get_nothing() {
        let draining = NodeInfo { draining: true, ..node("a", 100, 0) };
        let nodes = [draining, node("b", 3, 1)];
        assert_eq!(place_rooms(&nodes, &of("local", 3), &RegionPolicy::default()), [Some(1), Some(1), None]);
        assert_eq!(place_rooms(&[], &of("local", 1), &RegionPolicy::default()), [None]);
    }

    #[test]
    fn a_match_goes_to_its_own_region_first_even_when_another_is_emptier() {
        let nodes = [in_region("eu", "a", 10, 8), in_region("us", "b", 1000, 0), in_region("eu", "c", 10, 0)];
        let fall_back = policy(&[("eu", &["us"]), ("us", &["eu"])]);
        // Both eu nodes before the empty, bigger us node; spread by load within eu.
        assert_eq!(counts(&nodes, &of("eu", 10), &fall_back), [1, 0, 9]);
        assert_eq!(counts(&nodes, &of("us", 10), &fall_back), [0, 10, 0]);
        let mixed = ["us", "eu", "us", "eu"];
        assert_eq!(place_rooms(&nodes, &mixed, &fall_back), [Some(1), Some(2), Some(1), Some(2)]);
    }

    #[test]
    fn a_full_region_falls_back_in_the_configured_order() {
        let nodes = [
            in_region("eu", "eu-1", 2, 0),
            in_region("ap", "ap-1", 100, 0),
            in_region("us", "us-1", 3, 0),
            in_region("sa", "sa-1", 100, 0),
        ];
        // eu is full after 2 rooms; then us (listed first, though fuller
        // relative to capacity than ap), then ap; sa is not listed.
        let order = policy(&[("eu", &["us", "ap"])]);
        let placed = place_rooms(&nodes, &of("eu", 8), &order);
        assert_eq!(placed, [Some(0), Some(0), Some(2), Some(2), Some(2), Some(1), Some(1), Some(1)]);
        // "*": after the listed ones, any other region by load.
        let then_any = policy(&[("eu", &["us", "*"])]);
        assert_eq!(counts(&nodes, &of("eu", 205), &then_any), [2, 100, 3, 100]);
        // Draining or dead (absent) nodes of the region count as full.
        let draining = [NodeInfo { draining: true, ..nodes[0].clone() }, nodes[2].clone()];
        assert_eq!(place_rooms(&draining, &of("eu", 1), &order), [Some(1)]);
        assert_eq!(place_rooms(&nodes[1..], &of("eu", 1), &order), [Some(1)]);
    }

    #[test]
    fn a_region_without_a_fallback_list_waits_when_full() {
        let nodes = [in_region("eu", "a", 1, 0), in_region("us", "b", 100, 0)];
        let only_us = policy(&[("us", &["eu"])]);
        assert_eq!(place_rooms(&nodes, &of("eu", 2), &only_us), [Some(0), None]);
        // A region no live node serves, with no list: nowhere.
        assert_eq!(place_rooms(&nodes, &of("ap", 1), &only_us), [None]);
        assert_eq!(place_rooms(&nodes, &of("ap", 1), &RegionPolicy::default()), [None]);
    }

    #[test]
    fn nodes_without_a_region_serve_every_region() {
        // No region configured anywhere: matches of any region go by load.
        let plain = [node("a", 100, 0), node("b", 100, 0)];
        assert_eq!(counts(&plain, &of("eu-west-1", 10), &RegionPolicy::default()), [5, 5]);
        // A region-less node is as good as the region's own; fallbacks come after both.
        let nodes = [in_region("eu", "a", 2, 0), node("b", 2, 0), in_region("us", "c", 100, 0)];
        let placed = place_rooms(&nodes, &of("eu", 5), &policy(&[("eu", &["us"])]));
        assert_eq!(placed, [Some(0), Some(1), Some(0), Some(1), Some(2)]);
        assert!(!RegionPolicy::is_fallback("eu", ""));
        assert!(RegionPolicy::is_fallback("eu", "us"));
    }

    #[test]
    fn the_next_choices_after_a_failed_node_keep_the_region_order() {
        let nodes = [
            in_region("us", "us-1", 100, 0),
            in_region("eu", "eu-1", 10, 0),
            in_region("eu", "eu-2", 10, 5),
            in_region("ap", "ap-1", 100, 0),
        ];
        let order = policy(&[("eu", &["us"])]);
        assert_eq!(next_choices(&nodes, "eu", &order, 1), [2, 0], "eu-2 before us; ap never");
        assert_eq!(next_choices(&nodes, "ap", &order, 3), Vec::<usize>::new());
    }

    #[test]
    fn bad_fallback_lists_are_named() {
        for (entries, expected) in [
            (&[("EU", &["us"][..])][..], "not a region name"),
            (&[("eu", &["eu"][..])][..], "itself"),
            (&[("eu", &["us", "us"][..])][..], "twice"),
            (&[("eu", &["*", "us"][..])][..], "last"),
            (&[("eu", &["us west"][..])][..], "not a region name"),
        ] {
            let fallback =
                entries.iter().map(|(r, l)| (r.to_string(), l.iter().map(|s| s.to_string()).collect())).collect();
            let problem = RegionPolicy::new(fallback).unwrap_err();
            assert!(problem.contains(expected) && problem.contains("region_fallback"), "{entries:?}: {problem}");
        }
        let parsed = RegionPolicy::from_json(r#"{"eu": ["us", "*"], "us": []}"#).unwrap();
        assert_eq!(parsed, policy(&[("eu", &["us", "*"]), ("us", &[])]));
        assert!(RegionPolicy::from_json(r#"{"eu": "us"}"#).is_err());
        assert!(RegionPolicy::from_json(r#"{"eu": ["eu"]}"#).is_err());
    }
}
