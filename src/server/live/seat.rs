//! Streams written by their room while they wait: a room's fan-out threads write each new frame
//! straight to the sockets of the streams that lent them theirs.
//!
//! An open stream mostly waits for its room's next change. Woken for each one, 10,000 streams
//! cost 10,000 task wake-ups, polls and channel receives per word, each a few cache misses,
//! before the one `send` that matters. So a stream served on a connection of its own
//! (`http::transport::stream_connections`), once it is level with its room and has nothing
//! left to write, lends the room its socket (its [`Seat`]) and sleeps. The room's fan-out
//! threads encode each frame as a chunk once and write it to every lent socket with one
//! non-blocking `send`; no task is woken. The seat is handed back to its stream, which wakes and
//! carries on from the last version written, when a frame does not fit whole (a client that
//! reads slowly: the stream writes the rest itself, under the write limit), when a change is
//! not the next one the seat needs (a gap, for the stream to fill in), and when the room ends.
//!
//! A fan-out thread that falls behind (more sockets than the cores write between two changes)
//! joins the changes that queued up meanwhile into one run ([`Outgoing::Run`]) and gives each
//! socket, in one `send`, those it has not had: the cost of a pass is the number of sockets,
//! not sockets times changes, so it catches up instead of falling further behind.
//!
//! Whoever holds the seat, and only they, writes to the socket: the stream while it is
//! `ACTIVE`, a fan-out thread while it is `WRITING` (taken from `PARKED` with one
//! compare-and-swap). The connection makes its seat `GONE` before its socket closes, waiting out
//! a write in progress, so no thread writes to a socket after it closed.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

/// Threads that write lent sockets; a room's seats are spread over them.
pub const FANOUT_THREADS: usize = 2;

/// Not lent, and not to be: the connection does not write the stream's frames itself.
const OFF: u8 = 0;
/// The stream holds it: only the stream writes.
const ACTIVE: u8 = 1;
/// Lent to the room: a fan-out thread may take it to write.
const PARKED: u8 = 2;
/// A fan-out thread is writing to it.
const WRITING: u8 = 3;
/// The connection is closing: nobody writes to it any more.
const GONE: u8 = 4;

/// Where a lent seat's frames go: its connection's socket, written without waiting.
pub trait SeatSocket: Send + Sync {
    /// Writes what fits of `bytes` now, without waiting; how much was written.
    fn try_send(&self, bytes: &[u8]) -> io::Result<usize>;
}

/// One stream's socket, as its room's fan-out sees it.
pub struct Seat {
    state: AtomicU8,
    /// The last version written to the socket when the stream lent it, then by the fan-out.
    delivered: AtomicI64,
    /// The room ended (deleted, or the server is stopping).
    ended: AtomicBool,
    /// The last presence frame written to the socket: the same count is not written again.
    presence: Mutex<Bytes>,
    socket: Box<dyn SeatSocket>,
    /// The rest of a chunk the fan-out could only write in part: the connection writes it
    /// before anything else.
    pending: Mutex<Option<Bytes>>,
    handed_back: Notify,
}

impl fmt::Debug for Seat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seat")
            .field("state", &self.state.load(Ordering::Relaxed))
            .field("delivered", &self.delivered.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Seat {
    /// A seat for `socket`, not lent until [`Seat::enable`].
    pub fn new(socket: Box<dyn SeatSocket>) -> Arc<Seat> {
        Arc::new(Seat {
            state: AtomicU8::new(OFF),
            delivered: AtomicI64::new(-1),
            ended: AtomicBool::new(false),
            presence: Mutex::new(Bytes::new()),
            socket,
            pending: Mutex::new(None),
            handed_back: Notify::new(),
        })
    }

    /// The stream may lend it: its connection writes the stream's frames itself, chunked.
    pub fn enable(&self) {
        let _ = self
            .state
            .compare_exchange(OFF, ACTIVE, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Nobody writes to the socket from now on; waits out a write in progress. Call it before
    /// the socket closes.
    pub fn leave(&self) {
        loop {
            match self.state.load(Ordering::SeqCst) {
                GONE => return,
                // One `send` in progress: a few microseconds.
                WRITING => std::thread::yield_now(),
                state => {
                    let swapped = self.state.compare_exchange(
                        state,
                        GONE,
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                    );
                    if swapped.is_ok() {
                        return;
                    }
                }
            }
        }
    }

    /// The rest of a chunk the fan-out wrote in part, to be written before anything else.
    pub fn take_pending(&self) -> Option<Bytes> {
        lock(&self.pending).take()
    }

    pub fn has_pending(&self) -> bool {
        lock(&self.pending).is_some()
    }

    /// Whether the stream holds it and may lend it.
    pub fn is_active(&self) -> bool {
        self.state.load(Ordering::SeqCst) == ACTIVE
    }

    /// Lends the seat to the room; `last` is the last version written to the socket, and
    /// `presence` the last presence frame. False when it is not the stream's to lend (not
    /// enabled, or gone).
    pub fn park(&self, last: i64, presence: &Bytes) -> bool {
        self.delivered.store(last, Ordering::SeqCst);
        *lock(&self.presence) = presence.clone();
        self.state
            .compare_exchange(ACTIVE, PARKED, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Takes the seat back at once, unless a fan-out thread has it (or handed it back
    /// already): then [`Seat::handed_back`] tells when.
    pub fn unpark(&self) -> bool {
        self.state
            .compare_exchange(PARKED, ACTIVE, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Waits until the room hands the seat back (or it is gone).
    pub async fn handed_back(&self) {
        loop {
            if matches!(self.state.load(Ordering::SeqCst), ACTIVE | GONE | OFF) {
                return;
            }
            // A hand-back between the check and here left its permit: no wake-up is lost.
            self.handed_back.notified().await;
        }
    }

    /// The last version written to the socket.
    pub fn delivered(&self) -> i64 {
        self.delivered.load(Ordering::SeqCst)
    }

    /// The last presence frame written to the socket.
    pub fn presence(&self) -> Bytes {
        lock(&self.presence).clone()
    }

    /// Whether the room ended while the seat was lent.
    pub fn ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Writes `out` if the seat is lent. False once it is gone, for the room to let go of it.
    fn offer(&self, out: &Outgoing) -> bool {
        if let Err(state) =
            self.state
                .compare_exchange(PARKED, WRITING, Ordering::SeqCst, Ordering::SeqCst)
        {
            return state != GONE;
        }
        // What to write: `chunk` from `from` on, bringing the seat to `version` (a change's).
        let (version, chunk, from, presence) = match out {
            Outgoing::End => {
                self.ended.store(true, Ordering::SeqCst);
                self.hand_back();
                return true;
            }
            Outgoing::Frame { version, chunk } => (*version, chunk, 0, None),
            Outgoing::Presence { frame, chunk } => {
                if *lock(&self.presence) == *frame {
                    self.state.store(PARKED, Ordering::SeqCst);
                    return true;
                }
                (None, chunk, 0, Some(frame))
            }
            Outgoing::Run {
                first,
                chunk,
                starts,
            } => {
                let delivered = self.delivered.load(Ordering::SeqCst);
                let last = first + starts.len() as i64 - 1;
                if last <= delivered {
                    self.state.store(PARKED, Ordering::SeqCst);
                    return true;
                }
                if delivered + 1 < *first {
                    self.hand_back();
                    return true;
                }
                // The seat may have some of the run already (its stream wrote them).
                let from = starts[(delivered + 1 - first) as usize];
                (Some(last), chunk, from, None)
            }
        };
        if let (Some(version), Outgoing::Frame { .. }) = (version, out) {
            let delivered = self.delivered.load(Ordering::SeqCst);
            if version <= delivered {
                self.state.store(PARKED, Ordering::SeqCst);
                return true;
            }
            if version != delivered + 1 {
                // A gap: the stream fills it in from the room's frames or the log.
                self.hand_back();
                return true;
            }
        }
        let bytes = &chunk[from..];
        match self.socket.try_send(bytes) {
            Ok(written) => {
                if let Some(version) = version {
                    self.delivered.store(version, Ordering::SeqCst);
                }
                if let Some(frame) = presence {
                    *lock(&self.presence) = frame.clone();
                }
                if written == bytes.len() {
                    self.state.store(PARKED, Ordering::SeqCst);
                } else {
                    *lock(&self.pending) = Some(chunk.slice(from + written..));
                    self.hand_back();
                }
            }
            // Nothing written (the socket's buffer is full, or the connection failed): the
            // stream sends it, or finds the connection closed.
            Err(_) => self.hand_back(),
        }
        true
    }

    fn hand_back(&self) {
        self.state.store(ACTIVE, Ordering::SeqCst);
        self.handed_back.notify_one();
    }
}

/// Makes a seat gone when dropped.
pub struct Leave(pub Arc<Seat>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// What the fan-out writes to a room's lent seats.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// An event (or comment) as one chunk; `version` for a change.
    Frame { version: Option<i64>, chunk: Bytes },
    /// The room's presence `frame`, as one chunk: written unless it is the one written last.
    Presence { frame: Bytes, chunk: Bytes },
    /// The room ended: every seat goes back to its stream, which ends.
    End,
    /// Changes from version `first` on, one after the other, that queued up for a fan-out
    /// thread while it wrote the ones before: their chunks one after the other, the change
    /// `first + i` starting at `starts[i]`. A seat gets in one `send` those it has not had.
    Run {
        first: i64,
        chunk: Bytes,
        starts: Vec<usize>,
    },
}

/// How many bytes of changes a fan-out thread joins into one run at most.
const RUN_BYTES: usize = 32 * 1024;

impl Outgoing {
    /// Joins `next` to this as one run, where `next` is the change right after this one (or
    /// this run) and the run stays within [`RUN_BYTES`]; otherwise gives `next` back.
    pub fn join(&mut self, next: Outgoing) -> Option<Outgoing> {
        let (next_version, chunk) = match self {
            Outgoing::Frame {
                version: Some(version),
                chunk,
            } => (*version + 1, chunk),
            Outgoing::Run {
                first,
                chunk,
                starts,
            } => (*first + starts.len() as i64, chunk),
            _ => return Some(next),
        };
        let more = match &next {
            Outgoing::Frame {
                version: Some(version),
                chunk: more,
            } if *version == next_version && chunk.len() + more.len() <= RUN_BYTES => more,
            _ => return Some(next),
        };
        let start = chunk.len();
        let mut joined = Vec::with_capacity(start + more.len());
        joined.extend_from_slice(chunk);
        joined.extend_from_slice(more);
        let joined = Bytes::from(joined);
        match self {
            Outgoing::Run { chunk, starts, .. } => {
                *chunk = joined;
                starts.push(start);
            }
            _ => {
                *self = Outgoing::Run {
                    first: next_version - 1,
                    chunk: joined,
                    starts: vec![0, start],
                }
            }
        }
        None
    }
}

/// `data` as one chunk of a chunked body: its size in hexadecimal, CRLF, the data, CRLF.
pub fn chunk(data: &[u8]) -> Vec<u8> {
    let mut size = [0u8; 18];
    let size = chunk_size_line(data.len(), &mut size);
    let mut chunk = Vec::with_capacity(size.len() + data.len() + 2);
    chunk.extend_from_slice(size);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(b"\r\n");
    chunk
}

/// A chunk's size line (`1a\r\n`), written into `buffer`.
fn chunk_size_line(size: usize, buffer: &mut [u8; 18]) -> &[u8] {
    let digits = (usize::BITS - size.leading_zeros()).div_ceil(4).max(1) as usize;
    for (place, digit) in buffer[..digits].iter_mut().rev().enumerate() {
        *digit = b"0123456789abcdef"[(size >> (4 * place)) & 0xf];
    }
    buffer[digits..digits + 2].copy_from_slice(b"\r\n");
    &buffer[..digits + 2]
}

/// A room's lent seats, spread over the fan-out threads.
#[derive(Default)]
pub struct Seats {
    shards: [Mutex<Vec<Arc<Seat>>>; FANOUT_THREADS],
    /// One pass at a time per shard (with no fan-out threads, whoever sends writes).
    passes: [Mutex<()>; FANOUT_THREADS],
    next: AtomicUsize,
    /// Seats added and not yet let go of.
    held: AtomicUsize,
    /// Messages sent to the room's channel: a stream about to lend its seat sees whether one
    /// went past it meanwhile.
    sent: AtomicU64,
}

impl fmt::Debug for Seats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seats")
            .field("held", &self.held.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Seats {
    /// Adds a seat, for good: it is let go of once gone.
    pub fn add(&self, seat: Arc<Seat>) {
        let shard = self.next.fetch_add(1, Ordering::Relaxed) % FANOUT_THREADS;
        lock(&self.shards[shard]).push(seat);
        self.held.fetch_add(1, Ordering::SeqCst);
    }

    pub fn is_empty(&self) -> bool {
        self.held.load(Ordering::SeqCst) == 0
    }

    /// Messages sent to the room's channel so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }

    /// A message was sent to the room's channel (call it after sending, before the fan-out).
    pub fn note_sent(&self) {
        self.sent.fetch_add(1, Ordering::SeqCst);
    }

    /// Writes `out` to the lent seats of one shard, and lets go of the gone ones. Not under
    /// the shard's lock: a stream adding its seat meanwhile does not wait for the pass.
    pub fn fan_out(&self, shard: usize, out: &Outgoing) {
        let _pass = lock(&self.passes[shard]);
        let mut seats = std::mem::take(&mut *lock(&self.shards[shard]));
        let before = seats.len();
        seats.retain(|seat| seat.offer(out));
        self.held.fetch_sub(before - seats.len(), Ordering::SeqCst);
        let mut kept = lock(&self.shards[shard]);
        // Those added during the pass.
        seats.append(&mut kept);
        *kept = seats;
    }
}

/// The fan-out threads: each writes its shard of every room's seats, message by message, in
/// the order they were handed over.
pub struct FanoutThreads {
    queues: Vec<std::sync::mpsc::Sender<(Arc<Seats>, Outgoing)>>,
}

impl fmt::Debug for FanoutThreads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanoutThreads").finish_non_exhaustive()
    }
}

impl FanoutThreads {
    /// Starts them; they end when this is dropped, once they wrote what was handed over.
    pub fn start() -> io::Result<FanoutThreads> {
        let mut queues = Vec::with_capacity(FANOUT_THREADS);
        for shard in 0..FANOUT_THREADS {
            let (queue, queued) = std::sync::mpsc::channel::<(Arc<Seats>, Outgoing)>();
            std::thread::Builder::new()
                .name(format!("frase-fanout-{shard}"))
                .spawn(move || {
                    let mut next = queued.recv().ok();
                    while let Some((seats, mut out)) = next.take() {
                        // Changes that queued up while the last pass wrote go out together:
                        // one `send` per socket for all of them, so a thread that falls behind
                        // catches up.
                        while let Ok((more_seats, more)) = queued.try_recv() {
                            if !Arc::ptr_eq(&seats, &more_seats) {
                                next = Some((more_seats, more));
                                break;
                            }
                            if let Some(more) = out.join(more) {
                                next = Some((more_seats, more));
                                break;
                            }
                        }
                        seats.fan_out(shard, &out);
                        if next.is_none() {
                            next = queued.recv().ok();
                        }
                    }
                })?;
            queues.push(queue);
        }
        Ok(FanoutThreads { queues })
    }

    /// Hands `out` to every thread, for `seats`.
    pub fn hand(&self, seats: &Arc<Seats>, out: &Outgoing) {
        for (shard, queue) in self.queues.iter().enumerate() {
            if queue.send((seats.clone(), out.clone())).is_err() {
                seats.fan_out(shard, out);
            }
        }
    }
}

/// Writes `out` to every shard of `seats`, here.
pub fn fan_out_here(seats: &Seats, out: &Outgoing) {
    for shard in 0..FANOUT_THREADS {
        seats.fan_out(shard, out);
    }
}

/// Locks a mutex held only for a push, a swap or a take: a poisoned one is taken as it is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that takes at most `room` more bytes.
    struct Recorded {
        written: Arc<Mutex<Vec<u8>>>,
        room: Arc<AtomicUsize>,
    }

    impl SeatSocket for Recorded {
        fn try_send(&self, bytes: &[u8]) -> io::Result<usize> {
            let room = self.room.load(Ordering::SeqCst);
            if room == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let taken = bytes.len().min(room);
            self.room.fetch_sub(taken, Ordering::SeqCst);
            lock(&self.written).extend_from_slice(&bytes[..taken]);
            Ok(taken)
        }
    }

    fn recorded_seat(room: usize) -> (Arc<Seat>, Arc<Mutex<Vec<u8>>>, Arc<AtomicUsize>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let room = Arc::new(AtomicUsize::new(room));
        let seat = Seat::new(Box::new(Recorded {
            written: written.clone(),
            room: room.clone(),
        }));
        (seat, written, room)
    }

    fn change(version: i64) -> Outgoing {
        Outgoing::Frame {
            version: Some(version),
            chunk: Bytes::from(chunk(format!("id: {version}\n\n").as_bytes())),
        }
    }

    fn text(written: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8(lock(written).clone()).unwrap()
    }

    #[test]
    fn a_lent_seat_gets_each_next_change_once_and_nothing_when_not_lent() {
        let (seat, written, _) = recorded_seat(usize::MAX);
        let seats = Seats::default();
        seats.add(seat.clone());
        // Not enabled: not the stream's to lend, and the fan-out leaves it alone.
        assert!(!seat.park(0, &Bytes::new()));
        fan_out_here(&seats, &change(1));
        assert_eq!(text(&written), "");
        seat.enable();
        assert!(seat.park(0, &Bytes::new()));
        for version in [1, 2, 2, 1, 3] {
            fan_out_here(&seats, &change(version));
        }
        assert_eq!(
            text(&written),
            "7\r\nid: 1\n\n\r\n7\r\nid: 2\n\n\r\n7\r\nid: 3\n\n\r\n"
        );
        assert_eq!(seat.delivered(), 3);
        // Taken back by the stream: the fan-out writes nothing more.
        assert!(seat.unpark());
        fan_out_here(&seats, &change(4));
        assert_eq!(seat.delivered(), 3);
    }

    #[tokio::test]
    async fn a_gap_a_full_socket_or_a_part_written_hands_the_seat_back() {
        let (seat, written, room) = recorded_seat(usize::MAX);
        let seats = Seats::default();
        seats.add(seat.clone());
        seat.enable();

        // A gap: nothing written, handed back at the last version written.
        assert!(seat.park(1, &Bytes::new()));
        fan_out_here(&seats, &change(3));
        seat.handed_back().await;
        assert!(seat.is_active());
        assert_eq!((seat.delivered(), text(&written).len()), (1, 0));

        // A full socket: likewise.
        room.store(0, Ordering::SeqCst);
        assert!(seat.park(1, &Bytes::new()));
        fan_out_here(&seats, &change(2));
        seat.handed_back().await;
        assert_eq!(seat.delivered(), 1);
        assert!(seat.take_pending().is_none());

        // Room for part of it: the rest is pending, the change counts as written.
        room.store(3, Ordering::SeqCst);
        assert!(seat.park(1, &Bytes::new()));
        fan_out_here(&seats, &change(2));
        seat.handed_back().await;
        assert_eq!(seat.delivered(), 2);
        assert_eq!(text(&written), "7\r\n");
        assert_eq!(&seat.take_pending().unwrap()[..], b"id: 2\n\n\r\n");
    }

    #[test]
    fn a_presence_frame_is_written_unless_it_is_the_last_one_written() {
        let (seat, written, _) = recorded_seat(usize::MAX);
        let seats = Seats::default();
        seats.add(seat.clone());
        seat.enable();
        let presence = |online: u32| {
            let frame = Bytes::from(format!("online {online}\n\n"));
            Outgoing::Presence {
                chunk: Bytes::from(chunk(&frame)),
                frame,
            }
        };
        let Outgoing::Presence { frame: one, .. } = presence(1) else {
            unreachable!()
        };
        // The stream sent "online 1" itself.
        assert!(seat.park(0, &one));
        for online in [1, 2, 2, 1] {
            fan_out_here(&seats, &presence(online));
        }
        assert_eq!(text(&written), "a\r\nonline 2\n\n\r\na\r\nonline 1\n\n\r\n");
        assert_eq!(seat.presence(), one);
    }

    #[tokio::test]
    async fn the_end_of_the_room_hands_every_seat_back_ended() {
        let seats = Seats::default();
        let lent: Vec<_> = (0..5).map(|_| recorded_seat(usize::MAX).0).collect();
        for seat in &lent {
            seats.add(seat.clone());
            seat.enable();
            assert!(seat.park(0, &Bytes::new()));
        }
        fan_out_here(&seats, &Outgoing::End);
        for seat in &lent {
            seat.handed_back().await;
            assert!(seat.ended());
        }
    }

    #[test]
    fn a_gone_seat_is_let_go_of_and_never_written() {
        let (seat, written, _) = recorded_seat(usize::MAX);
        let seats = Seats::default();
        seats.add(seat.clone());
        seat.enable();
        assert!(seat.park(0, &Bytes::new()));
        seat.leave();
        assert!(!seat.park(0, &Bytes::new()));
        fan_out_here(&seats, &change(1));
        assert!(seats.is_empty());
        assert_eq!(text(&written), "");
    }

    #[test]
    fn seats_added_during_a_pass_are_kept() {
        let seats = Arc::new(Seats::default());
        let threads = FanoutThreads::start().unwrap();
        let mut all = Vec::new();
        for round in 0..200 {
            let (seat, written, _) = recorded_seat(usize::MAX);
            seats.add(seat.clone());
            seat.enable();
            assert!(seat.park(round, &Bytes::new()));
            all.push((seat, written));
            threads.hand(&seats, &change(round + 1));
        }
        drop(threads);
        // Wait for the threads to write what they were handed.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while all.iter().any(|(seat, _)| seat.delivered() != 200) {
            assert!(std::time::Instant::now() < deadline, "{all:?}");
            std::thread::yield_now();
        }
        for (round, (_, written)) in all.iter().enumerate() {
            let expected: String = (round as i64 + 1..=200)
                .map(|version| {
                    String::from_utf8(chunk(format!("id: {version}\n\n").as_bytes())).unwrap()
                })
                .collect();
            assert_eq!(text(written), expected);
        }
        assert!(!seats.is_empty());
    }

    #[test]
    fn chunk_sizes_are_hexadecimal() {
        let mut buffer = [0; 18];
        for (size, line) in [
            (0, "0\r\n"),
            (13, "d\r\n"),
            (16, "10\r\n"),
            (0xabc1, "abc1\r\n"),
        ] {
            assert_eq!(chunk_size_line(size, &mut buffer), line.as_bytes());
        }
        assert_eq!(chunk_size_line(usize::MAX, &mut buffer).len(), 18);
        assert_eq!(chunk(b"abc"), b"3\r\nabc\r\n");
    }

    /// Changes 2 to 4 as one run, the way a fan-out thread that fell behind joins them.
    fn run_of_2_to_4() -> Outgoing {
        let mut run = change(2);
        assert!(run.join(change(3)).is_none());
        assert!(run.join(change(4)).is_none());
        run
    }

    #[test]
    fn only_changes_right_after_each_other_join_a_run_and_within_its_size() {
        let Outgoing::Run {
            first,
            chunk,
            starts,
        } = run_of_2_to_4()
        else {
            panic!("not a run");
        };
        assert_eq!((first, starts), (2, vec![0, 12, 24]));
        assert_eq!(&chunk[12..24], b"7\r\nid: 3\n\n\r\n");
        // A gap, a presence frame, a comment: each goes on its own.
        assert!(change(2).join(change(4)).is_some());
        assert!(run_of_2_to_4().join(change(4)).is_some());
        let presence = Outgoing::Presence {
            frame: Bytes::from_static(b"p"),
            chunk: Bytes::from_static(b"p"),
        };
        assert!(change(1).join(presence).is_some());
        let comment = Outgoing::Frame {
            version: None,
            chunk: Bytes::from_static(b": c"),
        };
        assert!(change(1).join(comment).is_some());
        let big = |version| Outgoing::Frame {
            version: Some(version),
            chunk: Bytes::from(vec![b'x'; RUN_BYTES / 2 + 1]),
        };
        let mut first = big(1);
        assert!(first.join(big(2)).is_some(), "a run past RUN_BYTES");
        assert!(matches!(
            first,
            Outgoing::Frame {
                version: Some(1),
                ..
            }
        ));
    }

    #[tokio::test]
    async fn a_run_gives_each_seat_in_one_send_the_changes_it_has_not_had() {
        let seats = Seats::default();
        let mut lent = Vec::new();
        for delivered in [1, 2, 4, 0] {
            let (seat, written, _) = recorded_seat(usize::MAX);
            seat.enable();
            assert!(seat.park(delivered, &Bytes::new()));
            seats.add(seat.clone());
            lent.push((seat, written));
        }
        fan_out_here(&seats, &run_of_2_to_4());
        let two_to_four = "7\r\nid: 2\n\n\r\n7\r\nid: 3\n\n\r\n7\r\nid: 4\n\n\r\n";
        // Level before the run: all of it; with 2 already: 3 and 4; with 4: nothing.
        assert_eq!(text(&lent[0].1), two_to_four);
        assert_eq!(text(&lent[1].1), &two_to_four[12..]);
        assert_eq!(text(&lent[2].1), "");
        for (seat, _) in &lent[..3] {
            assert_eq!(seat.delivered(), 4);
            assert!(seat.unpark(), "still lent");
        }
        // Behind the run (a gap): handed back to its stream, nothing written.
        let (seat, written) = &lent[3];
        tokio::time::timeout(std::time::Duration::from_secs(5), seat.handed_back())
            .await
            .unwrap();
        assert_eq!((text(written), seat.delivered()), (String::new(), 0));
    }

    #[tokio::test]
    async fn a_run_that_does_not_fit_leaves_its_rest_to_the_stream() {
        let (seat, written, _) = recorded_seat(20);
        seat.enable();
        assert!(seat.park(2, &Bytes::new()));
        let seats = Seats::default();
        seats.add(seat.clone());
        fan_out_here(&seats, &run_of_2_to_4());
        tokio::time::timeout(std::time::Duration::from_secs(5), seat.handed_back())
            .await
            .unwrap();
        assert_eq!(text(&written), "7\r\nid: 3\n\n\r\n7\r\nid: 4");
        assert_eq!(
            seat.take_pending().unwrap(),
            Bytes::from_static(b"\n\n\r\n")
        );
        assert_eq!(seat.delivered(), 4);
    }
}
