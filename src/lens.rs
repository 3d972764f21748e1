//! The "HTTP lens": a panel on the room page listing the requests the page made and the live
//! events it received — method, path, status, the headers that matter, timing — so a student
//! sees the lessons of the HTTP practical happen.

use leptos::prelude::*;

use crate::i18n::t;

/// How many entries the lens keeps.
const KEEP: usize = 40;

/// One thing the page saw on the wire.
#[derive(Debug, Clone, PartialEq)]
pub struct LensEntry {
    /// Order of arrival (the key in the list).
    pub seq: u64,
    /// `POST`, `GET`…, or `SSE` for a received event.
    pub method: String,
    /// The path, or the event's name.
    pub target: String,
    /// The status code; the event id for an event.
    pub status: String,
    /// The headers that matter (ETag, Cache-Control, Idempotency-Key, Last-Event-ID…).
    pub headers: Vec<(String, String)>,
    /// Milliseconds the request took (none for events).
    pub millis: Option<f64>,
}

/// The lens of a page, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Lens {
    pub entries: RwSignal<Vec<LensEntry>>,
    next: StoredValue<u64>,
}

impl Lens {
    pub fn new() -> Lens {
        Lens {
            entries: RwSignal::new(Vec::new()),
            next: StoredValue::new(0),
        }
    }

    /// Adds an entry at the top, dropping the oldest beyond [`KEEP`].
    pub fn record(&self, mut entry: LensEntry) {
        let seq = self.next.get_value();
        self.next.set_value(seq + 1);
        entry.seq = seq;
        self.entries.update(|entries| {
            entries.insert(0, entry);
            entries.truncate(KEEP);
        });
    }
}

impl Default for Lens {
    fn default() -> Lens {
        Lens::new()
    }
}

/// The panel: closed by default, a `<details>` that works with the keyboard.
#[component]
pub fn HttpLens(lens: Lens) -> impl IntoView {
    view! {
        <details id="http-lens" class="lens">
            <summary>{t("lens-summary")}</summary>
            <p class="hint" class:hidden=move || !lens.entries.with(Vec::is_empty)>
                {t("lens-empty")}
            </p>
            <ol class="lens-entries">
                <For each=move || lens.entries.get() key=|entry| entry.seq let:entry>
                    <li class="lens-entry" data-method=entry.method.clone()>
                        <code class="lens-line">
                            <span class="method">{entry.method.clone()}</span>" "
                            <span class="target">{entry.target.clone()}</span>" → "
                            <span class="status">{entry.status.clone()}</span>
                            {entry.millis.map(|ms| format!(" · {} ms", ms.round() as i64))}
                        </code>
                        <dl class="lens-headers">
                            {entry
                                .headers
                                .iter()
                                .map(|(name, value)| {
                                    view! {
                                        <dt>{name.clone()}</dt>
                                        <dd>{value.clone()}</dd>
                                    }
                                })
                                .collect_view()}
                        </dl>
                    </li>
                </For>
            </ol>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lens_keeps_the_newest_first_and_a_bounded_list() {
        let owner = Owner::new();
        owner.with(|| {
            let lens = Lens::new();
            for i in 0..(KEEP + 5) {
                lens.record(LensEntry {
                    seq: 0,
                    method: "SSE".into(),
                    target: "word".into(),
                    status: i.to_string(),
                    headers: vec![],
                    millis: None,
                });
            }
            let entries = lens.entries.get_untracked();
            assert_eq!(entries.len(), KEEP);
            assert_eq!(entries[0].status, (KEEP + 4).to_string());
            assert!(entries[0].seq > entries[1].seq);
        });
    }
}
