//! Choosing between answers from several authoritative sources (seed 003 §11.1–§11.2).
//!
//! In a mesh several nodes are authoritative for a zone and may disagree. [`decide`] is a
//! pure, deterministic function of the candidates and the time, so every resolver given
//! the same answers converges on the same result, whatever order they arrived in:
//!
//! 1. Invalid signatures are dropped and reported, whatever else they carry (§11.2
//!    case C); the caller logs them and lowers the source's [`Reputation`].
//! 2. Candidates are grouped by owner. Two or more owners with valid answers is an
//!    ownership dispute (§11.2 case B): the best answer of every owner is kept, the
//!    decision is contested and its TTL capped at [`CONTESTED_TTL_CAP`].
//! 3. Within an owner (§11.2 case A, an update race) the rules of §11.1 filter the
//!    candidates in order, each rule keeping only the candidates best by it:
//!    1. the highest SOA serial, in RFC 1982 serial arithmetic;
//!    2. the newest signature timestamp, counting only timestamps inside their
//!       signature's validity window and not in the future, both with
//!       [`CLOCK_SKEW`] tolerance; timestamps within [`CLOCK_SKEW`] of the newest tie,
//!       since clocks that far apart cannot order them;
//!    3. the lowest latency measured at query time;
//!    4. the highest reputation;
//!    5. the lexicographically lowest node id, which leaves exactly one.
//!
//! Filtering rule by rule (rather than sorting with a comparator) keeps the result
//! independent of input order even where a rule is not transitive (serial arithmetic,
//! skew-tolerant timestamps).

use std::collections::{BTreeMap, HashMap};

use zdns_auth::diff::serial_gt;

/// Clock skew tolerated when judging signature timestamps (seed 003 §11.1 rule 2).
pub const CLOCK_SKEW: u64 = 60;

/// The TTL cap of a contested answer (seed 003 §11.2 case B).
pub const CONTESTED_TTL_CAP: u32 = 60;

/// A mesh node's identifier, compared bytewise for the last rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub Vec<u8>);

/// The identity that owns a name (the key in its ID record), compared bytewise.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OwnerId(pub Vec<u8>);

/// The outcome of checking a candidate's signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signature {
    /// The signature verified. Times are seconds since the Unix epoch.
    Valid {
        /// When it was made (the pq_signature timestamp).
        signed_at: u64,
        /// Start of its validity window.
        inception: u64,
        /// End of its validity window.
        expiration: u64,
    },
    /// No signature (plain DNS data): valid, but without a timestamp for rule 2.
    Unsigned,
    /// The signature did not verify.
    Invalid,
}

/// One source's answer for the name in question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate<T> {
    /// The node that answered.
    pub source: NodeId,
    /// Who the answer says owns the name.
    pub owner: OwnerId,
    /// The SOA serial of the zone the answer came from.
    pub serial: u32,
    /// The signature check.
    pub signature: Signature,
    /// Round-trip time of the query that fetched it, in milliseconds.
    pub latency_ms: u32,
    /// The source's reputation (from the control plane; higher is better).
    pub reputation: i32,
    /// The answer's TTL in seconds.
    pub ttl: u32,
    /// The answer itself.
    pub data: T,
}

impl<T> Candidate<T> {
    /// The signature timestamp if rule 2 may use it at `now`.
    fn usable_timestamp(&self, now: u64) -> Option<u64> {
        let Signature::Valid {
            signed_at,
            inception,
            expiration,
        } = self.signature
        else {
            return None;
        };
        let in_window = signed_at.saturating_add(CLOCK_SKEW) >= inception
            && signed_at <= expiration.saturating_add(CLOCK_SKEW);
        let not_future = signed_at <= now.saturating_add(CLOCK_SKEW);
        (in_window && not_future).then_some(signed_at)
    }
}

/// What [`decide`] chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<T> {
    /// The answers to serve, best first: one, or one per owner when contested.
    pub answers: Vec<Candidate<T>>,
    /// Two or more owners claim the name (seed 003 §11.2 case B).
    pub contested: bool,
    /// The TTL to cache and serve with: the smallest of the kept answers', capped at
    /// [`CONTESTED_TTL_CAP`] when contested.
    pub ttl: u32,
    /// Sources whose signature did not verify: log them and lower their reputation.
    pub rejected: Vec<NodeId>,
    /// Sources whose valid answer lost an update race (case A), replaced at next sync.
    pub superseded: Vec<NodeId>,
}

/// Applies seed 003 §11.1–§11.2 to the candidates at time `now` (seconds since the
/// epoch). `None` when no valid candidate is left (the caller answers SERVFAIL).
pub fn decide<T>(candidates: Vec<Candidate<T>>, now: u64) -> Option<Decision<T>> {
    let mut rejected = Vec::new();
    let mut by_owner: BTreeMap<OwnerId, Vec<Candidate<T>>> = BTreeMap::new();
    for candidate in candidates {
        if candidate.signature == Signature::Invalid {
            tracing::warn!(source = ?candidate.source, "answer with an invalid signature dropped");
            rejected.push(candidate.source);
        } else {
            by_owner
                .entry(candidate.owner.clone())
                .or_default()
                .push(candidate);
        }
    }
    let mut answers = Vec::new();
    let mut superseded = Vec::new();
    for group in by_owner.into_values() {
        let (winner, losers) = best(group, now)?;
        superseded.extend(losers.into_iter().map(|c| c.source));
        answers.push(winner);
    }
    if answers.is_empty() {
        return None;
    }
    // Order the owners' answers by the same rules, so "best first" is deterministic.
    let mut ordered = Vec::with_capacity(answers.len());
    while !answers.is_empty() {
        let at = best_index(&answers, now);
        ordered.push(answers.swap_remove(at));
    }
    let contested = ordered.len() > 1;
    let smallest = ordered.iter().map(|c| c.ttl).min().unwrap_or(0);
    let ttl = if contested {
        smallest.min(CONTESTED_TTL_CAP)
    } else {
        smallest
    };
    if contested {
        tracing::warn!(
            owners = ordered.len(),
            "ownership dispute: answer contested"
        );
    }
    Some(Decision {
        answers: ordered,
        contested,
        ttl,
        rejected,
        superseded,
    })
}

/// The winner of a non-empty group under rules 1–5, and the rest.
fn best<T>(mut group: Vec<Candidate<T>>, now: u64) -> Option<(Candidate<T>, Vec<Candidate<T>>)> {
    if group.is_empty() {
        return None;
    }
    let at = best_index(&group, now);
    let winner = group.swap_remove(at);
    Some((winner, group))
}

/// The index of the candidate rules 1–5 pick; `candidates` must not be empty.
fn best_index<T>(candidates: &[Candidate<T>], now: u64) -> usize {
    let mut alive: Vec<usize> = (0..candidates.len()).collect();
    let get = |i: &usize| candidates.get(*i);

    // Rule 1: no other candidate has a greater serial. If serial arithmetic leaves no
    // maximum (values spread over the whole space), the rule cannot decide: keep all.
    let serials: Vec<u32> = alive.iter().filter_map(get).map(|c| c.serial).collect();
    narrow(&mut alive, |i| {
        get(i).is_some_and(|c| !serials.iter().any(|&s| serial_gt(s, c.serial)))
    });

    // Rule 2: newest usable timestamp, with skew tolerance.
    let newest = alive
        .iter()
        .filter_map(get)
        .filter_map(|c| c.usable_timestamp(now))
        .max();
    if let Some(newest) = newest {
        narrow(&mut alive, |i| {
            get(i)
                .and_then(|c| c.usable_timestamp(now))
                .is_some_and(|t| t.saturating_add(CLOCK_SKEW) >= newest)
        });
    }

    // Rule 3: lowest latency.
    if let Some(fastest) = alive.iter().filter_map(get).map(|c| c.latency_ms).min() {
        narrow(&mut alive, |i| {
            get(i).is_some_and(|c| c.latency_ms == fastest)
        });
    }

    // Rule 4: highest reputation.
    if let Some(top) = alive.iter().filter_map(get).map(|c| c.reputation).max() {
        narrow(&mut alive, |i| get(i).is_some_and(|c| c.reputation == top));
    }

    // Rule 5: lowest node id (ties on equal ids broken by position, which only happens
    // when one node sent two answers).
    alive
        .iter()
        .copied()
        .min_by(|a, b| {
            let id = |i: usize| candidates.get(i).map(|c| &c.source);
            id(*a).cmp(&id(*b)).then(a.cmp(b))
        })
        .unwrap_or(0)
}

/// Keeps the indices `keep` accepts, unless that would keep none.
fn narrow(alive: &mut Vec<usize>, keep: impl Fn(&usize) -> bool) {
    let kept: Vec<usize> = alive.iter().copied().filter(|i| keep(i)).collect();
    if !kept.is_empty() {
        *alive = kept;
    }
}

/// Reputation points lost for an answer with an invalid signature.
pub const INVALID_SIGNATURE_PENALTY: i32 = 10;

/// The resolver's local view of sources' reputation: a base value from the control
/// plane, lowered for every invalid signature seen.
#[derive(Debug, Clone, Default)]
pub struct Reputation {
    scores: HashMap<NodeId, i32>,
}

impl Reputation {
    /// The current score of `node` (0 when unknown).
    pub fn score(&self, node: &NodeId) -> i32 {
        self.scores.get(node).copied().unwrap_or(0)
    }

    /// Sets `node`'s score (from the control plane).
    pub fn set(&mut self, node: NodeId, score: i32) {
        self.scores.insert(node, score);
    }

    /// Lowers the score of every source a decision rejected.
    pub fn penalize_rejected<T>(&mut self, decision: &Decision<T>) {
        for node in &decision.rejected {
            let score = self.scores.entry(node.clone()).or_insert(0);
            *score = score.saturating_sub(INVALID_SIGNATURE_PENALTY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn candidate(source: &str, data: &'static str) -> Candidate<&'static str> {
        Candidate {
            source: NodeId(source.as_bytes().to_vec()),
            owner: OwnerId(b"owner-1".to_vec()),
            serial: 10,
            signature: Signature::Unsigned,
            latency_ms: 20,
            reputation: 0,
            ttl: 300,
            data,
        }
    }

    fn signed(at: u64) -> Signature {
        Signature::Valid {
            signed_at: at,
            inception: NOW - 86_400,
            expiration: NOW + 86_400,
        }
    }

    /// The decision for the candidates in every rotation of their order, checked to be
    /// the same each time.
    fn decide_all_orders(cands: Vec<Candidate<&'static str>>) -> Decision<&'static str> {
        let first = decide(cands.clone(), NOW).unwrap();
        for shift in 1..cands.len() {
            let mut rotated = cands.clone();
            rotated.rotate_left(shift);
            let again = decide(rotated, NOW).unwrap();
            assert_eq!(again.answers, first.answers, "order-independent");
            assert_eq!(again.contested, first.contested);
        }
        first
    }

    #[test]
    fn rule_1_higher_serial_wins_even_against_every_later_rule() {
        let mut old = candidate("a", "old");
        old.signature = signed(NOW);
        old.latency_ms = 1;
        old.reputation = 100;
        let mut new = candidate("z", "new");
        new.serial = 11;
        new.signature = signed(NOW - 3600);
        new.latency_ms = 500;
        let d = decide_all_orders(vec![old, new]);
        assert_eq!(d.answers.len(), 1);
        assert_eq!(d.answers[0].data, "new");
        assert!(!d.contested);
        assert_eq!(d.superseded, vec![NodeId(b"a".to_vec())]);
    }

    #[test]
    fn rule_1_uses_serial_arithmetic() {
        let mut before_wrap = candidate("a", "before");
        before_wrap.serial = u32::MAX - 5;
        let mut after_wrap = candidate("b", "after");
        after_wrap.serial = 3;
        after_wrap.latency_ms = 900;
        let d = decide_all_orders(vec![before_wrap, after_wrap]);
        assert_eq!(d.answers[0].data, "after", "3 follows 2^32 - 6");
    }

    #[test]
    fn rule_2_newer_signature_wins_on_equal_serial() {
        let mut older = candidate("a", "older");
        older.signature = signed(NOW - 600);
        older.latency_ms = 1;
        let mut newer = candidate("b", "newer");
        newer.signature = signed(NOW - 100);
        newer.latency_ms = 80;
        let d = decide_all_orders(vec![older, newer]);
        assert_eq!(d.answers[0].data, "newer");
    }

    #[test]
    fn rule_2_ties_within_skew_and_ignores_unusable_timestamps() {
        // 30 s apart: within the skew, so latency decides.
        let mut a = candidate("a", "a");
        a.signature = signed(NOW - 30);
        a.latency_ms = 5;
        let mut b = candidate("b", "b");
        b.signature = signed(NOW);
        b.latency_ms = 50;
        assert_eq!(
            decide_all_orders(vec![a.clone(), b.clone()]).answers[0].data,
            "a"
        );

        // A timestamp far in the future is not trusted: the other one wins rule 2.
        let mut future = candidate("c", "future");
        future.signature = signed(NOW + 3600);
        future.latency_ms = 1;
        let mut honest = candidate("d", "honest");
        honest.signature = signed(NOW - 1000);
        honest.latency_ms = 90;
        assert_eq!(
            decide_all_orders(vec![future, honest.clone()]).answers[0].data,
            "honest"
        );

        // A timestamp outside its validity window is not used either.
        let mut outside = candidate("e", "outside");
        outside.signature = Signature::Valid {
            signed_at: NOW - 10,
            inception: NOW - 5,
            expiration: NOW - 1000,
        };
        outside.latency_ms = 1;
        assert_eq!(
            decide_all_orders(vec![outside, honest]).answers[0].data,
            "honest"
        );
    }

    #[test]
    fn rule_3_lower_latency_wins() {
        let mut slow = candidate("a", "slow");
        slow.latency_ms = 120;
        slow.reputation = 50;
        let fast = candidate("b", "fast");
        let d = decide_all_orders(vec![slow, fast]);
        assert_eq!(d.answers[0].data, "fast");
    }

    #[test]
    fn rule_4_higher_reputation_wins() {
        let low = candidate("a", "low");
        let mut high = candidate("b", "high");
        high.reputation = 7;
        assert_eq!(decide_all_orders(vec![low, high]).answers[0].data, "high");
    }

    #[test]
    fn rule_5_lowest_node_id_wins() {
        let d = decide_all_orders(vec![
            candidate("node-c", "c"),
            candidate("node-a", "a"),
            candidate("node-b", "b"),
        ]);
        assert_eq!(d.answers[0].data, "a");
        assert_eq!(d.superseded.len(), 2);
    }

    #[test]
    fn different_owners_are_both_kept_and_contested() {
        let mine = candidate("a", "mine");
        let mut theirs = candidate("b", "theirs");
        theirs.owner = OwnerId(b"owner-2".to_vec());
        theirs.ttl = 3600;
        let mut older_mine = candidate("c", "older-mine");
        older_mine.serial = 9;
        let d = decide_all_orders(vec![mine, theirs, older_mine]);
        assert!(d.contested);
        let kept: Vec<_> = d.answers.iter().map(|c| c.data).collect();
        assert_eq!(kept, vec!["mine", "theirs"], "both owners kept, best first");
        assert_eq!(d.ttl, CONTESTED_TTL_CAP);
        assert_eq!(d.superseded, vec![NodeId(b"c".to_vec())]);
    }

    #[test]
    fn contested_ttl_keeps_a_shorter_original() {
        let mut mine = candidate("a", "mine");
        mine.ttl = 20;
        let mut theirs = candidate("b", "theirs");
        theirs.owner = OwnerId(b"owner-2".to_vec());
        let d = decide(vec![mine, theirs], NOW).unwrap();
        assert_eq!(d.ttl, 20);
    }

    #[test]
    fn invalid_signature_dropped_whatever_it_claims() {
        let mut forged = candidate("a", "forged");
        forged.signature = Signature::Invalid;
        forged.serial = 1000;
        forged.owner = OwnerId(b"attacker".to_vec());
        let good = candidate("b", "good");
        let d = decide_all_orders(vec![forged, good]);
        assert_eq!(d.answers.len(), 1);
        assert_eq!(d.answers[0].data, "good");
        assert!(!d.contested, "an invalid answer never makes a dispute");
        assert_eq!(d.rejected, vec![NodeId(b"a".to_vec())]);

        let mut book = Reputation::default();
        book.set(NodeId(b"a".to_vec()), 5);
        book.penalize_rejected(&d);
        assert_eq!(
            book.score(&NodeId(b"a".to_vec())),
            5 - INVALID_SIGNATURE_PENALTY
        );
        assert_eq!(book.score(&NodeId(b"b".to_vec())), 0);
    }

    #[test]
    fn nothing_valid_is_no_decision() {
        let mut forged = candidate("a", "forged");
        forged.signature = Signature::Invalid;
        assert!(decide(vec![forged], NOW).is_none());
        assert!(decide(Vec::<Candidate<&str>>::new(), NOW).is_none());
    }
}
