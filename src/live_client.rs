//! The WebAssembly client's live connection: an `EventSource` on the room's event stream, fed
//! into [`LiveRoom`]. It never polls: the browser keeps the stream open, and resumes it after a
//! drop with `Last-Event-ID`, so nothing is missed or applied twice.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use crate::lens::{Lens, LensEntry};
use crate::live_state::LiveRoom;
use crate::model::EventKind;

/// Wait before opening a new stream when the browser gave up on one.
const RECONNECT_MS: i32 = 2000;

/// An open stream and the callbacks it holds; closing it drops them.
struct Connection {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(MessageEvent)>>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// Who follows a room: a player (counted as online) or a viewer such as a projector (not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Player,
    Viewer,
}

/// Keeps `live` in step with the room's event stream for as long as the current reactive owner
/// (the room page) lives.
pub fn follow(live: LiveRoom, lens: Lens, audience: Audience) {
    let current = StoredValue::new_local(None::<Connection>);
    open(live, lens, audience, current);
    on_cleanup(move || {
        current.try_update_value(|connection| connection.take());
    });
}

fn open(
    live: LiveRoom,
    lens: Lens,
    audience: Audience,
    current: StoredValue<Option<Connection>, LocalStorage>,
) {
    let slug = live.slug.get_value();
    let viewer = match audience {
        Audience::Player => "",
        Audience::Viewer => "&viewer=true",
    };
    let url = format!(
        "/api/rooms/{slug}/events?last_event_id={}{viewer}",
        live.version.get_untracked()
    );
    let Ok(source) = EventSource::new(&url) else {
        leptos::logging::error!("cannot open the event stream {url}");
        return;
    };
    let listeners = EventKind::ALL
        .iter()
        .map(|&kind| {
            let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let data = event.data().as_string().unwrap_or_default();
                // Presence has no id of its own (the browser repeats the last one).
                let id = if kind == EventKind::Presence {
                    String::new()
                } else {
                    event.last_event_id()
                };
                lens.record(LensEntry {
                    seq: 0,
                    method: "SSE".into(),
                    target: format!("event: {}", kind.as_str()),
                    status: if id.is_empty() {
                        "·".into()
                    } else {
                        format!("id {id}")
                    },
                    headers: if id.is_empty() {
                        vec![]
                    } else {
                        vec![("last-event-id".into(), id)]
                    },
                    millis: None,
                });
                if let Err(error) = live.apply(kind, &data) {
                    leptos::logging::warn!("bad {} event: {error}", kind.as_str());
                }
                if kind == EventKind::Snapshot {
                    refresh_story(live);
                }
            });
            let _ = source
                .add_event_listener_with_callback(kind.as_str(), listener.as_ref().unchecked_ref());
            listener
        })
        .collect();
    // The browser reconnects by itself after a dropped connection; when it gives up (the
    // server answered with an error), open a new stream after a pause.
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
        let closed = current
            .with_value(|c| {
                c.as_ref()
                    .map(|c| c.source.ready_state() == EventSource::CLOSED)
            })
            .unwrap_or(false);
        if closed {
            current.update_value(|connection| {
                connection.take();
            });
            set_timeout(
                move || open(live, lens, audience, current),
                std::time::Duration::from_millis(RECONNECT_MS as u64),
            );
        }
    });
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    current.set_value(Some(Connection {
        source,
        _listeners: listeners,
        _on_error: on_error,
    }));
}

/// After a snapshot the story may have moved on: fetch it again (`GET /api/rooms/{slug}/story`,
/// the JSON API's).
fn refresh_story(live: LiveRoom) {
    #[derive(serde::Deserialize)]
    struct Story {
        sentences: Vec<crate::model::StorySentence>,
    }
    let path = format!("/api/rooms/{}/story?format=json", live.slug.get_value());
    leptos::task::spawn_local(async move {
        if let Some(story) = crate::fetch::get_json::<Story>(&path, None).await {
            live.story.set(story.sentences);
            live.story_stale.set(false);
        }
    });
}
