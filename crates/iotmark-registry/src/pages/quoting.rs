//! Putting identifiers from submissions into URLs, shell commands and file names.
//!
//! A product ID is whatever its declaration said: the registry does not restrict it, so a
//! link, a command a reader copies into a shell, or a download's file name must not let it
//! mean anything else there. (HTML escaping is askama's.)

/// `text` as one URL path segment or query value: unreserved characters (RFC 3986 §2.3) as
/// they are, everything else percent-encoded.
pub(super) fn url_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `word` as one POSIX shell word: as it is when it holds only characters no shell treats
/// specially, else in single quotes (inside which only `'` itself needs care).
pub(super) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'.' | b'_' | b'/' | b':' | b'=' | b',' | b'+' | b'@' | b'%'
                )
        });
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A file name stem made from `id`: letters, digits, `-`, `_` and `.` (not leading) kept,
/// anything else `_`, at most 64 characters; `product` when nothing is left. Safe in a
/// `Content-Disposition` header and as a shell word.
pub(super) fn file_stem(id: &str) -> String {
    let stem: String = id
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        "product".to_owned()
    } else {
        stem.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_cannot_escape_their_place() {
        assert_eq!(url_component("acme-securecam-2"), "acme-securecam-2");
        assert_eq!(url_component("a/b?c d&é"), "a%2Fb%3Fc%20d%26%C3%A9");
        assert_eq!(
            shell_word("acme-securecam-2.tlog-proof"),
            "acme-securecam-2.tlog-proof"
        );
        assert_eq!(shell_word("x; rm -rf ~"), "'x; rm -rf ~'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(file_stem("acme-securecam-2"), "acme-securecam-2");
        assert_eq!(file_stem("../\"evil\"\r\n"), "__evil___");
        assert_eq!(file_stem("..."), "product");
    }
}
