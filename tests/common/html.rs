//! Just enough of an HTML reader to look at pages as a browser would: start tags and their
//! attributes (tokenized like the HTML standard does, so a quote that was not escaped ends an
//! attribute early, as it would in a browser), the text of an element, and the forms that post.

/// A start tag: its name and attributes, values decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    /// Where the tag ends in the page (the byte after its `>`).
    pub end: usize,
}

impl Tag {
    /// The value of attribute `name` (`Some("")` for one without a value).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(attribute, _)| attribute == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Every start tag of `html`, in order (comments skipped).
pub fn tags(html: &str) -> Vec<Tag> {
    let bytes = html.as_bytes();
    let mut tags = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        if html[start..].starts_with("<!--") {
            at = html[start..]
                .find("-->")
                .map_or(html.len(), |end| start + end + 3);
            continue;
        }
        let name_len = html[start + 1..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(html.len() - start - 1);
        if name_len == 0 {
            at = start + 1;
            continue;
        }
        let name = html[start + 1..start + 1 + name_len].to_ascii_lowercase();
        let (attributes, end) = attributes(bytes, start + 1 + name_len);
        tags.push(Tag {
            name,
            attributes,
            end,
        });
        at = end;
    }
    tags
}

/// The attributes from `at` to the end of the tag, and where it ends: the HTML standard's
/// "before attribute name" to "after attribute value" states, without their error cases.
fn attributes(bytes: &[u8], mut at: usize) -> (Vec<(String, String)>, usize) {
    let text = |from: usize, to: usize| String::from_utf8_lossy(&bytes[from..to]).into_owned();
    let mut attributes = Vec::new();
    loop {
        while at < bytes.len() && (bytes[at].is_ascii_whitespace() || bytes[at] == b'/') {
            at += 1;
        }
        if at >= bytes.len() || bytes[at] == b'>' {
            return (attributes, (at + 1).min(bytes.len()));
        }
        let name_start = at;
        while at < bytes.len() && !b" \t\n\r\x0c/>=".contains(&bytes[at]) {
            at += 1;
        }
        let name = text(name_start, at).to_ascii_lowercase();
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        if at >= bytes.len() || bytes[at] != b'=' {
            attributes.push((name, String::new()));
            continue;
        }
        at += 1;
        while at < bytes.len() && bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let value = match bytes.get(at) {
            Some(&quote @ (b'"' | b'\'')) => {
                let from = at + 1;
                let to = bytes[from..]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(bytes.len(), |len| from + len);
                at = (to + 1).min(bytes.len());
                text(from, to)
            }
            _ => {
                let from = at;
                while at < bytes.len() && !bytes[at].is_ascii_whitespace() && bytes[at] != b'>' {
                    at += 1;
                }
                text(from, at)
            }
        };
        attributes.push((name, decode(&value)));
    }
}

/// The start tag of the element whose `id` is `id`.
pub fn by_id(html: &str, id: &str) -> Option<Tag> {
    tags(html)
        .into_iter()
        .find(|tag| tag.attribute("id") == Some(id))
}

/// The text of the element whose `id` is `id`, up to its first child element or its end (comments
/// left out), decoded.
pub fn text_by_id(html: &str, id: &str) -> Option<String> {
    let tag = by_id(html, id)?;
    let mut rest = &html[tag.end..];
    let mut text = String::new();
    loop {
        let Some(open) = rest.find('<') else {
            text.push_str(rest);
            break;
        };
        text.push_str(&rest[..open]);
        if !rest[open..].starts_with("<!--") {
            break;
        }
        rest = rest[open..]
            .find("-->")
            .map_or("", |end| &rest[open + end + 3..]);
    }
    Some(decode(&text))
}

/// Character references as pages use them.
pub fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.find(';').filter(|&semi| semi <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A form that posts, as a browser without JavaScript would submit it.
#[derive(Debug, Clone)]
pub struct PostForm {
    pub id: String,
    pub action: String,
    /// Its fields as rendered: inputs with their values (a checkbox only when checked), the
    /// selected (or first) option of each select, and the first button with a value that is
    /// not pressed already (the language switch's other language).
    pub fields: Vec<(String, String)>,
}

/// Every `<form method="post">` of `html`.
pub fn post_forms(html: &str) -> Vec<PostForm> {
    let all = tags(html);
    let mut forms = Vec::new();
    let mut index = 0;
    while index < all.len() {
        let tag = &all[index];
        index += 1;
        let posts = tag
            .attribute("method")
            .is_some_and(|method| method.eq_ignore_ascii_case("post"));
        if tag.name != "form" || !posts {
            continue;
        }
        let close = html[tag.end..]
            .find("</form>")
            .map_or(html.len(), |at| tag.end + at);
        let mut form = PostForm {
            id: tag.attribute("id").unwrap_or_default().to_owned(),
            action: tag.attribute("action").unwrap_or_default().to_owned(),
            fields: Vec::new(),
        };
        let mut button = None;
        let mut select: Option<(String, Option<String>)> = None;
        while index < all.len() && all[index].end <= close {
            let inner = &all[index];
            index += 1;
            let Some(name) = inner.attribute("name").map(str::to_owned) else {
                if inner.name == "option"
                    && let Some((_, chosen)) = &mut select
                    && (chosen.is_none() || inner.attribute("selected").is_some())
                {
                    *chosen = inner.attribute("value").map(str::to_owned);
                }
                continue;
            };
            let value = inner.attribute("value").unwrap_or_default().to_owned();
            match inner.name.as_str() {
                "input" => {
                    let checkbox = inner.attribute("type") == Some("checkbox");
                    if !checkbox || inner.attribute("checked").is_some() {
                        form.fields
                            .push((name, if checkbox { "on".into() } else { value }));
                    }
                }
                "select" => {
                    if let Some((name, Some(chosen))) = select.take() {
                        form.fields.push((name, chosen));
                    }
                    select = Some((name, None));
                }
                "button" if button.is_none() && inner.attribute("aria-pressed") != Some("true") => {
                    button = Some((name, value));
                }
                _ => {}
            }
        }
        if let Some((name, Some(chosen))) = select {
            form.fields.push((name, chosen));
        }
        form.fields.extend(button);
        forms.push(form);
    }
    forms
}
