//! One module per subcommand.

pub mod ct;
pub mod decode;
pub mod query;
pub mod reload;
pub mod resolve;
pub mod serve;
pub mod zone;
