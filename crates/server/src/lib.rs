//! Fluxion's server: every adapter around the core — storage, the HTTP API,
//! the command line, logs and metrics.

pub mod api;
pub mod app;
pub mod assistant;
pub mod auth;
pub mod bench_data;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod doctor;
pub mod events;
pub mod guard;
pub mod lifecycle;
pub mod llm;
pub mod mcp;
pub mod notify;
pub mod observability;
pub mod private_fs;
pub mod receipt;
pub mod secret;
pub mod seed;
pub mod setup;
pub mod speech;
pub mod store;
pub mod telephony;
pub mod voice;
pub mod web;
