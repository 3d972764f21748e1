//! Live events: how a committed change reaches every open event stream.
//!
//! `sse` encodes frames, `hub` fans them out inside this process, `bus` brings the changes other
//! processes commit (PostgreSQL), `presence` shares who has each room open with them, `stream`
//! is one subscriber's event stream (snapshot or replay, then live frames, presence and
//! heartbeats), and `seat` writes the streams waiting for their room's next frame straight to
//! their sockets.

pub mod bus;
pub mod hub;
pub mod presence;
pub mod seat;
pub mod sse;
pub mod stream;

pub use hub::{Frame, Hub, Message, SharedState, Subscription};
