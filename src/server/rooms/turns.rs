//! Rounds of the `turns` mode: the host starts one, the server's clock ends each turn.
//!
//! The rules are in [`crate::domain::turns`]; this is where a round is drawn, stored, announced
//! (`turn` events) and timed. Each running turn has one sleeping task that, at its deadline,
//! skips the player if they have not played. A task that wakes for a turn that has ended
//! (played, or replaced by a newer round) changes nothing, so stale tasks need no cancelling.

use rand::seq::SliceRandom;

use super::{Logged, Precondition, Rooms, ServiceError, event, is_host, state_of};
use crate::domain::{Mode, RoomSlug, Round, TurnError};
use crate::model::{EventKind, RoomState, TurnEvent, TurnView, UserRef};
use crate::server::session::UserId;
use crate::server::store::{self, ChangeRow, Conn, RoomRow, StoreError};

/// How often a running turn checks that its player still has the room open.
const PRESENCE_CHECK: std::time::Duration = std::time::Duration::from_millis(300);
/// Checks in a row a player must be missing to be skipped (a page reload is not leaving).
const ABSENT_CHECKS: u32 = 2;
/// How often each process looks for turns that ran out with no clock left to end them.
const OVERDUE_SWEEP: std::time::Duration = std::time::Duration::from_secs(1);
/// How long after its deadline a turn counts as overdue.
const OVERDUE_GRACE_MS: i64 = 500;

/// What became of a turn whose player had left.
enum AbsentSkip {
    /// Skipped: the round's next turn, or `None` when the round is over.
    Skipped(Option<Round>),
    /// The player is the host, who keeps the whole turn.
    Host,
}

impl Rooms {
    /// The host starts a round: the players present (everyone with the room open, and the
    /// host) in a random order, the first one's turn starting now. A round already running is
    /// replaced.
    pub async fn start_round(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
        precondition: Precondition<'_>,
    ) -> Result<RoomState, ServiceError> {
        let mut players = self.present_users(slug).await?;
        if !players.contains(caller) {
            players.push(caller.clone());
        }
        players.shuffle(&mut rand::rng());
        let (state, round) = self
            .change_room(slug, precondition, async |conn, step| {
                if !is_host(step.room, caller) {
                    return Err(ServiceError::NotHost(slug.to_string()));
                }
                let settings = &step.room.settings;
                if settings.mode != Mode::Turns {
                    return Err(ServiceError::NotTurnsMode(slug.to_string()));
                }
                if settings.locked {
                    return Err(ServiceError::Locked(slug.to_string()));
                }
                for player in &players {
                    // Players appear by name on every screen: give the silent ones theirs.
                    let name = player.default_name();
                    store::ensure_user(conn, player.as_str(), name.as_str(), &step.now).await?;
                }
                let round = Round::start(players, step.version, step.now_ms, settings.turn_seconds)
                    .ok_or(ServiceError::TurnNotDue)?;
                let mut room = step.room.clone();
                room.round = Some(round.clone());
                room.version = step.version;
                let change = set_round(conn, &room, step.version).await?;
                let state = state_of(conn, room, Some(caller)).await?;
                Ok(((state, round), change.into()))
            })
            .await?;
        self.time_turn(slug, &round);
        Ok(state)
    }

    /// Ends the turn `round` is at if its time is up (run by the turn's clock).
    async fn end_turn_if_due(&self, slug: &RoomSlug, round: &Round) -> Result<(), ServiceError> {
        let next = self
            .change_room(slug, None, async |conn, step| {
                let Some(current) = step.room.round.clone() else {
                    return Err(ServiceError::TurnNotDue);
                };
                if !current.is_at_same_turn(round) {
                    return Err(ServiceError::TurnNotDue);
                }
                let after = current
                    .expire(step.now_ms)
                    .ok_or(ServiceError::TurnNotDue)?;
                let mut room = step.room.clone();
                room.round = after.into_round();
                let change = set_round(conn, &room, step.version).await?;
                Ok((room.round, change.into()))
            })
            .await?;
        if let Some(next) = next {
            self.time_turn(slug, &next);
        }
        Ok(())
    }

    /// Skips the turn `round` is at because its player has left, unless the turn has ended
    /// otherwise (`TurnNotDue`) or the player is the host (who may play from the API without a
    /// stream: their turn runs its whole time).
    async fn skip_absent_player(
        &self,
        slug: &RoomSlug,
        round: &Round,
    ) -> Result<AbsentSkip, ServiceError> {
        self.change_room(slug, None, async |conn, step| {
            let Some(current) = step.room.round.clone() else {
                return Err(ServiceError::TurnNotDue);
            };
            if !current.is_at_same_turn(round) || step.now_ms >= current.deadline_ms {
                return Err(ServiceError::TurnNotDue);
            }
            if is_host(step.room, current.current_player()) {
                return Err(ServiceError::NotHost(slug.to_string()));
            }
            let mut room = step.room.clone();
            room.round = current.skip_absent(step.now_ms).into_round();
            let change = set_round(conn, &room, step.version).await?;
            Ok((room.round, change.into()))
        })
        .await
        .map(AbsentSkip::Skipped)
        .or_else(|error| match error {
            ServiceError::NotHost(_) => Ok(AbsentSkip::Host),
            error => Err(error),
        })
    }

    /// Starts the clock of the turn `round` is at. While it runs, a player who has left the
    /// room (no stream open for [`ABSENT_CHECKS`] checks in a row) is skipped at once.
    pub(super) fn time_turn(&self, slug: &RoomSlug, round: &Round) {
        let (rooms, slug, round) = (self.clone(), slug.clone(), round.clone());
        tokio::spawn(async move {
            let mut absent = 0;
            let mut watching = true;
            loop {
                let left = round.deadline_ms - store::now_ms();
                if left <= 0 {
                    break;
                }
                let step = if watching {
                    PRESENCE_CHECK.min(std::time::Duration::from_millis(left as u64))
                } else {
                    std::time::Duration::from_millis(left as u64)
                };
                tokio::time::sleep(step).await;
                if !watching || store::now_ms() >= round.deadline_ms {
                    continue;
                }
                if rooms.is_present(&slug, round.current_player()).await {
                    absent = 0;
                    continue;
                }
                absent += 1;
                if absent < ABSENT_CHECKS {
                    continue;
                }
                match rooms.skip_absent_player(&slug, &round).await {
                    Ok(AbsentSkip::Skipped(next)) => {
                        if let Some(next) = next {
                            rooms.time_turn(&slug, &next);
                        }
                        return;
                    }
                    Ok(AbsentSkip::Host) => watching = false,
                    // Ended otherwise (played, a newer round) or the room is gone.
                    Err(ServiceError::TurnNotDue | ServiceError::RoomNotFound(_)) => return,
                    Err(error) => {
                        tracing::error!(%error, room = %slug, "cannot skip a player who left");
                        watching = false;
                    }
                }
            }
            // The writer's clock decides; if the sleep woke a hair early, wait the rest.
            loop {
                match rooms.end_turn_if_due(&slug, &round).await {
                    Ok(()) | Err(ServiceError::RoomNotFound(_)) => return,
                    Err(ServiceError::TurnNotDue) => {
                        let left = round.deadline_ms - store::now_ms();
                        if left <= 0 {
                            return; // ended otherwise: played, or a newer round
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(left as u64)).await;
                    }
                    Err(error) => {
                        tracing::error!(%error, room = %slug, "cannot end a turn");
                        return;
                    }
                }
            }
        });
    }

    /// The users with the room open, in this process and (with PostgreSQL) the others, each
    /// once. Presence is kept by session user id, so every entry is one; anything else could
    /// not play, and is left out.
    async fn present_users(&self, slug: &RoomSlug) -> Result<Vec<UserId>, ServiceError> {
        let mut present = self.hub.present_users(slug.as_str());
        if let Some(presence) = &self.presence {
            let elsewhere = presence
                .users_elsewhere(slug.as_str())
                .await
                .map_err(StoreError::from)?;
            present.extend(elsewhere);
        }
        let mut players = Vec::with_capacity(present.len());
        for user in present.iter().filter_map(|user| UserId::parse(user).ok()) {
            if !players.contains(&user) {
                players.push(user);
            }
        }
        Ok(players)
    }

    /// Whether `user` has the room open, here or in another process. When the others cannot
    /// be asked, a player counts as present: nobody is skipped for a database fault.
    async fn is_present(&self, slug: &RoomSlug, user: &UserId) -> bool {
        if self.hub.is_present(slug.as_str(), user.as_str()) {
            return true;
        }
        let Some(presence) = &self.presence else {
            return false;
        };
        presence
            .is_present_elsewhere(slug.as_str(), user.as_str())
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%error, room = %slug, "cannot ask the other processes who is present");
                true
            })
    }

    /// With several processes: every [`OVERDUE_SWEEP`], ends the turns that ran out (the
    /// process timing them may be gone), until `shutdown`. Ending a turn is conditional on the
    /// round as it is stored, so each runs out once whichever process gets there first.
    pub async fn end_overdue_turns(self, shutdown: tokio_util::sync::CancellationToken) {
        let mut sweeps = tokio::time::interval(OVERDUE_SWEEP);
        sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = sweeps.tick() => {}
            }
            let rounds = match self.store.read().await {
                Ok(mut conn) => store::rooms_with_rounds(&mut conn).await,
                Err(error) => Err(error),
            };
            let rounds = match rounds {
                Ok(rounds) => rounds,
                Err(error) => {
                    tracing::warn!(%error, "cannot read the rounds being played");
                    continue;
                }
            };
            let now_ms = store::now_ms();
            for (slug, round) in rounds {
                // A moment after the deadline: the clock of the process timing it goes first.
                if round.deadline_ms + OVERDUE_GRACE_MS > now_ms {
                    continue;
                }
                let Ok(slug) = RoomSlug::parse(&slug) else {
                    continue;
                };
                match self.end_turn_if_due(&slug, &round).await {
                    Ok(()) | Err(ServiceError::TurnNotDue | ServiceError::RoomNotFound(_)) => {}
                    Err(error) => tracing::warn!(%error, room = %slug, "cannot end a turn"),
                }
            }
        }
    }

    /// Starts the clocks of the rounds that were running when the server stopped: turns that
    /// ran out meanwhile are skipped at once.
    pub async fn resume_rounds(&self) -> Result<usize, ServiceError> {
        let rounds = {
            let mut conn = self.store.read().await?;
            store::rooms_with_rounds(&mut conn).await?
        };
        let count = rounds.len();
        for (slug, round) in rounds {
            if let Ok(slug) = RoomSlug::parse(&slug) {
                self.time_turn(&slug, &round);
            }
        }
        Ok(count)
    }
}

/// In `turns` mode, whether `author` may add a word now; `Ok` with the round as it is after
/// their word (`None`: the round is over). A refusal names whose turn it is.
pub(super) async fn check_turn_of(
    conn: &mut Conn,
    room: &RoomRow,
    author: &UserId,
    now_ms: i64,
) -> Result<Option<Round>, ServiceError> {
    let round = room.round.as_ref().ok_or(TurnError::NoRound)?;
    match round.check_player(author, now_ms) {
        Ok(()) => Ok(round.clone().played(now_ms).into_round()),
        // The domain names the player by id; the message shows their name.
        Err(TurnError::NotYourTurn { .. }) => Err(TurnError::NotYourTurn {
            player: name_of(conn, round.current_player()).await?,
        }
        .into()),
        Err(error) => Err(error.into()),
    }
}

/// Stores `room.round` and makes the `turn` event announcing it at `version`.
pub(super) async fn set_round(
    conn: &mut Conn,
    room: &RoomRow,
    version: i64,
) -> Result<ChangeRow, ServiceError> {
    store::set_round(conn, &room.slug, room.round.as_ref()).await?;
    let turn = turn_view(conn, room).await?;
    event(EventKind::Turn, version, &TurnEvent { turn, version })
}

/// Whose turn it is in `room`, as the room state shows it.
pub(super) async fn turn_view(
    conn: &mut Conn,
    room: &RoomRow,
) -> Result<Option<TurnView>, StoreError> {
    let Some(round) = room
        .round
        .as_ref()
        .filter(|_| room.settings.mode == Mode::Turns)
    else {
        return Ok(None);
    };
    let player = round.current_player();
    Ok(Some(TurnView {
        user: UserRef {
            name: name_of(conn, player).await?,
            id: player.to_string(),
        },
        deadline: store::rfc3339_from_ms(round.deadline_ms),
    }))
}

/// The name `user` plays under: the one they chose, or else their default one.
async fn name_of(conn: &mut Conn, user: &UserId) -> Result<String, StoreError> {
    Ok(match store::user_name(conn, user.as_str()).await? {
        Some(name) => name,
        None => user.default_name().into_string(),
    })
}

/// The events of a word that passed the turn: the word, then the `turn` at the next version.
pub(super) async fn word_then_turn(
    conn: &mut Conn,
    room: &RoomRow,
    word: Logged,
    next: Option<Round>,
) -> Result<(Logged, Option<Round>), ServiceError> {
    let mut room = room.clone();
    room.round = next.clone();
    let version = word.last_version().unwrap_or(room.version) + 1;
    let turn = set_round(conn, &room, version).await?;
    Ok((word.then(turn), next))
}
