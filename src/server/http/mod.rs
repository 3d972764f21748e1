//! HTTP: the router, the document shell, and what serves and guards each request.
//!
//! - `api`: the JSON API, its OpenAPI document, the event stream and server functions;
//! - `guards`: what refuses a request before it runs (origin, CSRF, CORS, per-address limits,
//!   method rules) and the security headers on every response;
//! - `transport`: connections, TLS, compression and the open-files limit;
//! - here: the router, the pages' shell, assets, caching validators, problems, locale, metrics.

pub mod api;
pub mod around;
pub mod assets;
pub mod conditional;
pub mod guards;
pub mod locale;
pub mod metrics;
pub mod panics;
pub mod problem;
pub mod render_watchdog;
pub mod router;
pub mod service_errors;
pub mod shell;
pub mod transport;
pub mod validators;
