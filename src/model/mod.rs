//! Incidents, their events, and the lifecycle that replays them.

pub mod event;
pub mod id;
pub mod incident;
