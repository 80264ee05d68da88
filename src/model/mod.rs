//! Incidents, their events, and the lifecycle that replays them.

pub mod event;
pub mod id;
pub mod incident;

// Action items (issue 3).
pub mod action;
