//! Incidents, their events, and the lifecycle that replays them.

pub mod event;
pub mod id;
pub mod incident;
pub mod problem;

// Action items (issue 3).
pub mod action;
