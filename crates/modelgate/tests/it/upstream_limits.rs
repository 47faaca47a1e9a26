//! upstream_limits
