//! Monitoring: watching domains in a log.
//!
//! - [`matching`]: the names of an entry and whether a watched domain covers them.
//! - [`follow`]: following any static-ct-api log from its tiles with verified
//!   consistency (what `zdns ct watch` runs).
//! - [`service`]: the node's monitor of its own log: watches added and listed through
//!   `/api/v1/ct/monitor`, kept durably, matches delivered to webhooks with retries.

pub mod follow;
pub mod matching;
pub mod service;

pub use follow::{FollowError, Follower, Match, Round};
pub use service::{Monitor, MonitorConfig};
