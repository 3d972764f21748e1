//! A small bar chart of contributions per person, drawn on the server as SVG (no script, no
//! network, no inline style: presentation attributes only, so the page's CSP allows it).

use std::fmt::Write;

use crate::model::Contributor;

/// The most people the chart shows; the rest are summed into one last bar.
const MAX_BARS: usize = 12;
const WIDTH: u32 = 480;
const LABEL_WIDTH: u32 = 150;
const COUNT_WIDTH: u32 = 44;
const ROW: u32 = 26;
const BAR: u32 = 18;

/// An `<svg>` bar chart: one bar per person, longest for the most words. `caption` is its
/// accessible name; `others` labels the bar that sums everyone past the first few.
pub fn contributions_svg(contributors: &[Contributor], caption: &str, others: &str) -> String {
    let mut bars: Vec<(String, i64)> = contributors
        .iter()
        .take(MAX_BARS)
        .map(|c| (c.name.clone(), c.words))
        .collect();
    if contributors.len() > MAX_BARS {
        let rest: i64 = contributors[MAX_BARS..].iter().map(|c| c.words).sum();
        bars.pop();
        let last = contributors[MAX_BARS - 1].words;
        bars.push((others.to_owned(), rest + last));
    }
    let most = bars
        .iter()
        .map(|(_, words)| *words)
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW * bars.len().max(1) as u32;
    let span = WIDTH - LABEL_WIDTH - COUNT_WIDTH;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" aria-labelledby="chart-title"><title id="chart-title">{}</title>"#,
        escape(caption)
    );
    for (row, (name, words)) in bars.iter().enumerate() {
        let y = row as u32 * ROW;
        let length = ((*words as f64 / most as f64) * f64::from(span))
            .round()
            .max(2.0) as u32;
        let _ = write!(
            svg,
            r##"<g class="bar"><text x="{}" y="{}" text-anchor="end" fill="currentColor" font-size="14">{}</text><rect x="{LABEL_WIDTH}" y="{}" width="{length}" height="{BAR}" rx="3" fill="#0b57d0"/><text x="{}" y="{}" fill="currentColor" font-size="14">{words}</text></g>"##,
            LABEL_WIDTH - 8,
            y + BAR - 4,
            escape(&truncate(name, 18)),
            y + (ROW - BAR) / 2,
            LABEL_WIDTH + length + 6,
            y + BAR - 4,
        );
    }
    svg.push_str("</svg>");
    svg
}

fn truncate(name: &str, chars: usize) -> String {
    if name.chars().count() <= chars {
        name.to_owned()
    } else {
        let mut short: String = name.chars().take(chars - 1).collect();
        short.push('…');
        short
    }
}

/// Text as XML character data and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people(counts: &[(&str, i64)]) -> Vec<Contributor> {
        counts
            .iter()
            .map(|(name, words)| Contributor {
                name: (*name).to_owned(),
                words: *words,
            })
            .collect()
    }

    #[test]
    fn one_bar_per_person_longest_for_the_most_words() {
        let svg = contributions_svg(&people(&[("Ana", 4), ("Luis", 2)]), "Palabras", "Resto");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(
            svg.contains(r#"width="286""#),
            "Ana's bar spans the chart: {svg}"
        );
        assert!(
            svg.contains(r#"width="143""#),
            "Luis's is half of it: {svg}"
        );
        assert!(svg.contains("<title id=\"chart-title\">Palabras</title>"));
    }

    #[test]
    fn names_are_escaped_and_many_people_are_summed() {
        let many: Vec<(String, i64)> = (0..20).map(|i| (format!("p{i}"), 1)).collect();
        let many: Vec<(&str, i64)> = many.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        let svg = contributions_svg(&people(&many), "x", "Resto");
        assert_eq!(svg.matches("<rect").count(), MAX_BARS);
        assert!(svg.contains(">Resto<") && svg.contains(">9<"), "{svg}");
        let svg = contributions_svg(&people(&[("a<b>&\"", 1)]), "t", "r");
        assert!(svg.contains("a&lt;b&gt;&amp;&quot;"));
        assert!(!contributions_svg(&[], "t", "r").contains("<rect"));
    }
}
