//! Sessions: who is calling, from a signed cookie.
//!
//! A request without a valid session cookie gets a new user id; the response sets the cookie
//! when the request is one that needs a user (a page, `/api/me`, any write). The cookie holds the
//! user id and when it was issued, signed with the server's secret key (HMAC), so it cannot be
//! forged; a cookie signed with another key (after a key change) is simply not valid and starts
//! a new session. A session unused for [`SESSION_DAYS`] has expired on the server too, whatever
//! the browser kept; one in use is re-issued once a day, so it lasts while it is used.
//! A new user's generated name is in the language of the request that made them.

use std::path::Path;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, Key, SameSite, SignedCookieJar};
use http::Method;

use crate::domain::NameLanguage;
use crate::i18n::Locale;
use crate::server::http::around::Around;
use crate::server::http::locale::request_locale;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "frase_session";

/// How long a session lasts without being used.
pub const SESSION_DAYS: i64 = 30;
const SESSION_SECONDS: i64 = SESSION_DAYS * 24 * 3600;
/// A session in use gets a fresh cookie when its own is older than this.
const REISSUE_AFTER_SECONDS: i64 = 24 * 3600;

pub use crate::domain::UserId;

/// Drawing new ids is the server's: the domain type has no source of randomness, so its random
/// constructor lives here, where `rand` is.
impl UserId {
    /// A new user's id, 128 random bits.
    pub fn generate() -> UserId {
        UserId::from_u128(rand::random())
    }

    /// A new user's id, random but for the lowest bit, which says the language of their
    /// generated name: the language of the page that first saw them.
    pub fn generate_for(locale: Locale) -> UserId {
        let language = match locale {
            Locale::Es => NameLanguage::Spanish,
            Locale::En => NameLanguage::English,
        };
        UserId::with_name_language(rand::random(), language)
    }
}

/// What the session cookie holds: `{user}.{issued}` (issued in Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieValue {
    user: UserId,
    issued: i64,
}

/// What a cookie means now.
#[derive(Debug, PartialEq, Eq)]
enum CookieState {
    /// The user, and whether to send them a fresh cookie.
    Valid { user: UserId, reissue: bool },
    /// Missing, malformed, or issued too long ago: a new session.
    Invalid,
}

impl CookieValue {
    fn encode(&self) -> String {
        format!("{}.{}", self.user, self.issued)
    }

    /// `now` dates the cookies of earlier versions, which held only the user id: they count as
    /// due for a fresh cookie, so their users keep who they are.
    fn decode(raw: &str, now: i64) -> Option<CookieValue> {
        let Some((user, issued)) = raw.split_once('.') else {
            return Some(CookieValue {
                user: UserId::parse(raw).ok()?,
                issued: now - REISSUE_AFTER_SECONDS - 1,
            });
        };
        Some(CookieValue {
            user: UserId::parse(user).ok()?,
            issued: issued.parse().ok()?,
        })
    }

    fn state(raw: Option<&str>, now: i64) -> CookieState {
        let Some(value) = raw.and_then(|raw| CookieValue::decode(raw, now)) else {
            return CookieState::Invalid;
        };
        let age = now - value.issued;
        // From the future (a clock put back) counts as just issued.
        if age > SESSION_SECONDS {
            return CookieState::Invalid;
        }
        CookieState::Valid {
            user: value.user,
            reissue: age > REISSUE_AFTER_SECONDS,
        }
    }
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The caller of a request, put in its extensions by [`session_layer`].
#[derive(Debug, Clone)]
pub struct Session {
    pub user: UserId,
    /// The cookie was missing or invalid: this user is new.
    pub fresh: bool,
}

/// What the session layer needs.
#[derive(Clone)]
pub struct SessionConfig {
    pub key: Key,
    /// Mark the cookie `Secure` (served over HTTPS).
    pub secure: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the secret key must be at least 32 characters long")]
    TooShort,
    #[error("cannot read or write the secret key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The key that signs cookies: from `FRASE_SECRET_KEY` when given, otherwise read from
/// `DATA_DIR/secret.key`, generated there (owner-only) on first start.
pub fn load_or_create_key(given: Option<&str>, data_dir: &Path) -> Result<Key, SecretError> {
    if let Some(secret) = given {
        if secret.len() < 32 {
            return Err(SecretError::TooShort);
        }
        return Ok(Key::derive_from(secret.as_bytes()));
    }
    let path = data_dir.join("secret.key");
    let io = |source| SecretError::Io {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(secret) if secret.trim().len() >= 32 => {
            return Ok(Key::derive_from(secret.trim().as_bytes()));
        }
        Ok(_) => return Err(SecretError::TooShort),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(io(error)),
    }
    std::fs::create_dir_all(data_dir).map_err(io)?;
    let secret = format!(
        "{:032x}{:032x}",
        rand::random::<u128>(),
        rand::random::<u128>()
    );
    write_owner_only(&path, &secret).map_err(io)?;
    tracing::info!(path = %path.display(), "generated a new secret key");
    Ok(Key::derive_from(secret.as_bytes()))
}

#[cfg(unix)]
fn write_owner_only(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_owner_only(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Whether a request's response should set a new session cookie.
fn needs_user(request: &Request) -> bool {
    let path = request.uri().path();
    if matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return true;
    }
    if request.method() != Method::GET {
        return false;
    }
    !(path.starts_with("/pkg/")
        || path.starts_with("/api/rooms/")
        || path == "/healthz"
        || path == "/metrics"
        || path.contains('.'))
}

/// Middleware: resolves the caller's session and sets the cookie for a new one.
#[derive(Clone)]
pub struct Sessions(pub SessionConfig);

impl Around for Sessions {
    /// The cookie to set, if any, with the jar it goes in.
    type Noted = Option<(SignedCookieJar, CookieValue)>;

    fn before(&self, request: &mut Request) -> Self::Noted {
        let jar = SignedCookieJar::from_headers(request.headers(), self.0.key.clone());
        let now = unix_now();
        let cookie = jar.get(COOKIE_NAME);
        let (session, reissue) = match CookieValue::state(cookie.as_ref().map(Cookie::value), now) {
            CookieState::Valid { user, reissue } => (Session { user, fresh: false }, reissue),
            CookieState::Invalid => (
                Session {
                    user: UserId::generate_for(request_locale(request.headers())),
                    fresh: true,
                },
                true,
            ),
        };
        let set_cookie = reissue && needs_user(request);
        let user = session.user.clone();
        request.extensions_mut().insert(session);
        set_cookie.then_some((jar, CookieValue { user, issued: now }))
    }

    fn after(&self, noted: Self::Noted, response: Response) -> Response {
        let Some((jar, value)) = noted else {
            return response;
        };
        let cookie = Cookie::build((COOKIE_NAME, value.encode()))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.0.secure)
            .max_age(time::Duration::days(SESSION_DAYS));
        (jar.add(cookie), response).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_parse_only_as_generated() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(id.as_str()), Ok(id.clone()));
        assert_ne!(UserId::generate(), id);
        assert!(UserId::parse("not-an-id").is_err());
        assert!(UserId::parse(&"A".repeat(32)).is_err());
    }

    #[test]
    fn sessions_expire_unused_and_are_reissued_in_use() {
        let user = UserId::generate();
        let issued = 1_800_000_000;
        let raw = CookieValue {
            user: user.clone(),
            issued,
        }
        .encode();
        let state = |now| CookieValue::state(Some(&raw), now);
        assert_eq!(
            state(issued + 60),
            CookieState::Valid {
                user: user.clone(),
                reissue: false
            }
        );
        assert_eq!(
            state(issued + 2 * 24 * 3600),
            CookieState::Valid {
                user: user.clone(),
                reissue: true
            }
        );
        assert_eq!(state(issued + SESSION_SECONDS + 1), CookieState::Invalid);
        assert_eq!(
            state(issued - 3600),
            CookieState::Valid {
                user: user.clone(),
                reissue: false
            }
        );
        let bad_date = format!("{user}.x");
        for bad in [
            None,
            Some(""),
            Some("abc.1"),
            Some("abc"),
            Some(bad_date.as_str()),
        ] {
            assert_eq!(
                CookieValue::state(bad, issued),
                CookieState::Invalid,
                "{bad:?}"
            );
        }
        // A cookie of an earlier version (the user id alone) keeps its user, with a new cookie.
        assert_eq!(
            CookieValue::state(Some(user.as_str()), issued),
            CookieState::Valid {
                user: user.clone(),
                reissue: true
            }
        );
    }

    #[test]
    fn the_key_is_generated_once_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_key(None, dir.path()).unwrap();
        let second = load_or_create_key(None, dir.path()).unwrap();
        assert_eq!(first.signing(), second.signing());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("secret.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(
            load_or_create_key(Some("short"), dir.path()),
            Err(SecretError::TooShort)
        ));
    }
}
