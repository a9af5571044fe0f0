//! Services started at boot, each reported with the file and line that starts it.
//!
//! Only what actually starts counts: an init.d script is started when a start link points
//! to it (`/etc/rc.d/S??name` on OpenWrt, `/etc/rc[2-5S].d/S??name` on System V), when a
//! started rcS loops over `/etc/init.d/S*` (Buildroot), or when inittab names it; OpenWrt
//! services whose `/etc/config/<name>` disables every section do not start. `rc.local`
//! always runs (OpenWrt's `done` script and Debian's rc-local unit run it). systemd units
//! start when a `*.wants/` or `*.requires/` directory names them. inetd and xinetd services
//! start with their super-server.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::{Finding, Severity, fail, file_name, resolve, shell_words, text, uci};
use crate::tree::{Kind, Tree};

/// A daemon worth reporting when it starts at boot.
struct Daemon {
    names: &'static [&'static str],
    check: &'static str,
    severity: Severity,
    what: &'static str,
}

const DAEMONS: &[Daemon] = &[
    Daemon {
        names: &["telnetd", "utelnetd", "in.telnetd"],
        check: "firmware.services.telnet",
        severity: Severity::High,
        what: "telnet (unencrypted remote login)",
    },
    Daemon {
        names: &["ftpd", "vsftpd", "proftpd", "pure-ftpd", "bftpd", "in.ftpd"],
        check: "firmware.services.unneeded",
        severity: Severity::Medium,
        what: "an FTP server (unencrypted file transfer)",
    },
    Daemon {
        names: &["tftpd", "in.tftpd", "atftpd", "tftpd-hpa", "opentftpd"],
        check: "firmware.services.unneeded",
        severity: Severity::Medium,
        what: "a TFTP server (file transfer without authentication)",
    },
    Daemon {
        names: &[
            "rlogind",
            "in.rlogind",
            "rshd",
            "in.rshd",
            "rexecd",
            "in.rexecd",
        ],
        check: "firmware.services.unneeded",
        severity: Severity::High,
        what: "an r-service (rlogin/rsh/rexec: host-based trust, no encryption)",
    },
    Daemon {
        names: &["gdbserver", "adbd"],
        check: "firmware.config.debug-interface",
        severity: Severity::High,
        what: "a debug interface (gdbserver/adbd)",
    },
];

/// Words before a daemon's name that mean the line does not start it.
const NOT_STARTING: &[&str] = &[
    "kill", "killall", "pkill", "-x", "-f", "-e", "-s", "echo", "which", "type", "grep", "rm",
    "logger", "printf", "stop",
];

pub(super) fn check(tree: &Tree, out: &mut Vec<Finding>) {
    let applets = busybox_applets(tree);
    let mut started: BTreeMap<PathBuf, &'static str> = BTreeMap::new();
    inittab(tree, &applets, &mut started, out);
    for s in rc_links(tree) {
        started
            .entry(s)
            .or_insert("a start link in an rc directory");
    }
    for p in ["etc/rc.local", "etc/rc.d/rc.local"] {
        if tree.file(p).is_some() {
            started.insert(PathBuf::from(p), "rc.local");
        }
    }
    // Buildroot's rcS starts every /etc/init.d/S??* in order.
    let globbed = started.keys().any(|s| {
        tree.file(&s.to_string_lossy())
            .and_then(text)
            .is_some_and(|t| t.contains("/etc/init.d/S"))
    });
    if globbed {
        for (path, _) in tree.files() {
            let name = file_name(path);
            if path.parent() == Some(Path::new("etc/init.d"))
                && name.starts_with('S')
                && name.as_bytes().get(1).is_some_and(u8::is_ascii_digit)
            {
                started
                    .entry(path.to_path_buf())
                    .or_insert("rcS, which starts every /etc/init.d/S* script");
            }
        }
    }
    for script in started.keys() {
        if disabled_by_uci(tree, script) {
            continue;
        }
        script_lines(tree, &applets, script, out);
    }
    inetd(tree, out);
    systemd(tree, &applets, out);
}

/// Names under which busybox is linked (`usr/sbin/telnetd -> ../../bin/busybox`), so a
/// message can say a daemon is a busybox applet.
fn busybox_applets(tree: &Tree) -> BTreeSet<String> {
    tree.entries
        .iter()
        .filter(|(_, e)| matches!(e.kind, Kind::Symlink(_)))
        .filter(|(p, _)| file_name(&resolve(tree, p)) == "busybox")
        .map(|(p, _)| file_name(p).to_owned())
        .collect()
}

/// The daemon a word names, if it is one we report.
fn daemon(word: &str) -> Option<&'static Daemon> {
    let base = word.rsplit('/').next().unwrap_or(word);
    DAEMONS.iter().find(|d| d.names.contains(&base))
}

/// Reports the daemons one line starts; `seen` keeps one finding per daemon per file.
fn line_daemons(
    words: &[&str],
    applets: &BTreeSet<String>,
    file: &str,
    line: usize,
    seen: &mut BTreeSet<&'static str>,
    out: &mut Vec<Finding>,
) {
    if matches!(words.first(), Some(&("echo" | "logger" | "printf" | "#"))) {
        return;
    }
    for (k, w) in words.iter().enumerate() {
        let Some(d) = daemon(w.rsplit('=').next().unwrap_or(w)) else {
            continue;
        };
        if k > 0 && words.get(k - 1).is_some_and(|p| NOT_STARTING.contains(p)) {
            continue;
        }
        if !seen.insert(d.what) {
            continue;
        }
        let base = w.rsplit('/').next().unwrap_or(w);
        let applet = if applets.contains(base) {
            " (a busybox applet)"
        } else {
            ""
        };
        out.push(fail(
            d.check,
            d.severity,
            file,
            Some(line),
            format!("{} is started at boot by {file}: `{base}`{applet}", d.what),
        ));
    }
}

fn inittab(
    tree: &Tree,
    applets: &BTreeSet<String>,
    started: &mut BTreeMap<PathBuf, &'static str>,
    out: &mut Vec<Finding>,
) {
    let Some(inittab) = tree.file("etc/inittab").and_then(text) else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (i, line) in inittab.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        // busybox: id::action:process; System V: id:runlevels:action:process.
        let f: Vec<&str> = line.splitn(4, ':').collect();
        let (Some(id), Some(action), Some(process)) = (f.first(), f.get(2), f.get(3)) else {
            continue;
        };
        let words = shell_words(process.trim_start_matches('-'));
        let program = words.first().copied().unwrap_or("");
        let shell = matches!(
            Path::new(program).file_name().and_then(|n| n.to_str()),
            Some("sh" | "ash" | "bash" | "hush")
        );
        if shell
            && matches!(
                *action,
                "respawn" | "askfirst" | "once" | "sysinit" | "wait"
            )
        {
            // `sh /etc/init.d/rcS` runs a script, it is not an interactive shell.
            if words.iter().skip(1).all(|w| w.starts_with('-')) {
                let console = if id.is_empty() {
                    "the console".to_owned()
                } else {
                    (*id).to_owned()
                };
                out.push(fail(
                    "firmware.services.root-console",
                    Severity::High,
                    "etc/inittab",
                    Some(i + 1),
                    format!(
                        "a root shell ({program}) is started on {console} without a login prompt"
                    ),
                ));
            }
        }
        if !matches!(*action, "shutdown" | "ctrlaltdel" | "restart") {
            line_daemons(&words, applets, "etc/inittab", i + 1, &mut seen, out);
            // The scripts inittab runs (`::sysinit:/etc/init.d/rcS`, `si::sysinit:sh /etc/rcS`).
            for w in words.iter().take(2) {
                let p = w.trim_start_matches('/');
                if tree.file(p).is_some() && !p.ends_with("/sh") {
                    started.insert(PathBuf::from(p), "inittab");
                }
            }
        }
    }
}

/// Scripts that start links in rc directories point to (and real files placed there).
fn rc_links(tree: &Tree) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (path, entry) in &tree.entries {
        let Some(dir) = path.parent().and_then(|p| p.to_str()) else {
            continue;
        };
        let start_dir = matches!(
            dir,
            "etc/rc.d" | "etc/rcS.d" | "etc/rc2.d" | "etc/rc3.d" | "etc/rc4.d" | "etc/rc5.d"
        ) || dir.starts_with("etc/rc.d/rc") && dir.ends_with(".d");
        if !start_dir || !file_name(path).starts_with('S') {
            continue;
        }
        let target = match entry.kind {
            Kind::Symlink(_) => resolve(tree, path),
            Kind::File(_) => path.clone(),
            _ => continue,
        };
        if tree.file(&target.to_string_lossy()).is_some() {
            out.push(target);
        }
    }
    out
}

/// OpenWrt: `/etc/init.d/<name>` reads `/etc/config/<name>`; when every section that has an
/// enable flag says off, the service does not run.
fn disabled_by_uci(tree: &Tree, script: &Path) -> bool {
    if script.parent() != Some(Path::new("etc/init.d")) {
        return false;
    }
    let name = file_name(script);
    let config = match name {
        "miniupnpd" => "upnpd",
        n => n,
    };
    let Some(t) = tree.file(&format!("etc/config/{config}")).and_then(text) else {
        return false;
    };
    let off = |v: &str| matches!(v, "0" | "false" | "no" | "off");
    let on = |v: &str| matches!(v, "1" | "true" | "yes" | "on");
    let flags: Vec<bool> = uci(t)
        .iter()
        .filter_map(|s| {
            let disabled = s.get("disabled").map(|(v, _)| on(v));
            let enabled = s
                .get("enabled")
                .or_else(|| s.get("enable"))
                .or_else(|| s.get("enable_upnp"))
                .map(|(v, _)| !off(v));
            match (disabled, enabled) {
                (Some(d), Some(e)) => Some(!d && e),
                (Some(d), None) => Some(!d),
                (None, Some(e)) => Some(e),
                (None, None) => None,
            }
        })
        .collect();
    !flags.is_empty() && flags.iter().all(|enabled| !enabled)
}

fn script_lines(tree: &Tree, applets: &BTreeSet<String>, script: &Path, out: &mut Vec<Finding>) {
    let p = script.to_string_lossy().into_owned();
    let Some(t) = tree.file(&p).and_then(text) else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (i, line) in t.lines().enumerate() {
        let words = shell_words(line);
        line_daemons(&words, applets, &p, i + 1, &mut seen, out);
        if let Some(first) = words.first() {
            bind_shell(tree, first, &p, i + 1, out);
        }
    }
}

/// An unknown program started at boot that listens on a socket and runs a shell: a bind
/// shell such as IoTGoat's `/usr/bin/shellback`. Recognised by the dynamic symbols and
/// strings a bind shell needs (`listen`, `accept`, `dup2`, `/bin/sh`), or, for a script, a
/// netcat listener handing out a shell.
fn bind_shell(tree: &Tree, program: &str, file: &str, line: usize, out: &mut Vec<Finding>) {
    if !program.starts_with('/') || daemon(program).is_some() {
        return;
    }
    let path = resolve(tree, Path::new(program.trim_start_matches('/')));
    let Some(data) = tree.file(&path.to_string_lossy()) else {
        return;
    };
    if data.len() > 16 << 20 || file_name(&path) == "busybox" {
        return;
    }
    let has = |needle: &[u8]| data.windows(needle.len()).any(|w| w == needle);
    let elf = data.starts_with(b"\x7fELF")
        && has(b"\0listen\0")
        && has(b"\0accept\0")
        && has(b"\0dup2\0")
        && has(b"/bin/sh");
    let script = data.starts_with(b"#!")
        && (has(b"nc -l") || has(b"netcat -l"))
        && (has(b"-e /bin/sh") || has(b"-e /bin/ash"));
    if elf || script {
        out.push(fail(
            "firmware.services.unneeded",
            Severity::Critical,
            file,
            Some(line),
            format!(
                "`{program}`, started at boot by {file}, listens on a socket and runs /bin/sh: a bind shell (backdoor)"
            ),
        ));
    }
}

/// inetd.conf (`service socktype proto wait user server args`) and xinetd.d services that
/// are not `disable = yes`.
fn inetd(tree: &Tree, out: &mut Vec<Finding>) {
    if let Some(t) = tree.file("etc/inetd.conf").and_then(text) {
        let mut seen = BTreeSet::new();
        for (i, line) in t.lines().enumerate() {
            let words = shell_words(line);
            let Some(service) = words.first() else {
                continue;
            };
            let by_service = match *service {
                "telnet" => Some("telnetd"),
                "ftp" => Some("ftpd"),
                "tftp" => Some("tftpd"),
                "login" => Some("rlogind"),
                "shell" => Some("rshd"),
                "exec" => Some("rexecd"),
                _ => None,
            };
            let mut w: Vec<&str> = words.iter().skip(5).copied().collect();
            w.extend(by_service);
            line_daemons(
                &w,
                &BTreeSet::new(),
                "etc/inetd.conf",
                i + 1,
                &mut seen,
                out,
            );
        }
    }
    for (path, data) in tree.files() {
        if path.parent() != Some(Path::new("etc/xinetd.d")) {
            continue;
        }
        let Some(t) = text(data) else { continue };
        let disabled = t.lines().any(|l| {
            let l: String = l
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            l == "disable=yes"
        });
        if disabled {
            continue;
        }
        let p = path.to_string_lossy();
        let mut seen = BTreeSet::new();
        for (i, line) in t.lines().enumerate() {
            if let Some((k, v)) = line.split_once('=')
                && k.trim() == "server"
            {
                line_daemons(&[v.trim()], &BTreeSet::new(), &p, i + 1, &mut seen, out);
            }
        }
    }
}

const UNIT_DIRS: &[&str] = &[
    "etc/systemd/system",
    "lib/systemd/system",
    "usr/lib/systemd/system",
];

/// systemd units wanted at boot and the programs their `ExecStart` lines run.
fn systemd(tree: &Tree, applets: &BTreeSet<String>, out: &mut Vec<Finding>) {
    let mut units: BTreeSet<String> = BTreeSet::new();
    for path in tree.entries.keys() {
        let Some(parent) = path.parent() else {
            continue;
        };
        let dir = file_name(parent);
        let under = parent
            .parent()
            .and_then(|p| p.to_str())
            .is_some_and(|p| UNIT_DIRS.contains(&p));
        if under && (dir.ends_with(".wants") || dir.ends_with(".requires")) {
            units.insert(file_name(path).to_owned());
        }
    }
    let mut done = BTreeSet::new();
    for unit in units {
        let (stem, kind) = unit.rsplit_once('.').unwrap_or((&unit, ""));
        // `getty@tty1.service` is an instance of `getty@.service`; a socket starts the
        // service of the same name (or its template, for `Accept=yes` sockets).
        let template = stem.split_once('@').map(|(t, _)| format!("{t}@.{kind}"));
        let mut names = vec![unit.clone()];
        names.extend(template);
        if kind == "socket" {
            names.push(format!("{stem}.service"));
            names.push(format!("{stem}@.service"));
        }
        for name in names {
            for dir in UNIT_DIRS {
                let p = resolve(tree, &Path::new(dir).join(&name));
                let ps = p.to_string_lossy().into_owned();
                if !done.insert(ps.clone()) {
                    continue;
                }
                let Some(t) = tree.file(&ps).and_then(text) else {
                    continue;
                };
                let mut seen = BTreeSet::new();
                for (i, line) in t.lines().enumerate() {
                    let Some((key, value)) = line.split_once('=') else {
                        continue;
                    };
                    if !key.trim().starts_with("ExecStart") {
                        continue;
                    }
                    let words = shell_words(value.trim_start_matches(['-', '@', '+', '!']));
                    line_daemons(&words, applets, &ps, i + 1, &mut seen, out);
                    if let Some(first) = words.first() {
                        bind_shell(tree, first, &ps, i + 1, out);
                    }
                }
            }
        }
    }
}
