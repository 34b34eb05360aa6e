//! Notifications: routing events to receivers (Slack, email, PagerDuty).
//! Must not decide verdicts; it delivers what it is given.

pub mod delivery;
pub mod email;
pub mod outbox;
pub mod pagerduty;
pub mod route;
pub mod slack;
