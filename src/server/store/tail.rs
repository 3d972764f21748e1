//! A change's last write, which the group writer may carry in its next round trip to SQLite, and
//! the owned arguments it (and a change's opening read) binds.
//!
//! Every round trip to SQLite's thread costs a wake-up on each side, and the writer does
//! nothing else meanwhile: a change that ends with a write (a new word: its row and its change
//! log entry) can leave that write to the round trip that opens the next change, or commits the
//! group, so that it costs no trip of its own. See `group`.

use std::borrow::Cow;

use sqlx::Arguments;
use sqlx::any::AnyArguments;

use super::{Conn, StoreError};

/// Statements numbering their arguments from `$1`, with those arguments owned (so they outlive
/// the change that made them), and how many rows they change.
#[derive(Debug)]
pub struct Tail {
    sql: &'static str,
    arguments: OwnedArguments,
    rows: u64,
    /// A query counting rows the write makes: more than none once it ran (see
    /// [`Tail::has_run`]).
    seen_by: Option<(&'static str, OwnedArguments)>,
}

/// Arguments owned by the statements they go with, so that those can be kept, and run again.
#[derive(Debug, Default)]
pub struct OwnedArguments(Vec<Argument>);

#[derive(Debug)]
enum Argument {
    Integer(i64),
    Text(String),
    Bool(bool),
}

impl OwnedArguments {
    pub fn integer(mut self, value: i64) -> OwnedArguments {
        self.0.push(Argument::Integer(value));
        self
    }

    pub fn text(mut self, value: &str) -> OwnedArguments {
        self.0.push(Argument::Text(value.to_owned()));
        self
    }

    pub fn bool(mut self, value: bool) -> OwnedArguments {
        self.0.push(Argument::Bool(value));
        self
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds them after those already in `arguments`.
    pub fn add_to<'q>(&'q self, arguments: &mut AnyArguments<'q>) -> Result<(), StoreError> {
        for argument in &self.0 {
            let added = match argument {
                Argument::Integer(value) => arguments.add(*value),
                Argument::Text(value) => arguments.add(value.as_str()),
                Argument::Bool(value) => arguments.add(*value),
            };
            added.map_err(|e| StoreError::Corrupt(format!("binding arguments: {e}")))?;
        }
        Ok(())
    }

    /// Them, bound for one query.
    pub fn bound(&self) -> Result<AnyArguments<'_>, StoreError> {
        let mut arguments = AnyArguments::default();
        self.add_to(&mut arguments)?;
        Ok(arguments)
    }
}

impl Tail {
    /// `sql` changing `rows` rows, with `arguments` in the order of their numbers.
    pub fn new(sql: &'static str, rows: u64, arguments: OwnedArguments) -> Tail {
        Tail {
            sql,
            arguments,
            rows,
            seen_by: None,
        }
    }

    /// With `sql`, a query counting rows this write makes, to tell afterwards whether it ran.
    pub fn seen_by(mut self, sql: &'static str, arguments: OwnedArguments) -> Tail {
        self.seen_by = Some((sql, arguments));
        self
    }

    /// Whether it ran, where that can be told: it runs whole or not at all (inside a savepoint
    /// of its own), and its rows are then there or not.
    pub async fn has_run(&self, conn: &mut Conn) -> Option<bool> {
        let (sql, arguments) = self.seen_by.as_ref()?;
        let count: i64 = sqlx::query_scalar_with(sql, arguments.bound().ok()?)
            .fetch_one(&mut *conn)
            .await
            .ok()?;
        Some(count > 0)
    }

    /// Runs it in a round trip of its own, checking the rows it changed.
    pub async fn run(&self, conn: &mut Conn) -> Result<(), StoreError> {
        let changed = sqlx::query_with(self.sql, self.arguments.bound()?)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        if changed != self.rows {
            return Err(StoreError::Corrupt(format!(
                "a change's last write changed {changed} rows, not {}",
                self.rows
            )));
        }
        Ok(())
    }

    /// Its statements with their arguments renumbered to follow `before` others: to run after
    /// statements whose arguments come first.
    pub fn sql_after(&self, before: usize) -> Cow<'static, str> {
        if before == 0 {
            Cow::Borrowed(self.sql)
        } else {
            Cow::Owned(shift_parameters(self.sql, before))
        }
    }

    /// Adds its arguments after those already in `arguments`.
    pub fn add_arguments<'q>(&'q self, arguments: &mut AnyArguments<'q>) -> Result<(), StoreError> {
        self.arguments.add_to(arguments)
    }
}

/// `sql` with every numbered argument (`$n`) outside quotes made `$(n + by)`. SQLite's driver
/// numbers arguments across all the statements of a query, so statements joined into one query
/// must number theirs apart.
fn shift_parameters(sql: &str, by: usize) -> String {
    let mut shifted = String::with_capacity(sql.len() + 16);
    let mut quote: Option<char> = None;
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match (quote, c) {
            (Some(open), c) if c == open => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (None, '$') if chars.peek().is_some_and(|(_, next)| next.is_ascii_digit()) => {
                let mut number = 0usize;
                while let Some((_, digit)) = chars.next_if(|(_, next)| next.is_ascii_digit()) {
                    number = number * 10 + digit.to_digit(10).unwrap_or(0) as usize;
                }
                shifted.push('$');
                shifted.push_str(&(number + by).to_string());
                continue;
            }
            _ => {}
        }
        shifted.push(c);
    }
    shifted
}

#[cfg(test)]
mod tests {
    use super::shift_parameters;

    #[test]
    fn numbered_arguments_move_past_the_ones_before_and_quoted_text_stays() {
        assert_eq!(
            shift_parameters("INSERT INTO t VALUES ($1, '$2', $10); SELECT \"$3\", $2", 4),
            "INSERT INTO t VALUES ($5, '$2', $14); SELECT \"$3\", $6"
        );
        assert_eq!(shift_parameters("SELECT '$' || $1", 1), "SELECT '$' || $2");
    }
}
