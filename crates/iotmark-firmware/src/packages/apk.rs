//! apk's database (`lib/apk/db/installed`, Alpine): stanzas of one-letter `K:value`
//! lines. `P` name, `V` version, `A` arch, `o` origin (source) package, `m` maintainer,
//! `L` licence; `F` a folder and the `R` lines after it the files in it.

use super::Installed;

pub const DATABASE: &str = "lib/apk/db/installed";

/// Most packages read from one database.
const MAX_PACKAGES: usize = 100_000;

/// The packages of an `installed` file's bytes. A stanza without `P` or `V` is skipped.
pub fn parse(data: &[u8]) -> Vec<Installed> {
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut current = Installed::default();
    let mut folder = String::new();
    let finish = |p: &mut Installed, folder: &mut String, out: &mut Vec<Installed>| {
        let p = std::mem::take(p);
        folder.clear();
        if !p.name.is_empty() && !p.version.is_empty() && out.len() < MAX_PACKAGES {
            out.push(p);
        }
    };
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            if line.trim().is_empty() {
                finish(&mut current, &mut folder, &mut out);
            }
            continue;
        };
        let value = value.trim();
        let some = || (!value.is_empty()).then(|| value.to_owned());
        match key {
            "P" => current.name = value.to_owned(),
            "V" => current.version = value.to_owned(),
            "A" => current.arch = some(),
            "o" => current.source_package = some(),
            "m" => current.supplier = some(),
            "L" => current.licenses.extend(some()),
            "F" => folder = value.trim_matches('/').to_owned(),
            "R" if !value.is_empty() => current.files.push(if folder.is_empty() {
                format!("/{value}")
            } else {
                format!("/{folder}/{value}")
            }),
            _ => {}
        }
    }
    finish(&mut current, &mut folder, &mut out);
    for p in &mut out {
        p.database = format!("/{DATABASE}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_owned_files() {
        // The shape apk 2 writes (checksums shortened).
        let db = b"C:Q1sSNCes/6Vw9NETuy2wAr8rL1XWo=\nP:musl\nV:1.2.5-r0\nA:x86_64\nS:409101\nI:667648\nT:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Natanael Copa <ncopa@alpinelinux.org>\nt:1712227811\nc:e3d3f9b4e5c9d1b4f0d2a5d0fd7b1b3c4dc15f2a\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1sl3iy0bAjHqHBXXdmS0u3ydaGKo=\nR:libc.musl-x86_64.so.1\n\nP:busybox\nV:1.36.1-r29\nA:x86_64\nL:GPL-2.0-only\nF:bin\nR:busybox\nF:etc/busybox-paths.d\n\nV:no-name\n";
        let p = parse(db);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(
            (
                p[0].name.as_str(),
                p[0].version.as_str(),
                p[0].arch.as_deref()
            ),
            ("musl", "1.2.5-r0", Some("x86_64"))
        );
        assert_eq!(p[0].licenses, ["MIT"]);
        assert_eq!(
            p[0].supplier.as_deref(),
            Some("Natanael Copa <ncopa@alpinelinux.org>")
        );
        assert_eq!(p[0].source_package.as_deref(), Some("musl"));
        assert_eq!(
            p[0].files,
            ["/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"]
        );
        assert_eq!(p[1].files, ["/bin/busybox"]);
        assert_eq!(p[1].database, "/lib/apk/db/installed");
    }
}
