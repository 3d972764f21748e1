//! Rooms themselves: create (by code or by name), replace, change, delete.

use super::{Precondition, Rooms, ServiceError, is_host, missing_room, room_change, writable_room};
use crate::domain::{RoomSettings, RoomSlug, RoomTitle};
use crate::model::{RoomSettingsPatch, RoomState};
use crate::server::session::UserId;
use crate::server::store::{self, Conn, StoreError};

/// What `PUT` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Created,
    Replaced,
}

impl Rooms {
    /// Creates a room with its first (open) sentence; `host` becomes its host.
    pub async fn create_room(
        &self,
        slug: &RoomSlug,
        title: &RoomTitle,
        host: &UserId,
        settings: &RoomSettings,
    ) -> Result<RoomState, ServiceError> {
        settings.validate()?;
        let settings = settings_json(settings)?;
        self.store
            .write(async |conn: &mut Conn| {
                if store::room(conn, slug.as_str()).await?.is_some() {
                    return Err(ServiceError::RoomExists(slug.to_string()));
                }
                let now = store::now_rfc3339();
                let default_name = host.default_name();
                store::ensure_user(conn, host.as_str(), default_name.as_str(), &now).await?;
                store::insert_room(
                    conn,
                    slug.as_str(),
                    title.as_str(),
                    host.as_str(),
                    &settings,
                    &now,
                )
                .await?;
                store::open_sentence(conn, slug.as_str()).await?;
                store::mark_key_committed(conn, slug.as_str(), 0).await?;
                Ok(())
            })
            .await?;
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
            let generated;
            let title = match title {
                Some(title) => title,
                None => {
                    generated = RoomTitle::parse(slug.as_str()).map_err(ServiceError::Title)?;
                    &generated
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

    /// `PUT`: creates the room (the caller becomes its host) or, for its host, replaces its title
    /// and settings. Replacing with what is already there changes nothing, so the same `PUT`
    /// twice leaves the same state.
    pub async fn put_room(
        &self,
        slug: &RoomSlug,
        title: &RoomTitle,
        settings: &RoomSettings,
        caller: &UserId,
        precondition: Precondition<'_>,
    ) -> Result<(Put, RoomState), ServiceError> {
        settings.validate()?;
        if precondition.is_none() && !self.exists(slug).await? {
            match self.create_room(slug, title, caller, settings).await {
                Ok(state) => return Ok((Put::Created, state)),
                // Created meanwhile by someone else: replace it, if allowed, like any other.
                Err(ServiceError::RoomExists(_)) => {}
                Err(error) => return Err(error),
            }
        }
        let unchanged = {
            let mut conn = self.store.read().await?;
            let room = store::room(&mut conn, slug.as_str())
                .await?
                .ok_or_else(|| missing_room(slug, precondition))?;
            if !is_host(&room, caller) {
                return Err(ServiceError::NotHost(slug.to_string()));
            }
            room.title == title.as_str() && room.settings == *settings
        };
        if unchanged && precondition.is_none() {
            return Ok((Put::Replaced, self.room_state(slug, caller).await?));
        }
        let state = self
            .reconfigure(slug, caller, precondition, |_, _| {
                Ok((title.as_str().to_owned(), settings.clone()))
            })
            .await?;
        Ok((Put::Replaced, state))
    }

    /// `PATCH`: the host changes some of the title and settings.
    pub async fn patch_room(
        &self,
        slug: &RoomSlug,
        title: Option<&RoomTitle>,
        settings: &RoomSettingsPatch,
        caller: &UserId,
        precondition: Precondition<'_>,
    ) -> Result<RoomState, ServiceError> {
        self.reconfigure(slug, caller, precondition, |current_title, current| {
            let merged = settings.apply(current);
            merged.validate()?;
            let title = title.map_or_else(|| current_title.to_owned(), |t| t.as_str().to_owned());
            Ok((title, merged))
        })
        .await
    }

    /// A host's change of title and settings, logged and sent as a `room` event.
    async fn reconfigure(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
        precondition: Precondition<'_>,
        decide: impl FnOnce(&str, &RoomSettings) -> Result<(String, RoomSettings), ServiceError>,
    ) -> Result<RoomState, ServiceError> {
        self.change_room(slug, precondition, async |conn, step| {
            if !is_host(step.room, caller) {
                return Err(ServiceError::NotHost(slug.to_string()));
            }
            let (title, settings) = decide(&step.room.title, &step.room.settings)?;
            store::update_room(conn, slug.as_str(), &title, &settings_json(&settings)?).await?;
            let mut room = step.room.clone();
            room.title = title;
            room.settings = settings;
            room.version = step.version;
            if room.settings.mode != crate::domain::Mode::Turns && room.round.is_some() {
                // Back to open play: the round stops.
                room.round = None;
                store::set_round(conn, slug.as_str(), None).await?;
            }
            room_change(conn, room, caller).await
        })
        .await
    }

    /// `DELETE`: the host removes the room and its story. `main` always exists. Open streams
    /// of the room end.
    pub async fn delete_room(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
        precondition: Precondition<'_>,
    ) -> Result<(), ServiceError> {
        if *slug == RoomSlug::main() {
            return Err(ServiceError::MainIsPermanent);
        }
        let hub = self.hub.clone();
        self.store
            .write_opening(
                store::room_opening(slug.as_str()),
                async |conn: &mut Conn, opened: store::OpenedRows| {
                    let room = writable_room(
                        slug,
                        store::opened_room(slug.as_str(), &opened)?,
                        precondition,
                    )?;
                    if !is_host(&room, caller) {
                        return Err(ServiceError::NotHost(slug.to_string()));
                    }
                    store::delete_room(conn, slug.as_str()).await?;
                    let slug = slug.to_string();
                    let close: store::AfterCommit = Box::new(move || hub.close_room(&slug));
                    Ok(((), Some(close), None))
                },
            )
            .await?;
        Ok(())
    }
}

fn settings_json(settings: &RoomSettings) -> Result<String, ServiceError> {
    serde_json::to_string(settings)
        .map_err(|e| ServiceError::Storage(StoreError::Corrupt(format!("settings JSON: {e}"))))
}
