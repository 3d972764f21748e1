//! Conditional requests (RFC 9110 §13): the room's strong `ETag` and the headers that test it.

use http::HeaderMap;
use http::header::{IF_MATCH, IF_NONE_MATCH};

/// A room state's entity tag. It changes with the version, and differs for the host, whose
/// state says `"host": true`.
pub fn room_etag(version: i64, host: bool) -> String {
    if host {
        format!("\"{version}-host\"")
    } else {
        format!("\"{version}\"")
    }
}

/// The room version an entity tag names, if it is one of ours.
fn version_of(tag: &str) -> Option<i64> {
    let opaque = tag.trim().strip_prefix('"')?.strip_suffix('"')?;
    let digits = opaque.strip_suffix("-host").unwrap_or(opaque);
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
/// room versions it accepts (empty when none of its tags is ours, which can never match).
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
        let etag = room_etag(4, false);
        assert!(none_match_hits(&headers(IF_NONE_MATCH, "\"4\""), &etag));
        assert!(none_match_hits(&headers(IF_NONE_MATCH, "W/\"4\""), &etag));
        assert!(none_match_hits(
            &headers(IF_NONE_MATCH, "\"1\", \"4\""),
            &etag
        ));
        assert!(none_match_hits(&headers(IF_NONE_MATCH, "*"), &etag));
        assert!(!none_match_hits(&headers(IF_NONE_MATCH, "\"5\""), &etag));
        assert!(!none_match_hits(
            &headers(IF_NONE_MATCH, "\"4-host\""),
            &etag
        ));
        assert!(!none_match_hits(&HeaderMap::new(), &etag));
    }

    #[test]
    fn if_match_yields_versions() {
        assert_eq!(if_match_versions(&HeaderMap::new()), None);
        assert_eq!(if_match_versions(&headers(IF_MATCH, "*")), None);
        assert_eq!(
            if_match_versions(&headers(IF_MATCH, "\"7\"")),
            Some(vec![7])
        );
        assert_eq!(
            if_match_versions(&headers(IF_MATCH, "\"7-host\"")),
            Some(vec![7])
        );
        assert_eq!(
            if_match_versions(&headers(IF_MATCH, "W/\"7\"")),
            Some(vec![])
        );
        assert_eq!(if_match_versions(&headers(IF_MATCH, "\"x\"")), Some(vec![]));
    }
}
