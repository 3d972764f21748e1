//! Rooms, sentences and words.

use std::sync::LazyLock;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{ChangeRow, Conn, Dialect, Opening, OwnedArguments, StoreError, Tail};
use crate::domain::{RoomSettings, Round};
use crate::model::{AuthoredSentence, Contributor, StorySentence, UserRef, WordView};

/// A room as stored.
#[derive(Debug, Clone)]
pub struct RoomRow {
    pub slug: String,
    pub title: String,
    pub host_id: Option<String>,
    pub version: i64,
    pub settings: RoomSettings,
    /// When the room last changed in any way (RFC 3339): its `Last-Modified`.
    pub updated_at: String,
    /// The round being played in `turns` mode.
    pub round: Option<Round>,
}

/// The open sentence of a room.
#[derive(Debug, Clone, Copy)]
pub struct SentenceRow {
    pub id: i64,
}

/// What the turn rule and the next position need to know of a sentence's last word.
#[derive(Debug, Clone)]
pub struct WordRow {
    pub author_id: String,
    pub position: i64,
}

const WORD_COLUMNS: &str = "w.id, w.version, w.sentence_id, w.position, w.text, w.ends_sentence, \
     w.author_id, u.name AS author_name, w.created_at";

fn word_from_row(row: &AnyRow) -> Result<WordView, StoreError> {
    Ok(WordView {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        sentence_id: row.try_get("sentence_id")?,
        position: row.try_get("position")?,
        text: row.try_get("text")?,
        ends_sentence: flag(row, "ends_sentence")?,
        author: UserRef {
            id: row.try_get("author_id")?,
            name: row.try_get("author_name")?,
        },
        created_at: row.try_get("created_at")?,
    })
}

/// A yes/no column: SQLite keeps it as an integer, PostgreSQL as a boolean.
fn flag(row: &AnyRow, column: &str) -> Result<bool, StoreError> {
    match row.try_get::<bool, _>(column) {
        Ok(flag) => Ok(flag),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

const ROOM_BY_SLUG: &str =
    "SELECT slug, title, host_id, version, settings, updated_at, round FROM rooms WHERE slug = $1";

pub async fn room(conn: &mut Conn, slug: &str) -> Result<Option<RoomRow>, StoreError> {
    let row = sqlx::query(ROOM_BY_SLUG)
        .bind(slug)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|row| room_from_row(slug, &row)).transpose()
}

/// The read of a room that a change to it starts with: see [`Store::write_opening`].
///
/// [`Store::write_opening`]: super::Store::write_opening
pub fn room_opening(slug: &str) -> Opening {
    Opening {
        sql: ROOM_BY_SLUG,
        arguments: OwnedArguments::default().text(slug),
        for_update: true,
    }
}

/// The room read by [`room_opening`] or [`word_opening`], if it exists.
pub fn opened_room(slug: &str, rows: &[AnyRow]) -> Result<Option<RoomRow>, StoreError> {
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    // `word_opening` reads the room as one row whatever happens, NULLs where there is none.
    if row.try_get::<Option<String>, _>("slug")?.is_none() {
        return Ok(None);
    }
    room_from_row(slug, row).map(Some)
}

/// A room's row as one row whatever happens: NULLs where there is no such room, so that in a
/// query of several statements the rows of the ones after it stay in their places.
const ROOM_BY_SLUG_OR_NULLS: &str = "SELECT r.slug, r.title, r.host_id, r.version, r.settings, \
     r.updated_at, r.round FROM (SELECT 1) AS one LEFT JOIN rooms r ON r.slug = $4";

/// The read a new word starts with (see [`Store::write_opening`]): its room, and on SQLite, in
/// the same round trip, where the word goes and who writes it ([`word_place`]; read again by
/// [`opened_word_place`]). A word is the change made most often, and the writer is the one
/// place where changes wait for each other: a round trip fewer there is more words per second.
/// The author's row is made sure of before the room's rules are checked; a word they refuse
/// rolls it back with the rest of the change.
///
/// [`Store::write_opening`]: super::Store::write_opening
pub fn word_opening(dialect: Dialect, slug: &str, author: &NewAuthor<'_>) -> Opening {
    if dialect == Dialect::Postgres {
        return room_opening(slug);
    }
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("{ROOM_BY_SLUG_OR_NULLS}; {}", *SQLITE_WORD_PLACE));
    Opening {
        sql: SQL.as_str(),
        arguments: OwnedArguments::default()
            .text(author.id)
            .text(author.default_name)
            .text(author.now)
            .text(slug),
        for_update: true,
    }
}

/// Where a new word goes, as [`word_opening`] read it: `None` where it read only the room.
pub fn opened_word_place(slug: &str, rows: &[AnyRow]) -> Result<Option<WordPlace>, StoreError> {
    match rows {
        [] | [_] => Ok(None),
        [_room, place @ ..] => sqlite_word_place_of(slug, place).map(Some),
    }
}

fn room_from_row(slug: &str, row: &AnyRow) -> Result<RoomRow, StoreError> {
    let settings: String = row.try_get("settings")?;
    let settings = serde_json::from_str(&settings)
        .map_err(|e| StoreError::Corrupt(format!("settings of room {slug}: {e}")))?;
    let round = parse_round(slug, row.try_get("round")?)?;
    Ok(RoomRow {
        round,
        slug: row.try_get("slug")?,
        title: row.try_get("title")?,
        host_id: row.try_get("host_id")?,
        version: row.try_get("version")?,
        settings,
        updated_at: row.try_get("updated_at")?,
    })
}

fn parse_round(slug: &str, json: Option<String>) -> Result<Option<Round>, StoreError> {
    json.map(|json| {
        serde_json::from_str(&json)
            .map_err(|e| StoreError::Corrupt(format!("round of room {slug}: {e}")))
    })
    .transpose()
}

/// Sets (or, with `None`, ends) the round a room is playing.
pub async fn set_round(
    conn: &mut Conn,
    slug: &str,
    round: Option<&Round>,
) -> Result<(), StoreError> {
    let json = round
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("round JSON: {e}")))?;
    sqlx::query("UPDATE rooms SET round = $1 WHERE slug = $2")
        .bind(json)
        .bind(slug)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Every room playing a round, with it (to keep their clocks running after a restart).
pub async fn rooms_with_rounds(conn: &mut Conn) -> Result<Vec<(String, Round)>, StoreError> {
    let rows = sqlx::query("SELECT slug, round FROM rooms WHERE round IS NOT NULL")
        .fetch_all(&mut *conn)
        .await?;
    let mut rounds = Vec::with_capacity(rows.len());
    for row in &rows {
        let slug: String = row.try_get("slug")?;
        if let Some(round) = parse_round(&slug, row.try_get("round")?)? {
            rounds.push((slug, round));
        }
    }
    Ok(rounds)
}

pub async fn insert_room(
    conn: &mut Conn,
    slug: &str,
    title: &str,
    host_id: &str,
    settings_json: &str,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO rooms (slug, title, host_id, version, settings, created_at, updated_at) \
         VALUES ($1, $2, $3, 0, $4, $5, $6)",
    )
    .bind(slug)
    .bind(title)
    .bind(host_id)
    .bind(settings_json)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn update_room(
    conn: &mut Conn,
    slug: &str,
    title: &str,
    settings_json: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE rooms SET title = $1, settings = $2 WHERE slug = $3")
        .bind(title)
        .bind(settings_json)
        .bind(slug)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Deletes a room with everything in it (words, sentences and change log go with it).
pub async fn delete_room(conn: &mut Conn, slug: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM rooms WHERE slug = $1")
        .bind(slug)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_room_version(
    conn: &mut Conn,
    slug: &str,
    version: i64,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE rooms SET version = $1, updated_at = $2 WHERE slug = $3")
        .bind(version)
        .bind(now)
        .bind(slug)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn current_sentence(conn: &mut Conn, slug: &str) -> Result<SentenceRow, StoreError> {
    let id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM sentences WHERE room_slug = $1 AND finished_version IS NULL",
    )
    .bind(slug)
    .fetch_optional(&mut *conn)
    .await?;
    id.map(|id| SentenceRow { id })
        .ok_or_else(|| StoreError::Corrupt(format!("room {slug} has no open sentence")))
}

pub async fn last_word_of_sentence(
    conn: &mut Conn,
    sentence_id: i64,
) -> Result<Option<WordRow>, StoreError> {
    let row = sqlx::query(
        "SELECT author_id, position FROM words WHERE sentence_id = $1 ORDER BY position DESC LIMIT 1",
    )
    .bind(sentence_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| {
        Ok(WordRow {
            author_id: row.try_get("author_id")?,
            position: row.try_get("position")?,
        })
    })
    .transpose()
}

/// Where a new word goes, and who writes it, read in one round trip: the room's open sentence,
/// its last word (if any), and the author's name — their row made sure of first (named
/// `default_name` if they are new), so the word can name them without reading it back.
pub async fn word_place(
    conn: &mut Conn,
    slug: &str,
    author: NewAuthor<'_>,
) -> Result<WordPlace, StoreError> {
    match Dialect::of(conn) {
        Dialect::Sqlite => sqlite_word_place(conn, slug, author).await,
        Dialect::Postgres => postgres_word_place(conn, slug, author).await,
    }
}

/// The author's row made sure of, answering with their name (`DO UPDATE` with no real change,
/// so that `RETURNING` also answers for an existing user).
const AUTHOR_NAMED: &str = "INSERT INTO users (id, name, created_at) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET name = users.name RETURNING name";

/// The room's open sentence, with its last word if it has one.
const OPEN_SENTENCE_AND_LAST_WORD: &str = "SELECT s.id, w.author_id, w.position FROM sentences s \
     LEFT JOIN words w ON w.sentence_id = s.id \
     WHERE s.room_slug = $4 AND s.finished_version IS NULL \
     ORDER BY w.position DESC LIMIT 1";

/// [`word_place`] on SQLite: three statements in one trip — the author's name, the id the next
/// word gets, the sentence. `words.id` is `AUTOINCREMENT`: the next is one past the highest ever
/// given (`sqlite_sequence`), which only this writer moves.
async fn sqlite_word_place(
    conn: &mut Conn,
    slug: &str,
    author: NewAuthor<'_>,
) -> Result<WordPlace, StoreError> {
    let rows = sqlx::query(SQLITE_WORD_PLACE.as_str())
        .bind(author.id)
        .bind(author.default_name)
        .bind(author.now)
        .bind(slug)
        .fetch_all(&mut *conn)
        .await?;
    sqlite_word_place_of(slug, &rows)
}

/// [`word_place`]'s statements on SQLite (arguments: author id, default name, now, room).
static SQLITE_WORD_PLACE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{AUTHOR_NAMED}; \
         SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'words'), 0) + 1 AS next_id; \
         {OPEN_SENTENCE_AND_LAST_WORD}"
    )
});

/// A [`WordPlace`] from the rows of [`SQLITE_WORD_PLACE`].
fn sqlite_word_place_of(slug: &str, rows: &[AnyRow]) -> Result<WordPlace, StoreError> {
    let (named, next, sentence) = match rows {
        [named, next, sentence] => (named, next, sentence),
        [_, _] => {
            return Err(StoreError::Corrupt(format!(
                "room {slug} has no open sentence"
            )));
        }
        _ => {
            return Err(StoreError::Corrupt(format!(
                "room {slug}: {} rows for an author and an open sentence",
                rows.len()
            )));
        }
    };
    word_place_of(sentence, named.try_get("name")?, next.try_get("next_id")?)
}

/// A [`WordPlace`] from the row of the open sentence and its last word
/// ([`OPEN_SENTENCE_AND_LAST_WORD`]'s columns).
fn word_place_of(
    sentence: &AnyRow,
    author_name: String,
    next_word_id: i64,
) -> Result<WordPlace, StoreError> {
    let author_id: Option<String> = sentence.try_get("author_id")?;
    let position: Option<i64> = sentence.try_get("position")?;
    Ok(WordPlace {
        sentence: SentenceRow {
            id: sentence.try_get("id")?,
        },
        last: author_id
            .zip(position)
            .map(|(author_id, position)| WordRow {
                author_id,
                position,
            }),
        author_name,
        next_word_id,
    })
}

/// [`word_place`] on PostgreSQL: one statement — the author's upsert in a `WITH`, the next
/// word's id taken from its sequence once, the sentence.
async fn postgres_word_place(
    conn: &mut Conn,
    slug: &str,
    author: NewAuthor<'_>,
) -> Result<WordPlace, StoreError> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH author AS ({AUTHOR_NAMED}), \
                  sentence AS ({OPEN_SENTENCE_AND_LAST_WORD}) \
             SELECT author.name, \
                    (SELECT nextval(pg_get_serial_sequence('words', 'id'))) AS next_id, \
                    sentence.id, sentence.author_id, sentence.position \
             FROM author LEFT JOIN sentence ON true"
        )
    });
    let row = sqlx::query(SQL.as_str())
        .bind(author.id)
        .bind(author.default_name)
        .bind(author.now)
        .bind(slug)
        .fetch_one(&mut *conn)
        .await?;
    if row.try_get::<Option<i64>, _>("id")?.is_none() {
        return Err(StoreError::Corrupt(format!(
            "room {slug} has no open sentence"
        )));
    }
    word_place_of(&row, row.try_get("name")?, row.try_get("next_id")?)
}

/// A word's author, to be made sure of as it writes.
pub struct NewAuthor<'a> {
    pub id: &'a str,
    /// Their name if they have no row yet.
    pub default_name: &'a str,
    pub now: &'a str,
}

/// See [`word_place`].
#[derive(Debug)]
pub struct WordPlace {
    pub sentence: SentenceRow,
    pub last: Option<WordRow>,
    pub author_name: String,
    /// The id [`insert_word`] gives the next word.
    pub next_word_id: i64,
}

/// The fields of a new word; the caller has checked it against the domain rules.
pub struct NewWord<'a> {
    pub room_slug: &'a str,
    pub sentence_id: i64,
    pub position: i64,
    pub version: i64,
    pub text: &'a str,
    pub ends_sentence: bool,
    pub author_id: &'a str,
    pub created_at: &'a str,
}

/// A new word as it will be stored: its id from [`word_place`], its author named.
pub fn word_view(word: &NewWord<'_>, id: i64, author_name: String) -> WordView {
    WordView {
        id,
        version: word.version,
        sentence_id: word.sentence_id,
        position: word.position,
        text: word.text.to_owned(),
        ends_sentence: word.ends_sentence,
        author: UserRef {
            id: word.author_id.to_owned(),
            name: author_name,
        },
        created_at: word.created_at.to_owned(),
    }
}

/// A new word (with the id [`word_place`] gave it) and the change that logs it, as one last
/// write ([`Tail`]): the change's event carries the word's id, so without the id known
/// beforehand it would take two round trips. Two statements on SQLite, one on PostgreSQL (the
/// change inserted from the word's `RETURNING`, so both or neither).
pub fn word_tail(dialect: Dialect, word: &NewWord<'_>, id: i64, change: &ChangeRow) -> Tail {
    let (sql, rows) = match dialect {
        Dialect::Sqlite => (
            "INSERT INTO words (id, room_slug, sentence_id, position, version, text, ends_sentence, author_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9); \
             INSERT INTO changes (room_slug, version, kind, data, created_at) VALUES ($10, $11, $12, $13, $14)",
            2,
        ),
        Dialect::Postgres => (
            "WITH word AS (INSERT INTO words (id, room_slug, sentence_id, position, version, text, ends_sentence, author_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id) \
             INSERT INTO changes (room_slug, version, kind, data, created_at) \
             SELECT $10, $11, $12, $13, $14 FROM word",
            1,
        ),
    };
    let arguments = OwnedArguments::default()
        .integer(id)
        .text(word.room_slug)
        .integer(word.sentence_id)
        .integer(word.position)
        .integer(word.version)
        .text(word.text)
        .bool(word.ends_sentence)
        .text(word.author_id)
        .text(word.created_at)
        .text(word.room_slug)
        .integer(change.version)
        .text(change.kind.as_str())
        .text(&change.data)
        .text(word.created_at);
    Tail::new(sql, rows, arguments).seen_by(
        "SELECT count(*) FROM changes WHERE room_slug = $1 AND version = $2",
        OwnedArguments::default()
            .text(word.room_slug)
            .integer(change.version),
    )
}

/// Stores a new word and its change now, in one round trip ([`word_tail`]).
pub async fn insert_word(
    conn: &mut Conn,
    word: &NewWord<'_>,
    id: i64,
    change: &ChangeRow,
) -> Result<(), StoreError> {
    word_tail(Dialect::of(conn), word, id, change)
        .run(conn)
        .await
        .map_err(|error| match error {
            StoreError::Corrupt(why) => StoreError::Corrupt(format!("storing word {id}: {why}")),
            error => error,
        })
}

/// A fixed word: new text, and the version of the change as its version.
pub async fn update_word_text(
    conn: &mut Conn,
    id: i64,
    text: &str,
    version: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE words SET text = $1, version = $2 WHERE id = $3")
        .bind(text)
        .bind(version)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes a word; the words after it in its sentence move up one place.
pub async fn delete_word(
    conn: &mut Conn,
    id: i64,
    sentence_id: i64,
    position: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM words WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    // Two steps through negative positions, so that (sentence, position) stays unique on the
    // way whatever order the rows are updated in.
    sqlx::query("UPDATE words SET position = -position WHERE sentence_id = $1 AND position > $2")
        .bind(sentence_id)
        .bind(position)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE words SET position = -position - 1 WHERE sentence_id = $1 AND position < 0",
    )
    .bind(sentence_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Removes every word of a sentence.
pub async fn delete_words_of_sentence(conn: &mut Conn, sentence_id: i64) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM words WHERE sentence_id = $1")
        .bind(sentence_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn word_by_id(
    conn: &mut Conn,
    slug: &str,
    id: i64,
) -> Result<Option<WordView>, StoreError> {
    let sql = format!(
        "SELECT {WORD_COLUMNS} FROM words w JOIN users u ON u.id = w.author_id \
         WHERE w.room_slug = $1 AND w.id = $2"
    );
    let row = sqlx::query(&sql)
        .bind(slug)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(word_from_row).transpose()
}

pub async fn words_of_sentence(
    conn: &mut Conn,
    sentence_id: i64,
) -> Result<Vec<WordView>, StoreError> {
    let sql = format!(
        "SELECT {WORD_COLUMNS} FROM words w JOIN users u ON u.id = w.author_id \
         WHERE w.sentence_id = $1 ORDER BY w.position"
    );
    let rows = sqlx::query(&sql)
        .bind(sentence_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(word_from_row).collect()
}

/// Words of a room with a version above `after`, in version order, at most `limit`.
pub async fn words_after(
    conn: &mut Conn,
    slug: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<WordView>, StoreError> {
    let sql = format!(
        "SELECT {WORD_COLUMNS} FROM words w JOIN users u ON u.id = w.author_id \
         WHERE w.room_slug = $1 AND w.version > $2 ORDER BY w.version LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(slug)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(word_from_row).collect()
}

/// Closes the open sentence at `version` with its display text, and opens the next one.
pub async fn finish_sentence(
    conn: &mut Conn,
    slug: &str,
    sentence_id: i64,
    text: &str,
    version: i64,
    now: &str,
) -> Result<SentenceRow, StoreError> {
    sqlx::query(
        "UPDATE sentences SET finished_version = $1, finished_at = $2, text = $3 WHERE id = $4",
    )
    .bind(version)
    .bind(now)
    .bind(text)
    .bind(sentence_id)
    .execute(&mut *conn)
    .await?;
    open_sentence(conn, slug).await
}

/// A finished sentence's stored text, after one of its words changed (no-op on the open one).
pub async fn set_finished_sentence_text(
    conn: &mut Conn,
    sentence_id: i64,
    text: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sentences SET text = $1 WHERE id = $2 AND finished_version IS NOT NULL")
        .bind(text)
        .bind(sentence_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn open_sentence(conn: &mut Conn, slug: &str) -> Result<SentenceRow, StoreError> {
    let id: i64 = sqlx::query_scalar("INSERT INTO sentences (room_slug) VALUES ($1) RETURNING id")
        .bind(slug)
        .fetch_one(&mut *conn)
        .await?;
    Ok(SentenceRow { id })
}

pub async fn finished_sentence_count(conn: &mut Conn, slug: &str) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM sentences WHERE room_slug = $1 AND finished_version IS NOT NULL",
    )
    .bind(slug)
    .fetch_one(&mut *conn)
    .await?)
}

/// The finished sentences of a room, oldest first.
pub async fn story(conn: &mut Conn, slug: &str) -> Result<Vec<StorySentence>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, text, finished_version FROM sentences \
         WHERE room_slug = $1 AND finished_version IS NOT NULL AND text <> '' \
         ORDER BY finished_version",
    )
    .bind(slug)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StorySentence {
                sentence_id: row.try_get("id")?,
                text: row
                    .try_get::<Option<String>, _>("text")?
                    .unwrap_or_default(),
                version: row.try_get("finished_version")?,
            })
        })
        .collect()
}

/// The finished sentences of a room, oldest first, each with its authors' names in the order of
/// their first word.
pub async fn authored_story(
    conn: &mut Conn,
    slug: &str,
) -> Result<Vec<AuthoredSentence>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id, s.text, u.name FROM sentences s \
         JOIN words w ON w.sentence_id = s.id JOIN users u ON u.id = w.author_id \
         WHERE s.room_slug = $1 AND s.finished_version IS NOT NULL AND s.text <> '' \
         ORDER BY s.finished_version, w.position",
    )
    .bind(slug)
    .fetch_all(&mut *conn)
    .await?;
    let mut story: Vec<AuthoredSentence> = Vec::new();
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let name: String = row.try_get("name")?;
        match story.last_mut() {
            Some(sentence) if sentence.sentence_id == id => {
                if !sentence.authors.contains(&name) {
                    sentence.authors.push(name);
                }
            }
            _ => story.push(AuthoredSentence {
                sentence_id: id,
                text: row
                    .try_get::<Option<String>, _>("text")?
                    .unwrap_or_default(),
                authors: vec![name],
            }),
        }
    }
    Ok(story)
}

/// How many words of a room (finished sentences and the open one) each person wrote, most first.
pub async fn contributors(conn: &mut Conn, slug: &str) -> Result<Vec<Contributor>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.name, COUNT(*) AS words FROM words w JOIN users u ON u.id = w.author_id \
         WHERE w.room_slug = $1 GROUP BY w.author_id, u.name ORDER BY words DESC, u.name",
    )
    .bind(slug)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Contributor {
                name: row.try_get("name")?,
                words: row.try_get("words")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;

    #[test]
    fn a_stored_round_reads_back_and_a_malformed_one_is_corrupt() {
        let players = vec![UserId::from_u128(1), UserId::from_u128(2)];
        let round = Round::start(players, 3, 1_000, 30).unwrap();
        let json = serde_json::to_string(&round).unwrap();
        assert_eq!(parse_round("sala", Some(json)).unwrap(), Some(round));
        assert_eq!(parse_round("sala", None).unwrap(), None);
        // A player that is not a user id (a hand-edited row): refused like malformed JSON, the
        // error naming the room, never a panic.
        let malformed = r#"{"started_version":3,"players":["ana"],"current":0,"deadline_ms":31000,"turn_ms":30000}"#;
        match parse_round("sala", Some(malformed.to_owned())) {
            Err(StoreError::Corrupt(why)) => {
                assert!(why.starts_with("round of room sala: "), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
}
