//! Server-Sent Events framing (the `text/event-stream` format of the HTML standard).

use bytes::Bytes;

use crate::model::EventKind;

/// A comment line that keeps idle connections (and the proxies on their way) open.
pub const PING: &[u8] = b": ping\n\n";

/// The stream's opening line: how long a client waits before it reconnects.
pub fn retry(milliseconds: u64) -> Bytes {
    Bytes::from(format!("retry: {milliseconds}\n\n"))
}

/// Encodes one event. `data` is expected on one line (compact JSON); a line break inside it is
/// still framed correctly, as several `data:` lines that the client joins back.
pub fn event(kind: EventKind, id: Option<i64>, data: &str) -> Bytes {
    let mut frame = String::with_capacity(data.len() + 40);
    if let Some(id) = id {
        frame.push_str("id: ");
        frame.push_str(&id.to_string());
        frame.push('\n');
    }
    frame.push_str("event: ");
    frame.push_str(kind.as_str());
    frame.push('\n');
    for line in data.split('\n') {
        frame.push_str("data: ");
        frame.push_str(line.strip_suffix('\r').unwrap_or(line));
        frame.push('\n');
    }
    frame.push('\n');
    Bytes::from(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_has_id_name_and_data() {
        let frame = event(EventKind::Word, Some(7), r#"{"a":1}"#);
        assert_eq!(&frame[..], b"id: 7\nevent: word\ndata: {\"a\":1}\n\n");
    }

    #[test]
    fn presence_has_no_id_and_line_breaks_split_data() {
        let frame = event(EventKind::Presence, None, "a\nb");
        assert_eq!(&frame[..], b"event: presence\ndata: a\ndata: b\n\n");
    }
}
