//! Several real `switchboard` processes on one PostgreSQL database and one Redis, the way
//! docs/deploy.md runs them: every rule must hold whichever node a request lands on.
//!
//! Runs when `SWITCHBOARD_TEST_POSTGRES_URL` and `SWITCHBOARD_TEST_REDIS_URL` are set (CI sets
//! both); otherwise each test says loudly that it was skipped.

mod nodes;
mod support;
