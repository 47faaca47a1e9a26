pub mod chat;
pub mod config;
pub mod endpoints;
pub mod keys;
pub mod models;
pub mod serve;
