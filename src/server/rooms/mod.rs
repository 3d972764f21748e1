//! The rooms service: the one place where a change is decided, stored and published.
//!
//! Server functions and the JSON API both call it, so a word gets the same checks and the same
//! errors whichever way it arrives. Every change to a room goes through [`Rooms::change_room`]:
//! one transaction on the single writer that takes the next room version, applies the change and
//! logs it, then publishes it before the writer is let go — so each room's changes reach the live
//! hub in version order, and a reconnecting stream finds them in the log.

mod admin;
mod turns;
mod words;

pub use admin::Put;
pub use words::EDIT_WINDOW;

use std::sync::Arc;

use bytes::Bytes;
use sqlx::any::AnyRow;

use crate::domain::{DisplayName, NameError, RoomSlug, SettingsError, WordError};
use crate::model::{Me, RoomPage, RoomState, SentenceView, StoryPage, StorySentence, WordView};
use crate::server::limits::{KeyedLimiter, RateLimit};
use crate::server::live::bus::BusStats;
use crate::server::live::presence::SharedPresence;
use crate::server::live::{Hub, SharedState};
use crate::server::session::UserId;
use crate::server::store::{self, ChangeRow, Conn, RoomRow, Store, StoreError};

/// The most words one listing returns.
pub const MAX_WORDS_PAGE: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("there is no room `{0}`")]
    RoomNotFound(String),
    #[error("there is no word {id} in room `{room}`")]
    WordNotFound { room: String, id: i64 },
    #[error("there is already a room `{0}`")]
    RoomExists(String),
    #[error("room `{0}` is locked: its host is not taking new words")]
    Locked(String),
    #[error("the room changed: it is at version {current}, not the one given in If-Match")]
    Stale { current: i64 },
    /// `If-Match` named a version of a room that is not there: the condition is false (RFC 9110
    /// §13.1.1), so 412 rather than 404.
    #[error("If-Match names a version of room `{0}`, which does not exist")]
    NoCurrentRoom(String),
    #[error("only the host of room `{0}` may do this")]
    NotHost(String),
    #[error("not allowed: {0}")]
    NotAllowed(Refusal),
    #[error("room `main` always exists: it cannot be deleted")]
    MainIsPermanent,
    #[error("the sentence has no words yet: there is nothing to end")]
    EmptySentence,
    #[error("a fix cannot start or end a sentence; delete the word and add another instead")]
    EditChangesSentenceEnd,
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("invalid title: {0}")]
    Title(NameError),
    #[error(transparent)]
    Word(#[from] WordError),
    #[error(transparent)]
    Turn(#[from] crate::domain::TurnError),
    #[error("room `{0}` is not in `turns` mode: set its mode to `turns` before starting a round")]
    NotTurnsMode(String),
    /// A turn's clock fired for a turn that has already ended (played, or a newer round).
    /// Internal: never reaches a client.
    #[error("that turn is no longer running")]
    TurnNotDue,
    #[error("too many words too fast: wait {} s before the next one", .0.as_secs().max(1))]
    RateLimited(std::time::Duration),
    #[error(transparent)]
    Storage(#[from] StoreError),
}

/// Why a player may not change a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only its author may fix a word")]
    FixNotAuthor,
    #[error("a word can be fixed only shortly after it was added")]
    FixTooLate,
    #[error("only its author may remove a word")]
    RemoveNotAuthor,
    #[error("only the last word of the open sentence can be removed")]
    RemoveNotLast,
}

impl From<sqlx::Error> for ServiceError {
    fn from(error: sqlx::Error) -> ServiceError {
        ServiceError::Storage(StoreError::Database(error))
    }
}

/// What a change's closure gets: the room as it was, and the version and time of the change.
pub struct Step<'a> {
    pub room: &'a RoomRow,
    /// The rows of the read the change started with, the room's first.
    pub opened: &'a [AnyRow],
    /// The version this change gives the room (its first event's, when it logs more than one).
    pub version: i64,
    pub now: String,
    /// `now` in milliseconds since the Unix epoch.
    pub now_ms: i64,
}

/// The events one change logs, at consecutive versions from [`Step::version`] (most changes log
/// one; a word that passes the turn in a `turns` round logs the word, then the turn).
pub struct Logged {
    events: Vec<ChangeRow>,
    /// How many of the first events the change has put in the change log itself (with what
    /// they describe, in one round trip), or left to its last write; [`Rooms::change_room`]
    /// logs the rest.
    stored: usize,
    /// The change's last write, left for the writer's next round trip (`store::Tail`).
    tail: Option<store::Tail>,
}

impl From<ChangeRow> for Logged {
    fn from(change: ChangeRow) -> Logged {
        Logged {
            events: vec![change],
            stored: 0,
            tail: None,
        }
    }
}

impl Logged {
    /// An event the change has already put in the change log.
    pub fn stored(change: ChangeRow) -> Logged {
        Logged {
            events: vec![change],
            stored: 1,
            tail: None,
        }
    }

    /// An event the change's last write, `tail`, puts in the change log (with what it
    /// describes) once the change is done.
    pub fn left_to(tail: store::Tail, change: ChangeRow) -> Logged {
        Logged {
            events: vec![change],
            stored: 1,
            tail: Some(tail),
        }
    }

    /// This change's events, then `next` after them.
    pub fn then(mut self, next: ChangeRow) -> Logged {
        self.events.push(next);
        self
    }

    /// The version of the last event.
    pub fn last_version(&self) -> Option<i64> {
        self.events.last().map(|event| event.version)
    }
}

/// A room's story, for export.
#[derive(Debug, Clone)]
pub struct StoryDocument {
    pub title: String,
    pub sentences: Vec<StorySentence>,
    /// When the room last changed (RFC 3339). The story changes less often than that, so this
    /// is a conservative `Last-Modified`: never earlier than the story's real last change.
    pub updated_at: String,
}

/// `If-Match` on a write: the room versions it accepts (`None`: no condition).
pub type Precondition<'a> = Option<&'a [i64]>;

/// The rooms service.
#[derive(Clone)]
pub struct Rooms {
    store: Store,
    hub: Arc<Hub>,
    /// New words per user (`FRASE_RATE_LIMIT`), counted on every attempt, accepted or not.
    word_rate: Arc<KeyedLimiter<UserId>>,
    /// The live-event bus, with PostgreSQL (`live::bus`).
    bus: Option<Arc<BusStats>>,
    /// Who has each room open in the other processes, with PostgreSQL (`live::presence`).
    presence: Option<Arc<SharedPresence>>,
}

impl Rooms {
    /// The service with no limit on how fast one user adds words.
    pub fn new(store: Store, hub: Arc<Hub>) -> Rooms {
        Rooms::with_word_rate(store, hub, RateLimit::Off)
    }

    pub fn with_word_rate(store: Store, hub: Arc<Hub>, word_rate: RateLimit) -> Rooms {
        Rooms {
            store,
            hub,
            word_rate: Arc::new(KeyedLimiter::new(word_rate)),
            bus: None,
            presence: None,
        }
    }

    /// The service with a live-event bus feeding its hub (PostgreSQL), whose health it reports,
    /// and presence shared with the other processes on the database.
    pub fn with_bus(mut self, bus: Option<(Arc<BusStats>, Arc<SharedPresence>)>) -> Rooms {
        (self.bus, self.presence) = bus.unzip();
        self
    }

    /// What the live-event bus has done, where there is one.
    pub fn bus(&self) -> Option<&BusStats> {
        self.bus.as_deref()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Whether this process publishes its own commits to its hub: with SQLite, where it is the
    /// only process; with PostgreSQL the bus publishes every process's (`live::bus`).
    pub fn publishes_commits(&self) -> bool {
        self.store.dialect() == store::Dialect::Sqlite
    }

    /// Runs one change to a room on the writer: finds the room (404), checks `If-Match`
    /// (412), lets `change` apply itself at the next version and return the events to log, moves
    /// the room to the last event's version and logs the events. Once the change is durable
    /// (its transaction may be shared with changes that arrived at the same time: group commit),
    /// its events are published, in commit order, before anyone is answered.
    async fn change_room<T>(
        &self,
        slug: &RoomSlug,
        precondition: Precondition<'_>,
        change: impl AsyncFnOnce(&mut Conn, &Step<'_>) -> Result<(T, Logged), ServiceError>,
    ) -> Result<T, ServiceError> {
        self.change_room_opening(
            slug,
            store::room_opening(slug.as_str()),
            precondition,
            change,
        )
        .await
    }

    /// [`Rooms::change_room`] with the read it starts with given: the room's row first
    /// (`store::room_opening`), then whatever else the change reads in that round trip
    /// ([`Step::opened`]).
    async fn change_room_opening<T>(
        &self,
        slug: &RoomSlug,
        opening: store::Opening,
        precondition: Precondition<'_>,
        change: impl AsyncFnOnce(&mut Conn, &Step<'_>) -> Result<(T, Logged), ServiceError>,
    ) -> Result<T, ServiceError> {
        let hub = self.hub.clone();
        let publishes_commits = self.publishes_commits();
        self.store
            .write_opening(
                opening,
                async move |conn: &mut Conn, opened: store::OpenedRows| {
                    let room = writable_room(
                        slug,
                        store::opened_room(slug.as_str(), &opened)?,
                        precondition,
                    )?;
                    let now_ms = store::now_ms();
                    let step = Step {
                        room: &room,
                        opened: &opened,
                        version: room.version + 1,
                        now: store::rfc3339_from_ms(now_ms),
                        now_ms,
                    };
                    let (
                        value,
                        Logged {
                            events,
                            stored,
                            tail,
                        },
                    ) = change(conn, &step).await?;
                    // What is logged here must follow the change's last write.
                    let tail = match tail {
                        Some(tail) if events.len() > stored => {
                            tail.run(conn).await?;
                            None
                        }
                        tail => tail,
                    };
                    let mut version = room.version;
                    for (index, event) in events.iter().enumerate() {
                        if event.version != version + 1 {
                            return Err(StoreError::Corrupt(format!(
                                "event at version {} after version {version}",
                                event.version
                            ))
                            .into());
                        }
                        version = event.version;
                        if index >= stored {
                            store::insert_change(conn, slug.as_str(), event, &step.now).await?;
                        }
                    }
                    // Logging a change moves its room to the change's version (a trigger); a change
                    // with no event still marks the room as modified.
                    if events.is_empty() {
                        store::set_room_version(conn, slug.as_str(), version, &step.now).await?;
                    }
                    store::mark_key_committed(conn, slug.as_str(), version).await?;
                    let room_slug = slug.to_string();
                    let publish: store::AfterCommit = if publishes_commits {
                        Box::new(move || {
                            for event in &events {
                                hub.publish(&room_slug, event);
                            }
                        })
                    } else {
                        // The bus publishes it (`live::bus`); until then this process knows it
                        // is committed, so it reads its own change.
                        Box::new(move || hub.note_committed(&room_slug, version))
                    };
                    Ok((value, Some(publish), tail))
                },
            )
            .await
    }

    /// A room's state as the caller sees it: from memory unless a change was published
    /// since it was last read (`Hub::shared_state`).
    pub async fn room_state(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
    ) -> Result<RoomState, ServiceError> {
        Ok(self.shared_state(slug).await?.for_caller(caller.as_str()))
    }

    /// A room's state as `caller` sees it, as JSON, with its version: from memory like
    /// [`Rooms::room_state`].
    pub async fn room_json(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
    ) -> Result<(i64, Bytes), ServiceError> {
        let shared = self.shared_state(slug).await?;
        Ok((shared.state.version, shared.json_for(caller.as_str())))
    }

    /// A room's state as everyone sees it, with its host.
    async fn shared_state(&self, slug: &RoomSlug) -> Result<SharedState, ServiceError> {
        self.hub
            .shared_state(slug.as_str(), || async {
                let mut conn = self.store.read().await?;
                let room = store::room(&mut conn, slug.as_str())
                    .await?
                    .ok_or_else(|| ServiceError::RoomNotFound(slug.to_string()))?;
                let host_id = room.host_id.clone();
                let state = state_of(&mut conn, room, None).await?;
                SharedState::new(host_id, state)
                    .map_err(|e| StoreError::Corrupt(format!("room state JSON: {e}")).into())
            })
            .await
    }

    /// Everything the room page shows, read in one snapshot.
    pub async fn room_page(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
    ) -> Result<RoomPage, ServiceError> {
        let state = self.room_state(slug, caller).await?;
        let story = self.story(slug).await?;
        let me = self.me(caller).await?;
        Ok(RoomPage {
            state,
            story,
            me,
            // Filled in by the HTTP layer, which holds the key and sees the request.
            csrf: String::new(),
            join: Default::default(),
        })
    }

    /// The finished sentences of a room, oldest first.
    pub async fn story(&self, slug: &RoomSlug) -> Result<Vec<StorySentence>, ServiceError> {
        let mut conn = self.store.read().await?;
        if store::room(&mut conn, slug.as_str()).await?.is_none() {
            return Err(ServiceError::RoomNotFound(slug.to_string()));
        }
        Ok(store::story(&mut conn, slug.as_str()).await?)
    }

    /// Words of a room after version `after`, in version order.
    pub async fn words_after(
        &self,
        slug: &RoomSlug,
        after: i64,
        limit: i64,
    ) -> Result<Vec<WordView>, ServiceError> {
        let mut conn = self.store.read().await?;
        if store::room(&mut conn, slug.as_str()).await?.is_none() {
            return Err(ServiceError::RoomNotFound(slug.to_string()));
        }
        let limit = limit.clamp(1, MAX_WORDS_PAGE);
        Ok(store::words_after(&mut conn, slug.as_str(), after, limit).await?)
    }

    pub async fn word(&self, slug: &RoomSlug, id: i64) -> Result<WordView, ServiceError> {
        let mut conn = self.store.read().await?;
        if store::room(&mut conn, slug.as_str()).await?.is_none() {
            return Err(ServiceError::RoomNotFound(slug.to_string()));
        }
        store::word_by_id(&mut conn, slug.as_str(), id)
            .await?
            .ok_or_else(|| ServiceError::WordNotFound {
                room: slug.to_string(),
                id,
            })
    }

    /// The caller, with the name they chose or the one generated for them.
    pub async fn me(&self, caller: &UserId) -> Result<Me, ServiceError> {
        let mut conn = self.store.read().await?;
        let name = store::user_name(&mut conn, caller.as_str()).await?;
        Ok(Me {
            id: caller.to_string(),
            name: name.unwrap_or_else(|| caller.default_name().to_string()),
        })
    }

    /// Changes the caller's display name (shown on their words from now on).
    pub async fn rename(&self, caller: &UserId, name: &DisplayName) -> Result<Me, ServiceError> {
        let now = store::now_rfc3339();
        let hub = self.hub.clone();
        self.store
            .write_then(async |conn: &mut Conn| {
                store::set_user_name(conn, caller.as_str(), name.as_str(), &now).await?;
                // The name shows on the user's words in every room's state.
                let forget: store::AfterCommit = Box::new(move || hub.forget_states());
                Ok::<_, StoreError>(((), Some(forget)))
            })
            .await?;
        Ok(Me {
            id: caller.to_string(),
            name: name.to_string(),
        })
    }

    /// A room's story with its title and the time the room last changed (for `Last-Modified`),
    /// read in one snapshot.
    pub async fn story_document(&self, slug: &RoomSlug) -> Result<StoryDocument, ServiceError> {
        let mut conn = self.store.read().await?;
        let room = store::room(&mut conn, slug.as_str())
            .await?
            .ok_or_else(|| ServiceError::RoomNotFound(slug.to_string()))?;
        let sentences = store::story(&mut conn, slug.as_str()).await?;
        Ok(StoryDocument {
            title: room.title,
            sentences,
            updated_at: room.updated_at,
        })
    }

    /// The story page: the finished sentences with their authors, and who wrote how much.
    /// `chart_svg` is left for the caller, which knows the page's language.
    pub async fn story_page(&self, slug: &RoomSlug) -> Result<StoryPage, ServiceError> {
        let mut conn = self.store.read().await?;
        let room = store::room(&mut conn, slug.as_str())
            .await?
            .ok_or_else(|| ServiceError::RoomNotFound(slug.to_string()))?;
        Ok(StoryPage {
            slug: room.slug,
            title: room.title,
            sentences: store::authored_story(&mut conn, slug.as_str()).await?,
            contributors: store::contributors(&mut conn, slug.as_str()).await?,
            chart_svg: String::new(),
        })
    }

    /// Whether a room exists (from memory, as its state is).
    pub async fn exists(&self, slug: &RoomSlug) -> Result<bool, ServiceError> {
        match self.shared_state(slug).await {
            Ok(_) => Ok(true),
            Err(ServiceError::RoomNotFound(_)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Answers whether the database responds.
    /// Whether the database answers and, with a bus, it is listening (without it this
    /// process would miss other processes' changes).
    pub async fn healthy(&self) -> bool {
        let listening = self
            .bus
            .as_ref()
            .is_none_or(|bus| bus.listening.load(std::sync::atomic::Ordering::SeqCst));
        listening && self.store.ping().await.is_ok()
    }
}

/// A change-log row for an event whose data is `value` as JSON.
fn event<T: serde::Serialize>(
    kind: crate::model::EventKind,
    version: i64,
    value: &T,
) -> Result<ChangeRow, ServiceError> {
    Ok(ChangeRow {
        version,
        kind,
        data: serde_json::to_string(value)
            .map_err(|e| StoreError::Corrupt(format!("event JSON: {e}")))?,
    })
}

/// The state of `room` read through `conn` (a read snapshot, or the writer inside a change).
/// Without a caller, `host` is false: that is the state a `room` event carries to everyone.
async fn state_of(
    conn: &mut Conn,
    room: RoomRow,
    caller: Option<&UserId>,
) -> Result<RoomState, ServiceError> {
    let sentence = store::current_sentence(conn, &room.slug).await?;
    let words = store::words_of_sentence(conn, sentence.id).await?;
    let finished_sentences = store::finished_sentence_count(conn, &room.slug).await?;
    let turn = turns::turn_view(conn, &room).await?;
    Ok(RoomState {
        host: caller.is_some_and(|caller| is_host(&room, caller)),
        slug: room.slug,
        title: room.title,
        version: room.version,
        settings: room.settings,
        sentence: SentenceView {
            id: sentence.id,
            words,
        },
        finished_sentences,
        turn,
    })
}

/// A change seen as the whole room (`room` at its new version): the `room` event for everyone,
/// which says `host: false`, and the state as `caller` sees it.
async fn room_change(
    conn: &mut Conn,
    room: RoomRow,
    caller: &UserId,
) -> Result<(RoomState, Logged), ServiceError> {
    let shared = state_of(conn, room.clone(), None).await?;
    let change = event(crate::model::EventKind::Room, room.version, &shared)?;
    let state = state_of(conn, room, Some(caller)).await?;
    Ok((state, change.into()))
}

/// Whether `caller` is the room's host.
fn is_host(room: &RoomRow, caller: &UserId) -> bool {
    room.host_id.as_deref() == Some(caller.as_str())
}

/// The error for a write to a room that is not there: 404, or 412 under `If-Match`.
fn missing_room(slug: &RoomSlug, precondition: Precondition<'_>) -> ServiceError {
    match precondition {
        Some(_) => ServiceError::NoCurrentRoom(slug.to_string()),
        None => ServiceError::RoomNotFound(slug.to_string()),
    }
}

/// The room a write is about (read inside the write's transaction), checked against `If-Match`.
fn writable_room(
    slug: &RoomSlug,
    room: Option<RoomRow>,
    precondition: Precondition<'_>,
) -> Result<RoomRow, ServiceError> {
    let room = room.ok_or_else(|| missing_room(slug, precondition))?;
    if let Some(accepted) = precondition
        && !accepted.contains(&room.version)
    {
        return Err(ServiceError::Stale {
            current: room.version,
        });
    }
    Ok(room)
}
