//! Debian changelogs (`usr/share/doc/<pkg>/changelog.Debian.gz`): for each entry its
//! version and the CVE IDs its text names. The next check ("this CVE was fixed in revision
//! X, the image has X or later") reads them from the package component.

use std::io::Read;

/// Largest changelog read, decompressed. openssl's, among the longest, is under 1 MiB.
pub const MAX_CHANGELOG_BYTES: u64 = 8 << 20;
/// Most entries kept from one changelog.
pub const MAX_ENTRIES: usize = 20_000;
/// Most CVE IDs kept from one entry.
const MAX_CVES_PER_ENTRY: usize = 2_000;

/// One changelog entry: the version it introduced and the CVE IDs it names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangelogEntry {
    /// The full version, as in the entry's header line (`1:3.0.17-1~deb12u2`).
    pub version: String,
    /// The upstream part: without the epoch and the Debian revision.
    pub upstream: String,
    /// The Debian revision (after the last `-`); `None` for a native package.
    pub revision: Option<String>,
    /// `CVE-YYYY-NNNN…` IDs named in the entry's text, in order, each once.
    pub cves: Vec<String>,
}

/// The entries of a gzip-compressed changelog.
pub fn parse_gz(data: &[u8]) -> Result<Vec<ChangelogEntry>, String> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .take(MAX_CHANGELOG_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("gzip: {e}"))?;
    if text.len() as u64 > MAX_CHANGELOG_BYTES {
        return Err(format!(
            "larger than {MAX_CHANGELOG_BYTES} bytes decompressed; not read"
        ));
    }
    Ok(parse(&String::from_utf8_lossy(&text)))
}

/// The version of an entry header line: `package (version) distribution; urgency=…`,
/// starting in the first column (Debian Policy §4.4).
fn header_version(line: &str) -> Option<&str> {
    if line.starts_with(char::is_whitespace) {
        return None;
    }
    let (package, rest) = line.split_once(" (")?;
    let (version, rest) = rest.split_once(')')?;
    let valid = !package.is_empty()
        && !package.contains(char::is_whitespace)
        && !version.is_empty()
        && !version.contains(char::is_whitespace)
        && rest.contains(';');
    valid.then_some(version)
}

/// The entries of a changelog's text, newest first as the file has them.
pub fn parse(text: &str) -> Vec<ChangelogEntry> {
    let mut out: Vec<ChangelogEntry> = Vec::new();
    for line in text.lines() {
        if let Some(version) = header_version(line) {
            if out.len() >= MAX_ENTRIES {
                break;
            }
            let without_epoch = version.split_once(':').map_or(version, |(_, v)| v);
            let (upstream, revision) = match without_epoch.rsplit_once('-') {
                Some((u, r)) => (u, Some(r.to_owned())),
                None => (without_epoch, None),
            };
            out.push(ChangelogEntry {
                version: version.to_owned(),
                upstream: upstream.to_owned(),
                revision,
                cves: Vec::new(),
            });
        } else if let Some(entry) = out.last_mut() {
            for id in cve_ids(line) {
                if !entry.cves.contains(&id) && entry.cves.len() < MAX_CVES_PER_ENTRY {
                    entry.cves.push(id);
                }
            }
        }
    }
    out
}

/// The `CVE-YYYY-NNNN+` IDs in one line, upper case.
fn cve_ids(line: &str) -> Vec<String> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = bytes.get(from..).and_then(|rest| {
        rest.windows(4)
            .position(|w| w.eq_ignore_ascii_case(b"CVE-"))
    }) {
        let start = from + at;
        let digits = |from: usize| {
            bytes
                .get(from..)
                .map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count())
        };
        let year = digits(start + 4);
        let number = if year == 4 && bytes.get(start + 8) == Some(&b'-') {
            digits(start + 9)
        } else {
            0
        };
        // An ID glued to a preceding letter or digit (`XCVE-…`) is some other token.
        let standalone = start == 0
            || bytes
                .get(start - 1)
                .is_some_and(|b| !b.is_ascii_alphanumeric());
        if number >= 4 && standalone {
            let end = start + 9 + number;
            if let Some(id) = line.get(start..end) {
                out.push(id.to_ascii_uppercase());
            }
            from = end;
        } else {
            from = start + 4;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_versions_and_cves() {
        let text = "openssl (3.0.17-1~deb12u2) bookworm-security; urgency=medium\n\n  * CVE-2025-9230 (Out-of-bounds read & write in RFC 3211 KEK Unwrap).\n  * CVE-2025-9232, cve-2025-9230 again.\n\n -- Sebastian Andrzej Siewior <sebastian@breakpoint.cc>  Tue, 30 Sep 2025 21:36:03 +0200\n\nopenssl (1:3.0.2) unstable; urgency=low\n\n  * Not a CVE-12-3456 nor XCVE-2020-12345, but CVE-2016-2108.\n\n -- X <x@y>  Mon, 1 Jan 2024 00:00:00 +0000\n";
        let e = parse(text);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].version, "3.0.17-1~deb12u2");
        assert_eq!(e[0].upstream, "3.0.17");
        assert_eq!(e[0].revision.as_deref(), Some("1~deb12u2"));
        assert_eq!(e[0].cves, ["CVE-2025-9230", "CVE-2025-9232"]);
        assert_eq!(e[1].upstream, "3.0.2");
        assert_eq!(e[1].revision, None);
        assert_eq!(e[1].cves, ["CVE-2016-2108"]);
    }

    #[test]
    fn a_gzip_that_is_not_one_is_an_error() {
        assert!(parse_gz(b"not gzip").is_err());
    }
}
