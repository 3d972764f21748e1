//! The rooms service: the one place where a change is decided, stored and published.
//!
//! Server functions and the JSON API both call it, so a word gets the same checks and the same
//! errors whichever way it arrives.

use std::sync::Arc;

use crate::domain::{
    DisplayName, RoomSettings, RoomSlug, RoomTitle, Word, WordError, check_turn, display_sentence,
    sentence_ends_after,
};
use crate::error::AppError;
use crate::model::{EventKind, Me, RoomPage, RoomState, SentenceView, StorySentence, WordView};
use crate::server::live::Hub;
use crate::server::session::UserId;
use crate::server::store::{self, ChangeRow, NewWord, Store, StoreError};

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
    #[error(transparent)]
    Word(#[from] WordError),
    #[error(transparent)]
    Turn(#[from] crate::domain::TurnError),
    #[error(transparent)]
    Storage(#[from] StoreError),
}

impl From<sqlx::Error> for ServiceError {
    fn from(error: sqlx::Error) -> ServiceError {
        ServiceError::Storage(StoreError::Database(error))
    }
}

impl From<ServiceError> for AppError {
    fn from(error: ServiceError) -> AppError {
        match error {
            ServiceError::RoomNotFound(_) => {
                AppError::not_found("room-not-found", error.to_string())
            }
            ServiceError::WordNotFound { .. } => {
                AppError::not_found("word-not-found", error.to_string())
            }
            ServiceError::RoomExists(_) => {
                AppError::new(409, "room-exists", "Conflict", error.to_string())
            }
            ServiceError::Locked(_) => {
                AppError::new(423, "room-locked", "Locked", error.to_string())
            }
            ServiceError::Stale { .. } => AppError::new(
                412,
                "precondition-failed",
                "Precondition failed",
                error.to_string(),
            ),
            ServiceError::Word(error) => error.into(),
            ServiceError::Turn(error) => error.into(),
            ServiceError::Storage(error) => {
                tracing::error!(%error, "storage failure");
                AppError::internal()
            }
        }
    }
}

/// The rooms service.
#[derive(Clone)]
pub struct Rooms {
    store: Store,
    hub: Arc<Hub>,
}

impl Rooms {
    pub fn new(store: Store, hub: Arc<Hub>) -> Rooms {
        Rooms { store, hub }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// A room's state as the caller sees it.
    pub async fn room_state(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
    ) -> Result<RoomState, ServiceError> {
        let mut conn = self.store.read().await?;
        let room = store::room(&mut conn, slug.as_str())
            .await?
            .ok_or_else(|| ServiceError::RoomNotFound(slug.to_string()))?;
        let sentence = store::current_sentence(&mut conn, slug.as_str()).await?;
        let words = store::words_of_sentence(&mut conn, sentence.id).await?;
        let finished_sentences = store::finished_sentence_count(&mut conn, slug.as_str()).await?;
        Ok(RoomState {
            host: room.host_id.as_deref() == Some(caller.as_str()),
            slug: room.slug,
            title: room.title,
            version: room.version,
            settings: room.settings,
            sentence: SentenceView {
                id: sentence.id,
                words,
            },
            finished_sentences,
            turn: None,
        })
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
        Ok(RoomPage { state, story, me })
    }

    /// The finished sentences of a room, oldest first.
    pub async fn story(&self, slug: &RoomSlug) -> Result<Vec<StorySentence>, ServiceError> {
        let mut conn = self.store.read().await?;
        if store::room(&mut conn, slug.as_str()).await?.is_none() {
            return Err(ServiceError::RoomNotFound(slug.to_string()));
        }
        Ok(store::story(&mut conn, slug.as_str()).await?)
    }

    /// Adds a word from `author` to the room's open sentence.
    ///
    /// One transaction takes the next room version, inserts the word and its change-log row
    /// (and, if the word ends the sentence, closes it); the change is published while the writer
    /// is still held, so every room's changes reach the hub in version order. `expected_versions`
    /// is `If-Match`: the word is added only if the room is still at one of these versions.
    pub async fn add_word(
        &self,
        slug: &RoomSlug,
        author: &UserId,
        text: &str,
        expected_versions: Option<&[i64]>,
    ) -> Result<WordView, ServiceError> {
        let mut writer = self.store.writer().await?;
        let mut tx = writer.begin().await?;
        let room = store::room(&mut tx, slug.as_str())
            .await?
            .ok_or_else(|| ServiceError::RoomNotFound(slug.to_string()))?;
        if room.settings.locked {
            return Err(ServiceError::Locked(slug.to_string()));
        }
        if let Some(expected) = expected_versions
            && !expected.contains(&room.version)
        {
            return Err(ServiceError::Stale {
                current: room.version,
            });
        }
        let word = Word::parse(text, room.settings.max_word_length as usize)?;
        let sentence = store::current_sentence(&mut tx, slug.as_str()).await?;
        let last = store::last_word_of_sentence(&mut tx, sentence.id).await?;
        check_turn(
            &room.settings,
            last.as_ref().map(|w| w.author_id.as_str()),
            author.as_str(),
        )?;
        let position = last.map_or(0, |w| w.position + 1);
        let version = room.version + 1;
        let ends_sentence = sentence_ends_after(&room.settings, &word, position as u32);
        let now = store::now_rfc3339();

        store::ensure_user(
            &mut tx,
            author.as_str(),
            author.default_name().as_str(),
            &now,
        )
        .await?;
        let view = store::insert_word(
            &mut tx,
            NewWord {
                room_slug: slug.as_str(),
                sentence_id: sentence.id,
                position,
                version,
                text: word.as_str(),
                ends_sentence,
                author_id: author.as_str(),
                created_at: &now,
            },
        )
        .await?;
        store::set_room_version(&mut tx, slug.as_str(), version, &now).await?;
        let change = ChangeRow {
            version,
            kind: EventKind::Word,
            data: serde_json::to_string(&view)
                .map_err(|e| StoreError::Corrupt(format!("word JSON: {e}")))?,
        };
        store::insert_change(&mut tx, slug.as_str(), &change, &now).await?;
        if ends_sentence {
            let words = store::words_of_sentence(&mut tx, sentence.id).await?;
            let text = display_sentence(words.iter().map(|w| w.text.as_str()));
            store::finish_sentence(&mut tx, slug.as_str(), sentence.id, &text, version, &now)
                .await?;
        }
        tx.commit().await?;
        self.hub.publish(slug.as_str(), &change);
        drop(writer);
        Ok(view)
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
        let mut writer = self.store.writer().await?;
        let mut tx = writer.begin().await?;
        store::set_user_name(
            &mut tx,
            caller.as_str(),
            name.as_str(),
            &store::now_rfc3339(),
        )
        .await?;
        tx.commit().await?;
        Ok(Me {
            id: caller.to_string(),
            name: name.to_string(),
        })
    }

    /// Creates a room with its first (open) sentence; `host` becomes its host.
    pub async fn create_room(
        &self,
        slug: &RoomSlug,
        title: &RoomTitle,
        host: &UserId,
        settings: &RoomSettings,
    ) -> Result<RoomState, ServiceError> {
        {
            let mut writer = self.store.writer().await?;
            let mut tx = writer.begin().await?;
            if store::room(&mut tx, slug.as_str()).await?.is_some() {
                return Err(ServiceError::RoomExists(slug.to_string()));
            }
            let now = store::now_rfc3339();
            store::ensure_user(&mut tx, host.as_str(), host.default_name().as_str(), &now).await?;
            let settings_json = serde_json::to_string(settings)
                .map_err(|e| StoreError::Corrupt(format!("settings JSON: {e}")))?;
            store::insert_room(
                &mut tx,
                slug.as_str(),
                title.as_str(),
                host.as_str(),
                &settings_json,
                &now,
            )
            .await?;
            store::open_sentence(&mut tx, slug.as_str()).await?;
            tx.commit().await?;
        }
        self.room_state(slug, host).await
    }

    /// Creates a room under a fresh generated code; the caller becomes its host.
    pub async fn create_room_with_code(
        &self,
        title: Option<&RoomTitle>,
        host: &UserId,
        settings: &RoomSettings,
    ) -> Result<RoomState, ServiceError> {
        // 31^6 codes: a collision is rare, and retried.
        for _ in 0..16 {
            let slug = RoomSlug::from_random(&rand::random::<[u8; 6]>());
            let fallback;
            let title = match title {
                Some(title) => title,
                None => {
                    fallback = RoomTitle::parse(slug.as_str())
                        .map_err(|e| StoreError::Corrupt(format!("generated title: {e}")))?;
                    &fallback
                }
            };
            match self.create_room(&slug, title, host, settings).await {
                Err(ServiceError::RoomExists(_)) => continue,
                result => return result,
            }
        }
        Err(ServiceError::Storage(StoreError::Corrupt(
            "no free room code after 16 tries".into(),
        )))
    }

    /// Whether a room exists.
    pub async fn exists(&self, slug: &RoomSlug) -> Result<bool, ServiceError> {
        let mut conn = self.store.read().await?;
        Ok(store::room(&mut conn, slug.as_str()).await?.is_some())
    }

    /// Answers whether the database responds.
    pub async fn healthy(&self) -> bool {
        self.store.ping().await.is_ok()
    }
}
