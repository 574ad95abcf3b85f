//! What a file is, judged from its bytes (never from what the client claims), and what type
//! it may be served as.

/// The type stored for valid UTF-8 text without NULs.
pub const TEXT: &str = "text/plain; charset=utf-8";
/// The type of anything else unrecognised, and what unsafe types are served as.
pub const BINARY: &str = "application/octet-stream";

/// The content type of a file from its first bytes (`head`, a few KiB is enough) and
/// whether the whole file is UTF-8 text without NULs (`is_text`). Magic numbers first
/// (the `infer` crate), then markup that browsers would render (HTML, SVG, XML), then text.
pub fn detect(head: &[u8], is_text: bool) -> String {
    let sniffed = infer::get(head).map(|t| t.mime_type());
    let markup = markup(head);
    match (sniffed, markup) {
        // SVG is XML to `infer`; report what a browser would make of it.
        (_, Some(m @ "image/svg+xml")) => m.to_owned(),
        (Some(t), _) if !t.starts_with("text/") => t.to_owned(),
        (_, Some(m)) => m.to_owned(),
        (Some(t), None) => t.to_owned(),
        (None, None) if is_text => TEXT.to_owned(),
        (None, None) => BINARY.to_owned(),
    }
}

/// HTML, SVG or other XML at the start of a text file (after a BOM and white space),
/// the way browsers sniff it.
fn markup(head: &[u8]) -> Option<&'static str> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &head[start..head.len().min(start + 1024)];
    let lower: Vec<u8> = text.to_ascii_lowercase();
    let has = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if lower.starts_with(b"<svg") || (lower.starts_with(b"<?xml") && has(b"<svg")) {
        return Some("image/svg+xml");
    }
    if lower.starts_with(b"<?xml") {
        return Some("application/xml");
    }
    const HTML: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<iframe",
        b"<style",
        b"<title",
        b"<table",
        b"<div",
        b"<font",
        b"<h1",
        b"<a",
        b"<b",
        b"<br",
        b"<p",
        b"<!--",
    ];
    let ends_tag = |at: usize| {
        matches!(
            lower.get(at),
            None | Some(b' ' | b'>' | b'\t' | b'\n' | b'\r' | b'/')
        )
    };
    HTML.iter()
        .any(|tag| lower.starts_with(tag) && (*tag == b"<!--" || ends_tag(tag.len())))
        .then_some("text/html")
}

/// Types a browser shows without running anything from the file. Everything else is served
/// as [`BINARY`], so a stored HTML, SVG, XML or script file can never run in our origin.
const SAFE: &[&str] = &[
    TEXT,
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-7z-compressed",
    "application/x-tar",
    "application/vnd.rar",
    "application/x-rar-compressed",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/bmp",
    "image/tiff",
    "image/avif",
    "image/heif",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "audio/x-flac",
    "audio/aac",
    "audio/m4a",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "video/x-msvideo",
    "video/mpeg",
];

/// The `Content-Type` a stored file is served with: its own when it is on the safe list,
/// `application/octet-stream` otherwise.
pub fn served(stored: &str) -> &str {
    if SAFE.contains(&stored) {
        stored
    } else {
        BINARY
    }
}

/// Whether `chunks`, read in order, are UTF-8 without NULs. A character split between two
/// chunks is checked as a whole.
pub fn is_utf8_text<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> bool {
    let mut carry: Vec<u8> = Vec::new();
    for chunk in chunks {
        if chunk.contains(&0) {
            return false;
        }
        let joined;
        let data: &[u8] = if carry.is_empty() {
            chunk
        } else {
            joined = [carry.as_slice(), chunk].concat();
            &joined
        };
        match std::str::from_utf8(data) {
            Ok(_) => carry.clear(),
            // Cut in the middle of a character: finish it with the next chunk.
            Err(e) if e.error_len().is_none() => carry = data[e.valid_up_to()..].to_vec(),
            Err(_) => return false,
        }
    }
    carry.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_win_over_names() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(detect(png, false), "image/png");
        assert_eq!(detect(b"%PDF-1.7\n%...", false), "application/pdf");
        assert_eq!(detect(b"PK\x03\x04\x14\0\0\0", false), "application/zip");
        assert_eq!(detect(b"\xFF\xD8\xFF\xE0\0\x10JFIF", false), "image/jpeg");
    }

    #[test]
    fn text_and_unknown_bytes() {
        assert_eq!(detect(b"Dear Ada,\nthanks.", true), TEXT);
        assert_eq!(detect(b"\x01\x02\x03", false), BINARY);
    }

    #[test]
    fn markup_is_recognised_so_it_is_never_served_as_itself() {
        assert_eq!(detect(b"<!DOCTYPE html><p>x", true), "text/html");
        assert_eq!(detect(b"\xEF\xBB\xBF  <html>", true), "text/html");
        assert_eq!(detect(b"<script>alert(1)</script>", true), "text/html");
        assert_eq!(
            detect(b"<svg xmlns='http://www.w3.org/2000/svg'/>", true),
            "image/svg+xml"
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?>\n<svg onload=\"x()\"/>", true),
            "image/svg+xml"
        );
        assert_eq!(
            detect(b"<?xml version=\"1.0\"?><a/>", true),
            "application/xml"
        );
        assert_eq!(detect(b"<abbr> is not html", true), TEXT);
        for active in [
            "text/html",
            "image/svg+xml",
            "application/xml",
            "text/javascript",
        ] {
            assert_eq!(served(active), BINARY, "{active}");
        }
        assert_eq!(served("image/png"), "image/png");
        assert_eq!(served(TEXT), TEXT);
    }

    #[test]
    fn utf8_across_chunk_boundaries() {
        let text = "résumé".as_bytes();
        let (a, b) = text.split_at(2); // inside the é
        assert!(is_utf8_text([a, b]));
        assert!(!is_utf8_text([a])); // ends mid-character
        assert!(!is_utf8_text([b"ok\0".as_slice()]));
        assert!(!is_utf8_text([b"\xFF".as_slice()]));
        assert!(is_utf8_text([b"".as_slice()]));
    }
}
