//! Bytes on the wire: accepting connections (HTTP/1.1, HTTP/2, TLS), serving event streams
//! without hyper's buffers, compression, and the open-files limit.

pub mod compression;
pub mod connections;
pub mod open_files;
pub mod stream_connections;
pub mod tls;
