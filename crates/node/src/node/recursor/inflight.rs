//! Coalescing of concurrent resolutions of one question: while a name and type are being
//! resolved, further misses for them wait for that resolution instead of starting their
//! own, so a burst of clients asking for one uncached name costs one resolution
//! upstream, not one per client (no amplification across queries).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use lib_dns::{Name, Rtype};
use tokio::sync::oneshot;
use zdns_resolver::Answer;

type Key = (Name, Rtype);

/// The questions being resolved and who waits for them.
#[derive(Debug, Default)]
pub struct InFlight {
    waiting: Mutex<HashMap<Key, Vec<oneshot::Sender<Answer>>>>,
}

/// What a caller of [`InFlight::join`] does.
pub enum Join<'a> {
    /// Resolve, then hand the answer to [`Leader::finish`].
    Leader(Leader<'a>),
    /// Wait for the leader's answer (an error means it gave up).
    Follower(oneshot::Receiver<Answer>),
}

impl InFlight {
    /// Joins the resolution of (`qname`, `qtype`), leading it if none is under way.
    pub fn join(&self, qname: &Name, qtype: Rtype) -> Join<'_> {
        let key = (qname.to_lowercase(), qtype);
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(followers) = waiting.get_mut(&key) {
            let (tx, rx) = oneshot::channel();
            followers.push(tx);
            return Join::Follower(rx);
        }
        waiting.insert(key.clone(), Vec::new());
        Join::Leader(Leader {
            flight: self,
            key: Some(key),
        })
    }

    /// How many questions are being resolved.
    pub fn len(&self) -> usize {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    fn take(&self, key: &Key) -> Vec<oneshot::Sender<Answer>> {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key)
            .unwrap_or_default()
    }
}

/// The caller that resolves; dropping it without [`Leader::finish`] releases the
/// followers with an error.
pub struct Leader<'a> {
    flight: &'a InFlight,
    key: Option<Key>,
}

impl Leader<'_> {
    /// Gives `answer` to every follower and ends the flight.
    pub fn finish(mut self, answer: &Answer) -> usize {
        let Some(key) = self.key.take() else {
            return 0;
        };
        let followers = self.flight.take(&key);
        let count = followers.len();
        for follower in followers {
            // A follower that stopped waiting is no concern.
            let _ = follower.send(answer.clone());
        }
        count
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.flight.take(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_leader_many_followers() {
        let flight = InFlight::default();
        let name = Name::parse("x.example.").unwrap();
        let Join::Leader(leader) = flight.join(&name, Rtype::A) else {
            panic!("the first caller leads");
        };
        let upper = Name::parse("X.Example.").unwrap();
        let followers: Vec<_> = (0..5)
            .map(|_| match flight.join(&upper, Rtype::A) {
                Join::Follower(rx) => rx,
                Join::Leader(_) => panic!("a second leader"),
            })
            .collect();
        assert!(
            matches!(flight.join(&name, Rtype::AAAA), Join::Leader(_)),
            "another type"
        );
        let answer = Answer::servfail(0, "x");
        assert_eq!(leader.finish(&answer), 5);
        for rx in followers {
            assert_eq!(rx.await.unwrap(), answer);
        }
        assert_eq!(flight.len(), 0);
        assert!(
            matches!(flight.join(&name, Rtype::A), Join::Leader(_)),
            "flight over"
        );
    }

    #[tokio::test]
    async fn a_dropped_leader_releases_its_followers() {
        let flight = InFlight::default();
        let name = Name::parse("x.example.").unwrap();
        let leader = flight.join(&name, Rtype::A);
        let Join::Follower(rx) = flight.join(&name, Rtype::A) else {
            panic!("expected to follow");
        };
        drop(leader);
        assert!(rx.await.is_err());
        assert_eq!(flight.len(), 0);
    }
}
