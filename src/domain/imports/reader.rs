//! Reading a CSV file as spreadsheets and CRMs write them: UTF-8 with or without a BOM, or
//! Windows-1252 from Excel; comma, semicolon or tab between cells; LF or CRLF; quoted cells
//! spanning lines. Rows whose cell count differs from the header's come through as they
//! are, for the import to report, not guess at.

use crate::error::{AppError, AppResult};

/// The most columns a file may have (no CRM export comes close).
pub const MAX_COLUMNS: usize = 200;
/// The longest a single cell may be, in bytes.
pub const MAX_CELL_BYTES: usize = 100_000;

/// A file, decoded, with its header read. The rows are read as they are needed
/// ([`Source::rows`]), so a file is held in memory once, however many rows it has.
#[derive(Debug)]
pub struct Source {
    pub encoding: &'static str,
    pub delimiter: u8,
    pub headers: Vec<String>,
    /// The decoded text, UTF-8.
    text: Vec<u8>,
    /// Where the rows start (after a BOM).
    body: usize,
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

impl Source {
    /// Decodes `bytes` and reads the header (422 when there is none usable).
    pub fn new(bytes: Vec<u8>) -> AppResult<Source> {
        let (text, encoding) = decode(bytes);
        let body = if text.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let delimiter = sniff_delimiter(&text[body..]);
        let mut source = Source {
            encoding,
            delimiter,
            headers: Vec::new(),
            text,
            body,
        };
        let headers: Vec<String> = match source.records().next() {
            None => return Err(AppError::invalid("file", "is empty: expected a header row")),
            Some(Err(e)) => return Err(AppError::invalid("file", csv_message(&e))),
            Some(Ok(record)) => record.iter().map(|h| h.trim().to_owned()).collect(),
        };
        check_headers(&headers)?;
        source.headers = headers;
        Ok(source)
    }

    fn records(&self) -> csv::StringRecordsIntoIter<&[u8]> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(&self.text[self.body..])
            .into_records()
    }

    /// The rows after the header, in order, as they are read: `Err` for a record that
    /// cannot be used (unreadable, or an oversized cell). Blank lines are skipped; a row
    /// with a different number of cells than the header comes through as it is (the
    /// import reports it with the row's cells, so it can be fixed).
    pub fn rows(&self) -> impl Iterator<Item = Result<Row, BadRow>> + '_ {
        let text = &self.text[self.body..];
        // Line numbers as an editor shows them, counted from the records' byte offsets
        // (the csv crate's own count is off by one after a CRLF).
        let mut counted = (0usize, 1u64);
        let mut line_at = move |byte: usize| {
            let (from, line) = counted;
            let mut byte = byte.clamp(from, text.len());
            // After a CRLF (and over blank lines) the crate puts the next record's start on
            // a line end; no record starts with one.
            while matches!(text.get(byte), Some(b'\n' | b'\r')) {
                byte += 1;
            }
            let more = text[from..byte].iter().filter(|&&b| b == b'\n').count() as u64;
            counted = (byte, line + more);
            line + more
        };
        self.records()
            .skip(1)
            .filter_map(move |record| match record {
                Err(e) => {
                    let line = e.position().map_or(0, |p| line_at(p.byte() as usize));
                    Some(Err(BadRow {
                        line,
                        message: csv_message(&e),
                    }))
                }
                Ok(record) => {
                    let line = record.position().map_or(0, |p| line_at(p.byte() as usize));
                    if record.iter().all(|c| c.trim().is_empty()) {
                        return None;
                    }
                    if record.iter().any(|c| c.len() > MAX_CELL_BYTES) {
                        return Some(Err(BadRow {
                            line,
                            message: format!("has a cell longer than {MAX_CELL_BYTES} bytes"),
                        }));
                    }
                    // Line ends inside a cell as LF, whatever the file used.
                    let cells = record
                        .iter()
                        .map(|c| {
                            if c.contains('\r') {
                                c.replace("\r\n", "\n")
                            } else {
                                c.to_owned()
                            }
                        })
                        .collect();
                    Some(Ok(Row { line, cells }))
                }
            })
    }
}

/// UTF-8 when the bytes are valid UTF-8 (kept as they are, without a copy), else
/// Windows-1252, which is what Excel writes on Western systems and a superset of Latin-1's
/// printable characters.
fn decode(bytes: Vec<u8>) -> (Vec<u8>, &'static str) {
    if std::str::from_utf8(&bytes).is_ok() {
        return (bytes, "utf-8");
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    (text.into_owned().into_bytes(), "windows-1252")
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

    struct Read {
        source: Source,
        rows: Vec<Row>,
        bad: Vec<BadRow>,
    }

    fn read(bytes: &[u8]) -> Read {
        let source = Source::new(bytes.to_vec()).unwrap();
        let (mut rows, mut bad) = (Vec::new(), Vec::new());
        for r in source.rows() {
            match r {
                Ok(row) => rows.push(row),
                Err(b) => bad.push(b),
            }
        }
        Read { source, rows, bad }
    }

    #[test]
    fn utf8_with_bom_and_crlf() {
        let r = read(b"\xEF\xBB\xBFName,City\r\nJos\xC3\xA9,Z\xC3\xBCrich\r\n\r\nAda,Bern\r\n");
        assert_eq!(r.source.encoding, "utf-8");
        assert_eq!(r.source.headers, ["Name", "City"]);
        assert_eq!(r.rows[0].cells, ["José", "Zürich"]);
        assert_eq!((r.rows[0].line, r.rows[1].line), (2, 4));
        assert!(r.bad.is_empty());
    }

    #[test]
    fn windows_1252_from_excel() {
        // "Café – Müller" in Windows-1252, with the en dash at 0x96.
        let r = read(b"Name\nCaf\xE9 \x96 M\xFCller\n");
        assert_eq!(r.source.encoding, "windows-1252");
        assert_eq!(r.rows[0].cells, ["Café – Müller"]);
    }

    #[test]
    fn semicolons_and_tabs_are_detected() {
        let r = read(b"Name;Amount\n\"Smith, Jones\";1,5\n");
        assert_eq!(r.source.delimiter, b';');
        assert_eq!(r.rows[0].cells, ["Smith, Jones", "1,5"]);
        let r = read(b"Name\tCity\nAda\tLondon\n");
        assert_eq!(r.source.delimiter, b'\t');
        assert_eq!(r.rows[0].cells, ["Ada", "London"]);
    }

    #[test]
    fn quoted_newlines_keep_line_numbers_right() {
        let r = read(b"Name,Address\r\nA,\"1 Main St\r\nSuite 2\"\r\nB,x\r\n");
        assert_eq!(r.rows[0].cells[1], "1 Main St\nSuite 2");
        assert_eq!(r.rows[0].line, 2);
        assert_eq!(r.rows[1].line, 4);
    }

    #[test]
    fn ragged_rows_come_through_as_they_are() {
        let r = read(b"a,b\n1,2\n1,2,3\n4\n5,6\n");
        let cells: Vec<usize> = r.rows.iter().map(|row| row.cells.len()).collect();
        assert_eq!(cells, [2, 3, 1, 2]);
        assert_eq!(r.rows[1].line, 3);
        assert!(r.bad.is_empty());
    }

    #[test]
    fn blank_lines_are_skipped_and_empty_files_refused() {
        let r = read(b"a,b\n\n1,2\n,\n");
        assert_eq!(r.rows.len(), 1);
        assert!(r.bad.is_empty());
        assert!(Source::new(Vec::new()).is_err());
        assert!(Source::new(b"a,a\n1,2\n".to_vec()).is_err());
    }
}
