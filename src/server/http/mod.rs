//! HTTP: the router and the handlers of the JSON API, the event stream, server functions, pages
//! and static files.

pub mod abuse;
pub mod assets;
pub mod compression;
pub mod conditional;
pub mod connections;
pub mod cors;
pub mod csrf;
pub mod events;
pub mod extract;
pub mod idempotency;
pub mod json_api;
pub mod locale;
pub mod methods;
pub mod metrics;
pub mod open_files;
pub mod openapi;
pub mod origin;
pub mod panics;
pub mod problem;
pub mod render_watchdog;
pub mod router;
pub mod security;
pub mod server_fns;
pub mod service_errors;
pub mod stream_connections;
pub mod validators;
