//! Changes to a room's words: add, fix, remove, and the host's "end sentence".

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{
    Logged, Precondition, Refusal, Rooms, ServiceError, Step, event, is_host, room_change, turns,
};
use crate::domain::{Mode, RoomSlug, Word, check_turn, display_sentence, sentence_ends_after};
use crate::model::{DeletedWord, EventKind, RoomState, StorySentence, WordView};
use crate::server::session::UserId;
use crate::server::store::{self, Conn, NewAuthor, NewWord, SentenceRow, StoreError};

/// How long an author may fix their own word.
pub const EDIT_WINDOW: Duration = Duration::from_secs(30);

impl Rooms {
    /// Adds a word from `author` to the room's open sentence (closing the sentence if the word
    /// ends it). `precondition` is `If-Match`.
    pub async fn add_word(
        &self,
        slug: &RoomSlug,
        author: &UserId,
        text: &str,
        precondition: Precondition<'_>,
    ) -> Result<WordView, ServiceError> {
        self.word_rate
            .check(author)
            .map_err(ServiceError::RateLimited)?;
        let default_name = author.default_name();
        let joined_at = store::now_rfc3339();
        let new_author = NewAuthor {
            id: author.as_str(),
            default_name: default_name.as_str(),
            now: &joined_at,
        };
        let dialect = self.store.dialect();
        let opening = store::word_opening(dialect, slug.as_str(), &new_author);
        let (view, next_turn) = self
            .change_room_opening(slug, opening, precondition, async |conn, step| {
                let settings = &step.room.settings;
                if settings.locked {
                    return Err(ServiceError::Locked(slug.to_string()));
                }
                let word = Word::parse(text, settings.max_word_length as usize)?;
                // Read with the room where the database takes several statements at once.
                let place = match store::opened_word_place(slug.as_str(), step.opened)? {
                    Some(place) => place,
                    None => store::word_place(conn, slug.as_str(), new_author).await?,
                };
                let last = place.last;
                // In a `turns` round the order decides who plays, not the double-turn rule.
                let round_after = if settings.mode == Mode::Turns {
                    Some(turns::check_turn_of(conn, step.room, author, step.now_ms).await?)
                } else {
                    check_turn(
                        settings,
                        last.as_ref().map(|w| w.author_id.as_str()),
                        author.as_str(),
                    )?;
                    None
                };
                let position = last.map_or(0, |w| w.position + 1);
                let ends_sentence = sentence_ends_after(settings, &word, position as u32);
                let word = NewWord {
                    room_slug: slug.as_str(),
                    sentence_id: place.sentence.id,
                    position,
                    version: step.version,
                    text: word.as_str(),
                    ends_sentence,
                    author_id: author.as_str(),
                    created_at: &step.now,
                };
                let view = store::word_view(&word, place.next_word_id, place.author_name);
                let change = event(EventKind::Word, step.version, &view)?;
                if !ends_sentence && round_after.is_none() {
                    // Nothing follows: the word's rows can wait for the writer's next trip.
                    let tail = store::word_tail(dialect, &word, view.id, &change);
                    return Ok(((view, None), Logged::left_to(tail, change)));
                }
                store::insert_word(conn, &word, view.id, &change).await?;
                let logged = Logged::stored(change);
                if ends_sentence {
                    let text = sentence_text(conn, place.sentence.id).await?;
                    store::finish_sentence(
                        conn,
                        slug.as_str(),
                        place.sentence.id,
                        &text,
                        step.version,
                        &step.now,
                    )
                    .await?;
                }
                match round_after {
                    Some(next) => {
                        let (logged, next) =
                            turns::word_then_turn(conn, step.room, logged, next).await?;
                        Ok(((view, next), logged))
                    }
                    None => Ok(((view, None), logged)),
                }
            })
            .await?;
        if let Some(next) = next_turn {
            self.time_turn(slug, &next);
        }
        Ok(view)
    }

    /// Fixes a word's text: its author within [`EDIT_WINDOW`] of adding it, or the host. A fix
    /// keeps the word's place; it cannot make a word start or stop ending its sentence.
    pub async fn edit_word(
        &self,
        slug: &RoomSlug,
        id: i64,
        caller: &UserId,
        text: &str,
        precondition: Precondition<'_>,
    ) -> Result<WordView, ServiceError> {
        self.change_room(slug, precondition, async |conn, step| {
            let current = find_word(conn, slug, id).await?;
            if !is_host(step.room, caller) {
                if current.author.id != caller.as_str() {
                    return Err(ServiceError::NotAllowed(Refusal::FixNotAuthor));
                }
                if !within_edit_window(&current.created_at, &step.now) {
                    return Err(ServiceError::NotAllowed(Refusal::FixTooLate));
                }
            }
            let word = Word::parse(text, step.room.settings.max_word_length as usize)?;
            // A word that closed its sentence by its punctuation must keep closing it; one that
            // did not close it must not start to (one that closed it by length may be anything).
            let closed_by_punctuation =
                Word::parse(&current.text, usize::MAX).is_ok_and(|old| old.ends_sentence());
            let changes_end = if current.ends_sentence {
                closed_by_punctuation && !word.ends_sentence()
            } else {
                word.ends_sentence()
            };
            if changes_end {
                return Err(ServiceError::EditChangesSentenceEnd);
            }
            store::update_word_text(conn, id, word.as_str(), step.version).await?;
            refresh_finished_text(conn, current.sentence_id).await?;
            let view = find_word(conn, slug, id).await?;
            let change = event(EventKind::Edit, step.version, &view)?;
            Ok((view, change.into()))
        })
        .await
    }

    /// Removes a word: its author while it is still the last word of the room, or the host
    /// (any word). The words after it in its sentence move up one place.
    pub async fn delete_word(
        &self,
        slug: &RoomSlug,
        id: i64,
        caller: &UserId,
        precondition: Precondition<'_>,
    ) -> Result<(), ServiceError> {
        self.change_room(slug, precondition, async |conn, step| {
            let current = find_word(conn, slug, id).await?;
            if !is_host(step.room, caller) {
                if current.author.id != caller.as_str() {
                    return Err(ServiceError::NotAllowed(Refusal::RemoveNotAuthor));
                }
                let open = store::current_sentence(conn, slug.as_str()).await?;
                let last = store::last_word_of_sentence(conn, open.id).await?;
                if current.sentence_id != open.id
                    || last.is_none_or(|last| last.position != current.position)
                {
                    return Err(ServiceError::NotAllowed(Refusal::RemoveNotLast));
                }
            }
            store::delete_word(conn, id, current.sentence_id, current.position).await?;
            refresh_finished_text(conn, current.sentence_id).await?;
            let change = event(
                EventKind::Delete,
                step.version,
                &DeletedWord {
                    id,
                    version: step.version,
                },
            )?;
            Ok(((), change.into()))
        })
        .await
    }

    /// The host clears the open sentence: its words are removed, and it starts again empty. The
    /// change travels as a `room` event (the room state, with the empty sentence).
    pub async fn clear_sentence(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
        precondition: Precondition<'_>,
    ) -> Result<RoomState, ServiceError> {
        self.change_room(slug, precondition, async |conn, step| {
            let sentence = hosts_open_sentence(conn, step, slug, caller).await?;
            store::delete_words_of_sentence(conn, sentence.id).await?;
            let mut room = step.room.clone();
            room.version = step.version;
            room_change(conn, room, caller).await
        })
        .await
    }

    /// The host ends the open sentence where it stands.
    pub async fn end_sentence(
        &self,
        slug: &RoomSlug,
        caller: &UserId,
        precondition: Precondition<'_>,
    ) -> Result<StorySentence, ServiceError> {
        self.change_room(slug, precondition, async |conn, step| {
            let sentence = hosts_open_sentence(conn, step, slug, caller).await?;
            let text = sentence_text(conn, sentence.id).await?;
            store::finish_sentence(
                conn,
                slug.as_str(),
                sentence.id,
                &text,
                step.version,
                &step.now,
            )
            .await?;
            let finished = StorySentence {
                sentence_id: sentence.id,
                text,
                version: step.version,
            };
            let change = event(EventKind::Sentence, step.version, &finished)?;
            Ok((finished, change.into()))
        })
        .await
    }
}

/// The open sentence, for a change only the host may make to it, and only once it has words.
async fn hosts_open_sentence(
    conn: &mut Conn,
    step: &Step<'_>,
    slug: &RoomSlug,
    caller: &UserId,
) -> Result<SentenceRow, ServiceError> {
    if !is_host(step.room, caller) {
        return Err(ServiceError::NotHost(slug.to_string()));
    }
    let sentence = store::current_sentence(conn, slug.as_str()).await?;
    match store::last_word_of_sentence(conn, sentence.id).await? {
        Some(_) => Ok(sentence),
        None => Err(ServiceError::EmptySentence),
    }
}

async fn find_word(conn: &mut Conn, slug: &RoomSlug, id: i64) -> Result<WordView, ServiceError> {
    store::word_by_id(conn, slug.as_str(), id)
        .await?
        .ok_or_else(|| ServiceError::WordNotFound {
            room: slug.to_string(),
            id,
        })
}

/// A sentence as displayed: its words in order, capitalised, punctuation attached.
async fn sentence_text(conn: &mut Conn, sentence_id: i64) -> Result<String, StoreError> {
    let words = store::words_of_sentence(conn, sentence_id).await?;
    Ok(display_sentence(words.iter().map(|w| w.text.as_str())))
}

/// After a fix or a removal, a finished sentence's stored text follows its words.
async fn refresh_finished_text(conn: &mut Conn, sentence_id: i64) -> Result<(), StoreError> {
    let text = sentence_text(conn, sentence_id).await?;
    store::set_finished_sentence_text(conn, sentence_id, &text).await
}

fn within_edit_window(created_at: &str, now: &str) -> bool {
    match (
        OffsetDateTime::parse(created_at, &Rfc3339),
        OffsetDateTime::parse(now, &Rfc3339),
    ) {
        (Ok(created), Ok(now)) => (now - created) <= EDIT_WINDOW,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::within_edit_window;

    #[test]
    fn the_edit_window_is_thirty_seconds() {
        let added = "2026-11-24T10:00:00.000Z";
        assert!(within_edit_window(added, "2026-11-24T10:00:29.999Z"));
        assert!(within_edit_window(added, "2026-11-24T10:00:30.000Z"));
        assert!(!within_edit_window(added, "2026-11-24T10:00:30.001Z"));
        assert!(!within_edit_window("garbage", "2026-11-24T10:00:00.000Z"));
    }
}
