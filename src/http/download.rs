//! The HTTP side of serving a stored file: `Range` requests (RFC 9110 §14) and
//! `Content-Disposition` filenames (RFC 6266, with RFC 8187/5987 encoding for non-ASCII).

/// What a `Range` header asks of a representation of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// No usable range: send everything with 200. Also the answer to multiple ranges, to
    /// units other than bytes, and to malformed headers (which RFC 9110 says to ignore).
    Whole,
    /// Bytes `start..=end`, with 206.
    Part { start: u64, end: u64 },
    /// A well-formed range with no byte in the file: 416.
    Unsatisfiable,
}

/// Reads a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range.
pub fn parse_range(header: Option<&str>, size: u64) -> ByteRange {
    let Some(raw) = header else {
        return ByteRange::Whole;
    };
    let Some((unit, spec)) = raw.trim().split_once('=') else {
        return ByteRange::Whole;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return ByteRange::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return ByteRange::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(0)) => ByteRange::Unsatisfiable,
        (true, _, Some(n)) => ByteRange::Part {
            start: size.saturating_sub(n),
            end: size - 1,
        },
        (false, Some(start), None) if last.trim().is_empty() => {
            if start >= size {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Part {
                    start,
                    end: size - 1,
                }
            }
        }
        (false, Some(start), Some(end)) if start <= end => {
            if start >= size {
                ByteRange::Unsatisfiable
            } else {
                ByteRange::Part {
                    start,
                    end: end.min(size - 1),
                }
            }
        }
        _ => ByteRange::Whole,
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback for old clients (non-
/// ASCII, quotes, backslashes and percent signs become `_`) and the exact name, percent-
/// encoded, which current browsers prefer.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && !matches!(c, '"' | '\\' | '%') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(filename.len() * 3);
    for b in filename.bytes() {
        // RFC 8187 attr-char; everything else is %XX.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ByteRange::*;

    #[test]
    fn single_ranges() {
        let r = |h: &str| parse_range(Some(h), 1000);
        assert_eq!(r("bytes=0-99"), Part { start: 0, end: 99 });
        assert_eq!(
            r("bytes=900-"),
            Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            r("bytes=-100"),
            Part {
                start: 900,
                end: 999
            }
        );
        assert_eq!(r("bytes=-5000"), Part { start: 0, end: 999 });
        assert_eq!(
            r("bytes=990-5000"),
            Part {
                start: 990,
                end: 999
            }
        );
        assert_eq!(r("Bytes = 1-1"), Part { start: 1, end: 1 });
        assert_eq!(
            r("bytes=999-999"),
            Part {
                start: 999,
                end: 999
            }
        );
    }

    #[test]
    fn unsatisfiable_ranges() {
        let r = |h: &str| parse_range(Some(h), 1000);
        assert_eq!(r("bytes=1000-"), Unsatisfiable);
        assert_eq!(r("bytes=1000-2000"), Unsatisfiable);
        assert_eq!(r("bytes=-0"), Unsatisfiable);
    }

    #[test]
    fn what_is_ignored_gets_the_whole_file() {
        assert_eq!(parse_range(None, 10), Whole);
        let r = |h: &str| parse_range(Some(h), 1000);
        assert_eq!(r("bytes=0-1,5-6"), Whole);
        assert_eq!(r("items=0-1"), Whole);
        assert_eq!(r("bytes=5-1"), Whole);
        assert_eq!(r("bytes=a-b"), Whole);
        assert_eq!(r("bytes=-"), Whole);
        assert_eq!(r("bytes=+1-2"), Whole);
        assert_eq!(r("bytes"), Whole);
    }

    #[test]
    fn dispositions_carry_an_ascii_fallback_and_the_exact_name() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            content_disposition("résumé.pdf"),
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
        );
        assert_eq!(
            content_disposition("\"quotes\".txt"),
            "attachment; filename=\"_quotes_.txt\"; filename*=UTF-8''%22quotes%22.txt"
        );
        assert_eq!(
            content_disposition("a b;c%\\.txt"),
            "attachment; filename=\"a b;c__.txt\"; filename*=UTF-8''a%20b%3Bc%25%5C.txt"
        );
    }
}
