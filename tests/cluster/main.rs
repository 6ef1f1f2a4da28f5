//! Several Switchboard nodes on one PostgreSQL with Redis between them, driven from outside by
//! `switchboard-load` while a dependency is restarted under them. Each test starts its own
//! Redis (and PostgreSQL where it stops one); they run when `SWITCHBOARD_TEST_REDIS_URL` and
//! `SWITCHBOARD_TEST_POSTGRES_URL` are set.

mod faults;
mod private;
