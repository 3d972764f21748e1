//! Conditional requests (RFC 9110 §13): the room's strong `ETag`, entity tags of generated
//! bodies, `Last-Modified`, and the headers that test them.

use std::time::{Duration, SystemTime};

use http::HeaderMap;
use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use sha2::{Digest, Sha256};

/// A strong entity tag for a generated body: the first 64 bits of its SHA-256.
pub fn content_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The `Last-Modified` of something last changed at `changed_at` (RFC 3339), answered at `now`.
///
/// An HTTP date has whole seconds. A date sent in the very second of the change could stay the
/// same across a second change in that second, and `If-Modified-Since` would then hide it; so
/// the date is only sent once that second is over (RFC 9110 §8.8.2.2), and the `ETag` carries
/// validation until then.
pub fn last_modified(changed_at: &str, now: SystemTime) -> Option<String> {
    let changed = whole_seconds(parse_rfc3339(changed_at)?);
    (whole_seconds(now) > changed).then(|| httpdate::fmt_http_date(changed))
}

/// `If-Modified-Since` (used only without `If-None-Match`, RFC 9110 §13.1.3): unchanged since the
/// date the client holds, so that 304 is the answer?
pub fn not_modified_since(headers: &HeaderMap, changed_at: &str) -> bool {
    if headers.contains_key(IF_NONE_MATCH) {
        return false;
    }
    let Some(since) = headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| httpdate::parse_http_date(value).ok())
    else {
        return false;
    };
    parse_rfc3339(changed_at).is_some_and(|changed| whole_seconds(changed) <= since)
}

fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let time =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    Some(SystemTime::from(time))
}

fn whole_seconds(time: SystemTime) -> SystemTime {
    let since_epoch = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    SystemTime::UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs())
}

/// A room state's entity tag: its version, then a digest of the JSON served. `If-Match` compares
/// the version (a write goes through only if the room is still at that version); the digest
/// makes the tag change whenever the body does, even where the room does not: for its host (whose
/// state says `"host": true`), and after a rename (which changes the authors' names on its words).
pub fn room_etag(version: i64, json: &[u8]) -> String {
    format!("\"{version}-{:016x}\"", fnv1a(json))
}

/// FNV-1a, 64 bits: a digest that stays the same across processes and builds, so that every
/// server of a room gives the same body the same tag.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The room version an entity tag names, if it is one of ours (`"7-…"`, or a bare `"7"`).
fn version_of(tag: &str) -> Option<i64> {
    let opaque = tag.trim().strip_prefix('"')?.strip_suffix('"')?;
    let digits = opaque
        .split_once('-')
        .map_or(opaque, |(version, _)| version);
    digits.parse().ok().filter(|v: &i64| *v >= 0)
}

fn tags(headers: &HeaderMap, name: http::HeaderName) -> Option<Vec<String>> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .collect();
    if values.is_empty() {
        return None;
    }
    Some(
        values
            .iter()
            .flat_map(|value| value.split(','))
            .map(|tag| tag.trim().to_owned())
            .filter(|tag| !tag.is_empty())
            .collect(),
    )
}

/// `If-None-Match` (weak comparison): does it match the current tag, so that 304 is the answer?
pub fn none_match_hits(headers: &HeaderMap, etag: &str) -> bool {
    let Some(tags) = tags(headers, IF_NONE_MATCH) else {
        return false;
    };
    let current = etag.trim_start_matches("W/");
    tags.iter()
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == current)
}

/// `If-Match` on a write: `None` when absent or `*` (no condition on the version), otherwise the
/// room versions it accepts. A tag that is not one of ours, or not a tag at all, names no
/// version, so the condition is false and the write answers 412 (RFC 9110 §13.1.1).
pub fn if_match_versions(headers: &HeaderMap) -> Option<Vec<i64>> {
    let tags = tags(headers, IF_MATCH)?;
    if tags.iter().any(|tag| tag == "*") {
        return None;
    }
    // Strong comparison: a weak tag never matches.
    Some(
        tags.iter()
            .filter(|tag| !tag.starts_with("W/"))
            .filter_map(|tag| version_of(tag))
            .collect(),
    )
}

/// A JSON body that may change at any moment, for caches to revalidate each time: `no-cache`
/// with a strong `ETag` of the body, and 304 when `If-None-Match` already has it.
pub fn revalidated_json(
    request_headers: &HeaderMap,
    body: impl Into<axum::body::Bytes>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use http::{HeaderValue, StatusCode, header};
    let body = body.into();
    let etag = content_etag(&body);
    let mut response = if none_match_hits(request_headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // A 304 carries what its 200 would (RFC 9110 §15.4.5), and the 200 may be compressed.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(name: http::HeaderName, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let etag = room_etag(4, b"{}");
        assert_eq!(etag, "\"4-08f44b07b5901a25\"");
        let value = |tags: String| {
            let mut headers = HeaderMap::new();
            headers.insert(IF_NONE_MATCH, HeaderValue::from_str(&tags).unwrap());
            headers
        };
        assert!(none_match_hits(&value(etag.clone()), &etag));
        assert!(none_match_hits(&value(format!("W/{etag}")), &etag));
        assert!(none_match_hits(&value(format!("\"1\", {etag}")), &etag));
        assert!(none_match_hits(&headers(IF_NONE_MATCH, "*"), &etag));
        assert!(!none_match_hits(&headers(IF_NONE_MATCH, "\"4\""), &etag));
        // The same version with another body (the host's, or after a rename): another tag.
        assert!(!none_match_hits(&value(room_etag(4, b"{ }")), &etag));
        assert!(!none_match_hits(&HeaderMap::new(), &etag));
    }

    #[test]
    fn if_match_names_the_version() {
        assert_eq!(
            if_match_versions(&headers(IF_MATCH, "\"4-08f44b07b5901a25\", \"5\"")),
            Some(vec![4, 5])
        );
        assert_eq!(
            if_match_versions(&headers(IF_MATCH, "W/\"4-08f44b07b5901a25\", \"x\"")),
            Some(vec![])
        );
        assert_eq!(if_match_versions(&headers(IF_MATCH, "*")), None);
    }

    #[test]
    fn last_modified_waits_for_the_second_to_end() {
        let changed = "2026-11-24T10:00:00.400Z";
        let same_second = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_514_400_900);
        assert_eq!(
            httpdate::fmt_http_date(whole_seconds(same_second)),
            "Tue, 24 Nov 2026 10:00:00 GMT"
        );
        assert_eq!(last_modified(changed, same_second), None);
        let later = same_second + Duration::from_secs(1);
        assert_eq!(
            last_modified(changed, later).as_deref(),
            Some("Tue, 24 Nov 2026 10:00:00 GMT")
        );
        assert_eq!(last_modified("not a date", later), None);
    }

    #[test]
    fn if_modified_since_compares_whole_seconds_and_yields_to_if_none_match() {
        let changed = "2026-11-24T10:00:00.400Z";
        let ims = |value: &'static str| headers(IF_MODIFIED_SINCE, value);
        assert!(not_modified_since(
            &ims("Tue, 24 Nov 2026 10:00:00 GMT"),
            changed
        ));
        assert!(not_modified_since(
            &ims("Tue, 24 Nov 2026 11:00:00 GMT"),
            changed
        ));
        assert!(!not_modified_since(
            &ims("Tue, 24 Nov 2026 09:59:59 GMT"),
            changed
        ));
        assert!(!not_modified_since(&ims("yesterday"), changed));
        let mut both = ims("Tue, 24 Nov 2026 11:00:00 GMT");
        both.insert(IF_NONE_MATCH, HeaderValue::from_static("\"x\""));
        assert!(!not_modified_since(&both, changed));
    }

    #[test]
    fn content_etags_are_strong_and_follow_the_body() {
        let tag = content_etag(b"hola");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 18);
        assert_eq!(tag, content_etag(b"hola"));
        assert_ne!(tag, content_etag(b"hola."));
    }

    #[test]
    fn if_match_yields_versions() {
        let versions = |value: &'static str| if_match_versions(&headers(IF_MATCH, value));
        assert_eq!(if_match_versions(&HeaderMap::new()), None);
        assert_eq!(versions("*"), None);
        assert_eq!(versions("\"7\""), Some(vec![7]));
        assert_eq!(versions("\"7-host\""), Some(vec![7]));
        assert_eq!(versions("\"6\", \"7\""), Some(vec![6, 7]));
        // Weak, foreign or malformed: no version, so never a match.
        for value in ["W/\"7\"", "\"x\"", "7", "", "null"] {
            assert_eq!(versions(value), Some(vec![]), "{value:?}");
        }
    }
}
