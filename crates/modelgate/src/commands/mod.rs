pub mod chat;
pub mod config;
pub mod endpoint_settings;
pub mod endpoints;
pub mod keys;
pub mod models;
pub mod serve;
