//! How people join a room: the URL to give them and its QR code, generated here (no network).
//!
//! The URL is the one the page was opened with, except when that is this machine's own loopback
//! name (`localhost`, `127.0.0.1`): a phone cannot reach those, so the first LAN address is used
//! instead when the server listens on all of them.

use std::net::{IpAddr, SocketAddr};

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// The URL that opens room `slug`, as seen by someone else on the network.
pub fn join_url(scheme: &str, host: Option<&str>, listening: SocketAddr, slug: &str) -> String {
    // `urls` lists `localhost` first, then the LAN addresses when listening on all of them.
    let lan = || {
        urls(scheme, listening).into_iter().find(|url| {
            let host = url.split("://").nth(1).unwrap_or("").trim_end_matches('/');
            !is_loopback(host)
        })
    };
    let base = match host {
        Some(host) if !is_loopback(host) => format!("{scheme}://{host}/"),
        _ => lan().unwrap_or_else(|| {
            let own = host.map_or_else(|| listening.to_string(), str::to_owned);
            format!("{scheme}://{own}/")
        }),
    };
    format!("{base}r/{slug}")
}

/// The URLs to open: the local one, and on a wildcard address each LAN address of this machine.
pub fn urls(scheme: &str, addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    let url = |ip: IpAddr| match ip {
        IpAddr::V4(ip) => format!("{scheme}://{ip}:{port}/"),
        IpAddr::V6(ip) => format!("{scheme}://[{ip}]:{port}/"),
    };
    if !addr.ip().is_unspecified() {
        return vec![url(addr.ip())];
    }
    let mut urls = vec![format!("{scheme}://localhost:{port}/")];
    let interfaces = if_addrs::get_if_addrs().unwrap_or_default();
    for interface in interfaces {
        let ip = interface.ip();
        let usable = !ip.is_loopback()
            && match ip {
                IpAddr::V4(_) => true,
                // Link-local IPv6 needs a zone id to be typed in; leave those out.
                IpAddr::V6(v6) => addr.is_ipv6() && (v6.segments()[0] & 0xffc0) != 0xfe80,
            };
        if usable {
            urls.push(url(ip));
        }
    }
    urls
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port.
fn is_loopback(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

fn code(data: &str) -> Option<QrCode> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()
}

/// The QR code of `data` as an SVG element (no XML declaration: it goes inside a page), or
/// `None` when `data` is too long for one.
pub fn qr_svg(data: &str) -> Option<String> {
    let image = code(data)?
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    image.find("<svg").map(|start| image[start..].to_owned())
}

/// The QR code of `data` in text, two rows per line, for a terminal.
pub fn qr_text(data: &str) -> Option<String> {
    Some(
        code(data)?
            .render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specific_address_is_its_own_url() {
        let addr: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(
            urls("http", addr),
            vec!["http://127.0.0.1:3000/".to_owned()]
        );
        let any: SocketAddr = "0.0.0.0:3000".parse().unwrap();
        assert_eq!(urls("https", any)[0], "https://localhost:3000/");
    }

    #[test]
    fn the_join_url_is_the_pages_own_unless_only_this_machine_can_use_it() {
        let specific: SocketAddr = "192.168.1.5:3000".parse().unwrap();
        assert_eq!(
            join_url("http", Some("192.168.1.5:3000"), specific, "abc123"),
            "http://192.168.1.5:3000/r/abc123"
        );
        assert_eq!(
            join_url("https", Some("frase.example"), specific, "main"),
            "https://frase.example/r/main"
        );
        // Listening on loopback only: nobody else can join anyway, so the page's own URL.
        let local: SocketAddr = "127.0.0.1:3000".parse().unwrap();
        assert_eq!(
            join_url("http", Some("localhost:3000"), local, "main"),
            "http://localhost:3000/r/main"
        );
        assert!(is_loopback("localhost:3000"));
        assert!(is_loopback("[::1]:3000"));
        assert!(is_loopback("127.0.0.1"));
        assert!(!is_loopback("10.0.0.2:3000"));
        assert!(!is_loopback("example.org"));
    }

    #[test]
    fn qr_codes_are_svg_and_text() {
        let svg = qr_svg("http://192.168.1.5:3000/r/abc123").unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.ends_with("</svg>"));
        let text = qr_text("http://192.168.1.5:3000/r/abc123").unwrap();
        assert!(text.lines().count() > 10);
        assert!(qr_svg(&"x".repeat(5000)).is_none());
    }
}
