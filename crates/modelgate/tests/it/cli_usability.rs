//! cli_usability
