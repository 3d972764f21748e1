//! Who may add the next word: the double-turn rule any room may set ([`check_turn`]), and the
//! rounds of the `turns` mode ([`Round`]): the players present when the host starts a round play
//! one word each, in a drawn order, each within `turn_seconds`; whoever lets their time run out
//! is skipped.
//!
//! The server owns the clock: every function here takes the time (`now_ms`, milliseconds since
//! the Unix epoch) as an argument, so the rules are plain and testable, and the same on both
//! targets. Drawing the order is the caller's job (it holds the random source).

use serde::{Deserialize, Serialize};

use super::settings::RoomSettings;
use super::user::UserId;

/// Why a player may not add a word now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum TurnError {
    /// The player wrote the last word of the current sentence and the room
    /// forbids two words in a row.
    #[error("you cannot add two words in a row: wait for someone else to play")]
    DoubleTurn,
    /// In `turns` mode, it is someone else's turn (`player`: their id, or their name once the
    /// server has looked it up).
    #[error("it is {player}'s turn, not yours: wait until it is yours")]
    NotYourTurn { player: String },
    /// In `turns` mode, the current player's time ran out.
    #[error("your time ran out: the turn has passed to the next player")]
    TimeUp,
    /// In `turns` mode, no round is being played: the host starts one.
    #[error("no round is being played: words are taken once the host starts a round")]
    NoRound,
}

impl TurnError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            TurnError::DoubleTurn => "double_turn",
            TurnError::NotYourTurn { .. } => "not_your_turn",
            TurnError::TimeUp => "time_up",
            TurnError::NoRound => "no_round",
        }
    }
}

/// The double-turn rule: with `no_double_turn`, `author` may not add a word
/// when they wrote the last word of the current sentence
/// (`last_author`, `None` when the sentence is still empty).
///
/// Only this rule is checked here: `locked` and the [`Mode::Turns`](super::Mode::Turns) schedule
/// depend on state (membership, clock) that this pure function does not see.
pub fn check_turn(
    settings: &RoomSettings,
    last_author: Option<&str>,
    author: &str,
) -> Result<(), TurnError> {
    if settings.no_double_turn && last_author == Some(author) {
        Err(TurnError::DoubleTurn)
    } else {
        Ok(())
    }
}

/// A round in progress.
///
/// Stored with the room (as JSON) so that it survives a restart: a turn whose deadline passed
/// while the server was down is skipped when it comes back.
///
/// There is always a current player: a round has at least one player and its turn is always
/// one of theirs. [`Round::start`] and the turn changes keep it so, and deserialising checks it,
/// so a stored round that breaks it, or that names a player by anything but a [`UserId`], is
/// refused rather than played.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredRound")]
pub struct Round {
    /// The room version at which the round started: tells this round from the next one.
    pub started_version: i64,
    /// User ids, in playing order; never empty.
    players: Vec<UserId>,
    /// Index into `players` of whose turn it is; always within it.
    current: usize,
    /// When the current turn ends (ms since the Unix epoch).
    pub deadline_ms: i64,
    /// The length of one turn (ms), fixed when the round starts.
    pub turn_ms: i64,
}

/// A [`Round`] as stored, before it is checked. The same fields, so the JSON is the same.
#[derive(Deserialize)]
struct StoredRound {
    started_version: i64,
    players: Vec<UserId>,
    current: usize,
    deadline_ms: i64,
    turn_ms: i64,
}

/// Why a stored round cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoundError {
    /// Nobody plays in it.
    #[error("the round has no players")]
    NoPlayers,
    /// Its turn is past its last player.
    #[error("the round is at turn {current} but has {players} players")]
    NoSuchTurn {
        /// The stored index of the current turn.
        current: usize,
        /// How many players the round has.
        players: usize,
    },
}

impl TryFrom<StoredRound> for Round {
    type Error = RoundError;

    fn try_from(stored: StoredRound) -> Result<Round, RoundError> {
        if stored.players.is_empty() {
            return Err(RoundError::NoPlayers);
        }
        if stored.current >= stored.players.len() {
            return Err(RoundError::NoSuchTurn {
                current: stored.current,
                players: stored.players.len(),
            });
        }
        Ok(Round {
            started_version: stored.started_version,
            players: stored.players,
            current: stored.current,
            deadline_ms: stored.deadline_ms,
            turn_ms: stored.turn_ms,
        })
    }
}

/// What became of a round after a turn ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterTurn {
    /// The next player's turn.
    Next(Round),
    /// Everyone has had their turn.
    Over,
}

impl AfterTurn {
    pub fn into_round(self) -> Option<Round> {
        match self {
            AfterTurn::Next(round) => Some(round),
            AfterTurn::Over => None,
        }
    }
}

impl Round {
    /// A round of `players` (already in their drawn order, without repeats), the first one's
    /// turn starting at `now_ms`. `None` when there is nobody to play.
    pub fn start(
        players: Vec<UserId>,
        started_version: i64,
        now_ms: i64,
        turn_seconds: u32,
    ) -> Option<Round> {
        if players.is_empty() {
            return None;
        }
        let turn_ms = i64::from(turn_seconds) * 1000;
        Some(Round {
            started_version,
            players,
            current: 0,
            deadline_ms: now_ms.saturating_add(turn_ms),
            turn_ms,
        })
    }

    /// The user whose turn it is.
    pub fn current_player(&self) -> &UserId {
        // Always within `players`: see the invariant on [`Round`].
        &self.players[self.current]
    }

    /// Whether `other` is this round at the same turn: a clock set for the turn `other` was at
    /// may end this one, and otherwise the turn ended some other way.
    pub fn is_at_same_turn(&self, other: &Round) -> bool {
        self.started_version == other.started_version && self.current == other.current
    }

    /// Whether `player` may add a word at `now_ms`: it is their turn and their time is not up.
    /// The error names the user whose turn it is (by id: the caller turns it into a name).
    pub fn check_player(&self, player: &UserId, now_ms: i64) -> Result<(), TurnError> {
        if now_ms >= self.deadline_ms {
            return Err(TurnError::TimeUp);
        }
        if self.current_player() != player {
            return Err(TurnError::NotYourTurn {
                player: self.current_player().to_string(),
            });
        }
        Ok(())
    }

    /// The current player has played at `now_ms`: the next one has a whole turn from now.
    pub fn played(self, now_ms: i64) -> AfterTurn {
        let next_deadline_ms = now_ms.saturating_add(self.turn_ms);
        self.advance(next_deadline_ms)
    }

    /// The current player has left (closed every page of the room) at `now_ms`: their turn is
    /// skipped now, and the next player has a whole turn from now.
    pub fn skip_absent(self, now_ms: i64) -> AfterTurn {
        let next_deadline_ms = now_ms.saturating_add(self.turn_ms);
        self.advance(next_deadline_ms)
    }

    /// Skips every turn whose deadline is at or before `now_ms`, each next turn starting when
    /// the one before ran out. `None` when no turn ran out (nothing changes).
    pub fn expire(self, now_ms: i64) -> Option<AfterTurn> {
        if now_ms < self.deadline_ms {
            return None;
        }
        let mut round = self;
        loop {
            let next_deadline = round.deadline_ms.saturating_add(round.turn_ms);
            match round.advance(next_deadline) {
                AfterTurn::Next(next) if next.deadline_ms <= now_ms => round = next,
                after => return Some(after),
            }
        }
    }

    fn advance(mut self, next_deadline_ms: i64) -> AfterTurn {
        if self.current + 1 >= self.players.len() {
            return AfterTurn::Over;
        }
        self.current += 1;
        self.deadline_ms = next_deadline_ms;
        AfterTurn::Next(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{V, deserialize_map};
    use super::*;

    /// Ana, Luis and Eva, in that order.
    fn ana_luis_eva() -> [UserId; 3] {
        [1, 2, 3].map(UserId::from_u128)
    }

    #[test]
    fn double_turn_is_rejected_only_when_enabled() {
        let on = RoomSettings::default();
        let off = RoomSettings {
            no_double_turn: false,
            ..RoomSettings::default()
        };
        assert_eq!(
            check_turn(&on, Some("ana"), "ana"),
            Err(TurnError::DoubleTurn)
        );
        assert_eq!(check_turn(&on, Some("ana"), "luis"), Ok(()));
        assert_eq!(check_turn(&on, None, "ana"), Ok(()));
        assert_eq!(check_turn(&off, Some("ana"), "ana"), Ok(()));
        assert_eq!(TurnError::DoubleTurn.code(), "double_turn");
        let parsed: TurnError =
            deserialize_map(vec![("code", V::S("double_turn"))]).expect("deserializes");
        assert_eq!(parsed, TurnError::DoubleTurn);
    }

    #[test]
    fn nobody_present_means_no_round() {
        assert_eq!(Round::start(Vec::new(), 1, 0, 30), None);
    }

    #[test]
    fn players_play_in_order_each_with_a_whole_turn() {
        let [ana, luis, eva] = ana_luis_eva();
        let round =
            Round::start(vec![ana.clone(), luis.clone(), eva.clone()], 7, 1_000, 30).unwrap();
        assert_eq!(round.current_player(), &ana);
        assert_eq!(round.deadline_ms, 31_000);
        assert_eq!(round.check_player(&ana, 30_999), Ok(()));
        assert_eq!(
            round.check_player(&luis, 2_000),
            Err(TurnError::NotYourTurn {
                player: ana.to_string()
            })
        );
        let AfterTurn::Next(round) = round.played(10_000) else {
            panic!("luis is next")
        };
        assert_eq!(round.current_player(), &luis);
        assert_eq!(round.deadline_ms, 40_000);
        assert_eq!(round.started_version, 7);
        let AfterTurn::Next(round) = round.played(11_000) else {
            panic!("eva is next")
        };
        assert_eq!(round.current_player(), &eva);
        assert_eq!(round.played(12_000), AfterTurn::Over);
    }

    #[test]
    fn time_up_is_refused_even_for_the_current_player() {
        let [ana, luis, _] = ana_luis_eva();
        let round = Round::start(vec![ana.clone(), luis], 1, 0, 5).unwrap();
        assert_eq!(round.check_player(&ana, 5_000), Err(TurnError::TimeUp));
    }

    #[test]
    fn a_player_who_waits_is_skipped() {
        let [ana, luis, eva] = ana_luis_eva();
        let round = Round::start(vec![ana, luis.clone(), eva], 1, 0, 10).unwrap();
        assert_eq!(round.clone().expire(9_999), None);
        let Some(AfterTurn::Next(round)) = round.expire(10_000) else {
            panic!("ana's turn ran out")
        };
        assert_eq!(round.current_player(), &luis);
        // The next turn starts when the last one ran out, not when the server noticed.
        assert_eq!(round.deadline_ms, 20_000);
    }

    #[test]
    fn a_long_pause_skips_every_turn_that_ran_out() {
        let [ana, luis, eva] = ana_luis_eva();
        let round = Round::start(vec![ana, luis, eva.clone()], 1, 0, 10).unwrap();
        let Some(AfterTurn::Next(round)) = round.clone().expire(25_000) else {
            panic!("eva's turn is still running")
        };
        assert_eq!(round.current_player(), &eva);
        assert_eq!(round.deadline_ms, 30_000);
        assert_eq!(round.expire(30_000), Some(AfterTurn::Over));
    }

    #[test]
    fn a_turn_is_the_same_only_in_the_same_round_at_the_same_player() {
        let [ana, luis, _] = ana_luis_eva();
        let round = Round::start(vec![ana.clone(), luis.clone()], 1, 0, 10).unwrap();
        assert!(round.is_at_same_turn(&round.clone()));
        let AfterTurn::Next(next) = round.clone().played(1_000) else {
            panic!("luis is next")
        };
        assert!(!next.is_at_same_turn(&round));
        let newer = Round::start(vec![ana, luis], 2, 0, 10).unwrap();
        assert!(!newer.is_at_same_turn(&round));
    }

    /// The JSON of a round as the store keeps it (the format of earlier versions).
    const STORED: &str = r#"{"started_version":7,"players":["00000000000000000000000000000001","00000000000000000000000000000002"],"current":1,"deadline_ms":31000,"turn_ms":30000}"#;

    #[test]
    fn a_round_is_stored_as_before_with_plain_string_ids() {
        let [ana, luis, _] = ana_luis_eva();
        let round = Round::start(vec![ana, luis.clone()], 7, 1_000, 30).unwrap();
        let AfterTurn::Next(round) = round.played(1_000) else {
            panic!("luis is next")
        };
        assert_eq!(serde_json::to_string(&round).unwrap(), STORED);
        let stored: Round = serde_json::from_str(STORED).unwrap();
        assert_eq!(stored, round);
        assert_eq!(stored.current_player(), &luis);
    }

    #[test]
    fn a_stored_round_that_breaks_the_rules_is_refused() {
        let id = "00000000000000000000000000000001";
        let stored = |players: &str, current: usize| {
            format!(
                r#"{{"started_version":1,"players":{players},"current":{current},"deadline_ms":0,"turn_ms":5000}}"#
            )
        };
        assert!(serde_json::from_str::<Round>(&stored(&format!(r#"["{id}"]"#), 0)).is_ok());
        let refusals = [
            (stored(r#"["ana"]"#, 0), "not allowed in a user id"),
            (
                stored(&format!(r#"["{id}", "ANA"]"#), 0),
                "not allowed in a user id",
            ),
            (stored(r#"[""]"#, 0), "a user id has 32 hex digits, not 0"),
            (stored("[]", 0), "the round has no players"),
            (
                stored(&format!(r#"["{id}"]"#), 1),
                "the round is at turn 1 but has 1 players",
            ),
        ];
        for (json, why) in refusals {
            let error = serde_json::from_str::<Round>(&json)
                .unwrap_err()
                .to_string();
            assert!(error.contains(why), "{json}: {error}");
        }
    }
}
