//! Filenames as clients send them, made safe to store and to show.

/// The longest stored filename, in bytes of UTF-8.
pub const MAX_BYTES: usize = 255;

/// What a name falls back to when nothing of it is left.
pub const FALLBACK: &str = "file";

/// A client's filename reduced to a harmless name: the last component after any `/` or `\`
/// (no paths, from any OS), without control characters or NULs, trimmed, without leading
/// dots (no hidden files, no `..`), at most [`MAX_BYTES`] bytes cut on a character
/// boundary; [`FALLBACK`] when nothing is left.
pub fn sanitize(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim_start();
    let mut end = trimmed.len().min(MAX_BYTES);
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    let name = trimmed[..end].trim_end();
    if name.is_empty() {
        FALLBACK.to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_any_os_are_cut_to_the_last_component() {
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize("C:\\evil\\x.exe"), "x.exe");
        assert_eq!(sanitize("a/b\\c/d.txt"), "d.txt");
        assert_eq!(sanitize("dir/"), FALLBACK);
    }

    #[test]
    fn control_characters_nuls_and_leading_dots_go() {
        assert_eq!(sanitize("ev\0il\r\n.txt"), "evil.txt");
        assert_eq!(sanitize("\u{7f}x\u{9b}y"), "xy");
        assert_eq!(sanitize("  .htaccess "), "htaccess");
        assert_eq!(sanitize(".."), FALLBACK);
        assert_eq!(sanitize("..."), FALLBACK);
        assert_eq!(sanitize(""), FALLBACK);
        assert_eq!(sanitize("   "), FALLBACK);
    }

    #[test]
    fn ordinary_names_are_kept() {
        assert_eq!(sanitize("résumé.pdf"), "résumé.pdf");
        assert_eq!(sanitize("\"quotes\".txt"), "\"quotes\".txt");
        assert_eq!(sanitize("Q3 report (final).xlsx"), "Q3 report (final).xlsx");
        assert_eq!(sanitize("a..b"), "a..b");
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let long = "é".repeat(200); // 400 bytes
        let cut = sanitize(&long);
        assert!(cut.len() <= MAX_BYTES);
        assert_eq!(cut, "é".repeat(127));
        assert_eq!(sanitize(&"x".repeat(300)).len(), MAX_BYTES);
    }
}
