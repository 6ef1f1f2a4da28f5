//! Several real `switchboard` processes on one PostgreSQL database and one Redis, the way
//! docs/deploy.md runs them: every rule must hold whichever node a request lands on — also
//! while Redis or PostgreSQL is restarted under load (`faults`, driven by `switchboard-load`,
//! each with a private Redis and PostgreSQL of its own from `private`).
//!
//! Runs when `SWITCHBOARD_TEST_POSTGRES_URL` and `SWITCHBOARD_TEST_REDIS_URL` are set (CI sets
//! both); otherwise each test says loudly that it was skipped.

mod data_rights;
mod event_feed;
mod faults;
mod nodes;
#[path = "../common/pg_url.rs"]
mod pg_url;
mod private;
mod sites;
mod support;
// The cluster's webhook test uses a part of the receiver.
#[allow(dead_code)]
#[path = "../api/webhook_receiver.rs"]
mod webhook_receiver;
mod webhooks;
// Each test binary uses a part of the wire client.
#[allow(dead_code)]
#[path = "../common/wire.rs"]
mod wire;
