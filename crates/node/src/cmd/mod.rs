//! One module per subcommand.

pub mod ct;
pub mod decode;
pub mod key;
pub mod query;
pub mod reload;
pub mod resolve;
pub mod serve;
pub mod sign;
pub mod verify;
pub mod zone;
