//! The HTTP API against real servers on port 0, each with its own SQLite file or (when
//! `SWITCHBOARD_TEST_POSTGRES_URL` is set) its own PostgreSQL database.

mod helpers;

mod abuse;
mod admin;
mod authorization;
mod bad_input;
mod bans;
mod body_parsing;
mod body_size;
mod canned_replies;
mod chat_flow;
mod cli;
mod console_views;
mod customer_views;
mod data_rights;
mod delivery;
mod email;
mod embedding;
mod event_feed;
mod handover;
mod hashing;
mod identity;
mod limits;
mod live;
mod logs;
mod offline_messages;
mod openapi;
mod origins;
mod pages;
#[path = "../common/pg_url.rs"]
mod pg_url;
mod prechat;
mod presence;
mod queue;
mod quiet_sends;
mod ratings;
mod raw_http;
mod readiness;
mod restart;
mod security;
mod sites;
mod smtp_sink;
mod stored_text;
mod transcripts;
mod visitors;
mod webhook_receiver;
mod webhooks;
#[path = "../common/wire.rs"]
mod wire;
