//! The HTTP API: the JSON API for scripts (rooms, words, users, story, operations), its OpenAPI
//! document, the live event stream, server functions, and what they share (extractors,
//! idempotent retries).

pub mod events;
pub mod extract;
pub mod idempotency;
pub mod openapi;
pub mod ops;
pub mod rooms;
pub mod server_fn_forms;
pub mod server_fns;
pub mod story;
pub mod users;
pub mod words;
