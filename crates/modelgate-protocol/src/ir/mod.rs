//! The canonical model: what every wire format is converted to and from.

pub mod error;
pub mod usage;

pub use error::{ErrorKind, GatewayError};
pub use usage::Usage;
