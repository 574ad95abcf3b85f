//! Reading a CSV file as spreadsheets and CRMs write them: UTF-8 with or without a BOM, or
//! Windows-1252 from Excel; comma, semicolon or tab between cells; LF or CRLF; quoted cells
//! spanning lines. Rows whose cell count differs from the header's are reported, not
//! guessed at.

use std::borrow::Cow;

use crate::error::{AppError, AppResult};

/// The most columns a file may have (no CRM export comes close).
pub const MAX_COLUMNS: usize = 200;
/// The longest a single cell may be, in bytes.
pub const MAX_CELL_BYTES: usize = 100_000;

/// A file, decoded and split into its header and rows.
#[derive(Debug)]
pub struct Parsed {
    pub encoding: &'static str,
    pub delimiter: u8,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// One CSV record after the header, with the line of the file it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

/// A record that cannot become a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub line: u64,
    pub message: String,
}

/// Decodes `bytes` and parses them. Calls `bad` for every row that cannot be used (wrong
/// number of cells, an oversized cell), so the caller can report it with its line number.
pub fn parse(bytes: &[u8], mut bad: impl FnMut(BadRow)) -> AppResult<Parsed> {
    let (text, encoding) = decode(bytes);
    // The csv crate counts a record after a CRLF as starting on the line before; with LF
    // line ends every reported line number is the one a text editor shows.
    let text = if text.contains("\r\n") {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        text
    };
    let text = text.as_bytes();
    let delimiter = sniff_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text);
    let mut records = reader.records();
    let headers: Vec<String> = match records.next() {
        None => return Err(AppError::invalid("file", "is empty: expected a header row")),
        Some(Err(e)) => return Err(AppError::invalid("file", csv_message(&e))),
        Some(Ok(record)) => record.iter().map(|h| h.trim().to_owned()).collect(),
    };
    check_headers(&headers)?;
    let mut rows = Vec::new();
    for record in records {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                bad(BadRow {
                    line,
                    message: csv_message(&e),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != headers.len() {
            bad(BadRow {
                line,
                message: format!(
                    "has {} cells where the header has {}",
                    record.len(),
                    headers.len()
                ),
            });
            continue;
        }
        if record.iter().any(|c| c.len() > MAX_CELL_BYTES) {
            bad(BadRow {
                line,
                message: format!("has a cell longer than {MAX_CELL_BYTES} bytes"),
            });
            continue;
        }
        rows.push(Row {
            line,
            cells: record.iter().map(str::to_owned).collect(),
        });
    }
    Ok(Parsed {
        encoding,
        delimiter,
        headers,
        rows,
    })
}

/// UTF-8 (a BOM is dropped) when the bytes are valid UTF-8, else Windows-1252, which is what
/// Excel writes on Western systems and a superset of Latin-1's printable characters.
fn decode(bytes: &[u8]) -> (Cow<'_, str>, &'static str) {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(body) {
        Ok(text) => (Cow::Borrowed(text), "utf-8"),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(body);
            (text, "windows-1252")
        }
    }
}

/// The delimiter of the header line: whichever of comma, semicolon and tab occurs most
/// often outside quotes (a comma when none does).
fn sniff_delimiter(text: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in text {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

fn check_headers(headers: &[String]) -> AppResult<()> {
    if headers.len() > MAX_COLUMNS {
        return Err(AppError::invalid(
            "file",
            format!(
                "has {} columns; at most {MAX_COLUMNS} are read",
                headers.len()
            ),
        ));
    }
    if headers.iter().all(|h| h.is_empty()) {
        return Err(AppError::invalid(
            "file",
            "has no column names in its first row",
        ));
    }
    for (i, h) in headers.iter().enumerate() {
        if !h.is_empty() && headers[..i].contains(h) {
            return Err(AppError::invalid(
                "file",
                format!("has the column \"{h}\" twice: rename one of them"),
            ));
        }
    }
    Ok(())
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "is not valid text".to_owned(),
        _ => format!("cannot be read as CSV ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> (Parsed, Vec<BadRow>) {
        let mut bad = Vec::new();
        let parsed = parse(bytes, |b| bad.push(b)).unwrap();
        (parsed, bad)
    }

    #[test]
    fn utf8_with_bom_and_crlf() {
        let (p, bad) = read(b"\xEF\xBB\xBFName,City\r\nJos\xC3\xA9,Z\xC3\xBCrich\r\n");
        assert_eq!(p.encoding, "utf-8");
        assert_eq!(p.headers, ["Name", "City"]);
        assert_eq!(p.rows[0].cells, ["José", "Zürich"]);
        assert!(bad.is_empty());
    }

    #[test]
    fn windows_1252_from_excel() {
        // "Café – Müller" in Windows-1252, with the en dash at 0x96.
        let (p, _) = read(b"Name\nCaf\xE9 \x96 M\xFCller\n");
        assert_eq!(p.encoding, "windows-1252");
        assert_eq!(p.rows[0].cells, ["Café – Müller"]);
    }

    #[test]
    fn semicolons_and_tabs_are_detected() {
        let (p, _) = read(b"Name;Amount\n\"Smith, Jones\";1,5\n");
        assert_eq!(p.delimiter, b';');
        assert_eq!(p.rows[0].cells, ["Smith, Jones", "1,5"]);
        let (p, _) = read(b"Name\tCity\nAda\tLondon\n");
        assert_eq!(p.delimiter, b'\t');
        assert_eq!(p.rows[0].cells, ["Ada", "London"]);
    }

    #[test]
    fn quoted_newlines_keep_line_numbers_right() {
        let (p, _) = read(b"Name,Address\nA,\"1 Main St\nSuite 2\"\nB,x\n");
        assert_eq!(p.rows[0].cells[1], "1 Main St\nSuite 2");
        assert_eq!(p.rows[0].line, 2);
        assert_eq!(p.rows[1].line, 4);
    }

    #[test]
    fn ragged_rows_are_reported_not_guessed() {
        let (p, bad) = read(b"a,b\n1,2\n1,2,3\n4\n5,6\n");
        assert_eq!(p.rows.len(), 2);
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].line, 3);
        assert!(bad[0].message.contains("3 cells"), "{:?}", bad[0]);
        assert_eq!(bad[1].line, 4);
    }

    #[test]
    fn blank_lines_are_skipped_and_empty_files_refused() {
        let (p, bad) = read(b"a,b\n\n1,2\n,\n");
        assert_eq!(p.rows.len(), 1);
        assert!(bad.is_empty());
        assert!(parse(b"", |_| {}).is_err());
        assert!(parse(b"a,a\n1,2\n", |_| {}).is_err());
    }
}
