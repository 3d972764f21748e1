//! Everything that touches a socket, a file or a database. Server only (feature `ssr`).

pub mod chart;
pub mod config;
pub mod export;
pub mod http;
pub mod join;
pub mod limits;
pub mod live;
pub mod rooms;
pub mod serve;
pub mod session;
pub mod state;
pub mod store;
