//! The Debian control-file format that dpkg and opkg databases share: stanzas of
//! `Field: value` lines separated by blank lines, a line starting with a space or tab
//! continuing the field before it (Debian Policy §5.1).

/// One stanza: fields in file order, names as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Stanza {
    fields: Vec<(String, String)>,
}

impl Stanza {
    /// A field's value (first line and continuations joined by `\n`); field names compare
    /// case-insensitively, as Policy says.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A field's first line, trimmed.
    pub(crate) fn line(&self, name: &str) -> Option<String> {
        let v = self.get(name)?.lines().next()?.trim();
        (!v.is_empty()).then(|| v.to_owned())
    }
}

/// Most stanzas read from one file.
pub(crate) const MAX_STANZAS: usize = 200_000;

/// The stanzas of a control file. Bytes that are not UTF-8 are replaced, so a stray
/// Latin-1 maintainer name does not lose the package.
pub(crate) fn stanzas(data: &[u8]) -> Vec<Stanza> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut current = Stanza::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                if out.len() >= MAX_STANZAS {
                    return out;
                }
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = current.fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            current
                .fields
                .push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !current.fields.is_empty() && out.len() < MAX_STANZAS {
        out.push(current);
    }
    out
}

/// Whether a `Status:` value (`want flag state`) says the package's files are on disk.
/// Besides `installed`, that is every state after unpacking: image builders often leave
/// packages `unpacked` and configure them on first boot, and such an image ships them all
/// the same. dpkg also keeps removed packages (`config-files`, `not-installed`) and ones
/// whose unpacking failed (`half-installed`) in the file: those are not shipped.
pub(crate) fn installed(status: Option<&str>) -> bool {
    status.is_none_or(|s| {
        matches!(
            s.split_whitespace().nth(2),
            Some(
                "installed"
                    | "unpacked"
                    | "half-configured"
                    | "triggers-awaited"
                    | "triggers-pending"
            )
        )
    })
}

/// The lines of a file list (`info/<pkg>.list`): one path a line; opkg may add a tab and
/// more after the path.
pub(crate) fn file_list(data: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(data)
        .lines()
        .filter_map(|l| {
            let path = l.split('\t').next()?.trim_end();
            path.starts_with('/').then(|| path.to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_and_installed_status() {
        let s = stanzas(
            b"Package: a\nStatus: install ok installed\nDescription: short\n more\n .\n\n\nPackage: b\nStatus: deinstall ok config-files\n",
        );
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].get("description"), Some("short\nmore\n."));
        assert_eq!(s[0].line("Description").as_deref(), Some("short"));
        assert!(installed(s[0].get("Status")));
        assert!(!installed(s[1].get("Status")));
        assert!(installed(Some("install ok unpacked")));
        assert!(installed(Some("install ok triggers-pending")));
        assert!(!installed(Some("install reinstreq half-installed")));
        assert!(!installed(Some("purge ok not-installed")));
        assert_eq!(
            file_list(b"/.\n/usr/bin/x\n/usr/lib/y\t0755\nnot a path\n"),
            ["/.", "/usr/bin/x", "/usr/lib/y"]
        );
    }
}
