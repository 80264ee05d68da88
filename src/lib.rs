//! `incident`: incident management with git as the database.
//!
//! A library that never prints: the `incident` binary is a thin layer over
//! [`ops`] (what commands do), [`store`] (files and git), [`model`] (incidents,
//! events, lifecycle) and [`render`] (text for people and programs).

pub mod comms;
pub mod config;
pub mod error;
pub mod export;
pub mod hooks;
pub mod import;
pub mod maintenance;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod render;
pub mod statuspage;
pub mod store;
pub mod templates;
pub mod time;
pub mod tomlfile;

pub use error::{Error, Result};
