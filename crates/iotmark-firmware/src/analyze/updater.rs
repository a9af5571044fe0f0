//! Updaters found by what they do rather than by name: a script or program that both
//! downloads an image and writes it to flash. Vendors ship their own (`/usr/sbin/acme-fwup`),
//! so a fixed list of paths misses most of them.
//!
//! Scripts (shell; Lua and Python by the commands in their string literals) are read line
//! by line: each line is split into commands at `;`, `&&`, `||`, `|` and `&`, with quotes
//! and comments honoured, and each command is classified by its program and arguments. That
//! gives the line of the download, of the flash write and of any signature check, and a
//! light reading of control flow: a check protects a write only when it comes first *and*
//! its failure stops the script (`|| exit`, `if ! check; then … exit`, the write inside
//! `if check; then … fi`, `set -e`, a following `[ $? -ne 0 ] && exit`). This is not a
//! shell parser; functions are not followed.
//!
//! Programs are read by their printable strings, each classified as a command line the way a
//! script line is (`"wget -O /tmp/fw.bin http://…"`, `"mtd write %s firmware"`). Order is
//! unknown in a binary, so a signature-check command among its strings counts as a check.
//! General tools that carry such strings (BusyBox, curl, wget, opkg, mtd itself) are not
//! updaters of their own: they are left out by content (BusyBox's banner) and by name.

use std::sync::OnceLock;

use aho_corasick::AhoCorasick;

use super::{Finding, Severity, fail, file_name, pass, text};
use crate::tree::Tree;

/// Largest program whose strings are read.
const MAX_BINARY: usize = 16 << 20;
/// Shortest printable run taken as a string of a program.
const MIN_STRING: usize = 6;

/// How the image is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadTool {
    Wget,
    Curl,
    UclientFetch,
    Tftp,
    /// BSD-style `fetch`.
    Fetch,
    /// A script language's HTTP client (`urllib`, `requests`, `luci.httpclient`).
    ScriptClient,
    /// Only a URL in a program: its own client.
    Url,
}

impl DownloadTool {
    fn name(self) -> &'static str {
        match self {
            Self::Wget => "wget",
            Self::Curl => "curl",
            Self::UclientFetch => "uclient-fetch",
            Self::Tftp => "tftp",
            Self::Fetch => "fetch",
            Self::ScriptClient => "an HTTP client library",
            Self::Url => "its own client",
        }
    }
}

/// How the download travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Https,
    Tftp,
    Ftp,
    /// The URL comes from elsewhere (an argument, a setting).
    Unknown,
}

impl Transport {
    fn of_url(url: &str) -> Self {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("https://") {
            Self::Https
        } else if lower.starts_with("http://") {
            Self::Http
        } else if lower.starts_with("tftp://") {
            Self::Tftp
        } else if lower.starts_with("ftp://") {
            Self::Ftp
        } else {
            Self::Unknown
        }
    }

    /// Whether anyone on the path can change what is fetched.
    fn plain(self) -> bool {
        matches!(self, Self::Http | Self::Tftp | Self::Ftp)
    }
}

/// How the image reaches flash (or the boot selection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashWrite {
    Mtd,
    /// `dd` onto a flash or disk device (`of=/dev/mtd*`, `mmcblk*`, `sd*`, `ubi*`).
    Dd,
    Flashcp,
    NandWrite,
    UbiUpdateVol,
    Sysupgrade,
    /// `fw_setenv` of a boot-slot variable: the next boot runs the other image.
    FwSetenv,
    /// `rauc install`: RAUC verifies every bundle against its keyring first.
    Rauc,
    /// `swupdate -i`: verified only with `-k <public key>`.
    Swupdate,
}

impl FlashWrite {
    fn name(self) -> &'static str {
        match self {
            Self::Mtd => "mtd write",
            Self::Dd => "dd onto a flash device",
            Self::Flashcp => "flashcp",
            Self::NandWrite => "nandwrite",
            Self::UbiUpdateVol => "ubiupdatevol",
            Self::Sysupgrade => "sysupgrade",
            Self::FwSetenv => "fw_setenv of the boot slot",
            Self::Rauc => "rauc install",
            Self::Swupdate => "swupdate -i",
        }
    }
}

/// A signature check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Usign,
    Ucert,
    OpensslDgst,
    OpensslPkeyutl,
    /// `openssl smime -verify` or `openssl cms -verify`.
    OpensslSmime,
    Gpg,
    FitCheckSign,
    /// Built into the write: RAUC bundles, SWUpdate with `-k`.
    ByInstaller,
}

impl Verification {
    fn name(self) -> &'static str {
        match self {
            Self::Usign => "usign -V",
            Self::Ucert => "ucert -V",
            Self::OpensslDgst => "openssl dgst -verify",
            Self::OpensslPkeyutl => "openssl pkeyutl -verify",
            Self::OpensslSmime => "openssl smime/cms -verify",
            Self::Gpg => "gpg signature verification",
            Self::FitCheckSign => "fit_check_sign",
            Self::ByInstaller => "the installer's own signature check",
        }
    }
}

/// A checksum compared, which proves nothing about who made the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Md5,
    Sha1,
    Sha256,
    Sha512,
    OpensslDgst,
}

impl Checksum {
    fn name(self) -> &'static str {
        match self {
            Self::Md5 => "md5sum",
            Self::Sha1 => "sha1sum",
            Self::Sha256 => "sha256sum",
            Self::Sha512 => "sha512sum",
            Self::OpensslDgst => "openssl dgst",
        }
    }
}

/// What kind of file the updater is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdaterKind {
    ShellScript,
    LuaScript,
    PythonScript,
    Program,
}

impl UpdaterKind {
    fn name(self) -> &'static str {
        match self {
            Self::ShellScript => "shell script",
            Self::LuaScript => "Lua script",
            Self::PythonScript => "Python script",
            Self::Program => "program",
        }
    }
}

/// Where a step is: a line of a script, or the offset of a string in a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Line(usize),
    Offset(usize),
}

impl Place {
    fn line(self) -> Option<usize> {
        match self {
            Self::Line(l) => Some(l),
            Self::Offset(_) => None,
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Line(l) => format!("line {l}"),
            Self::Offset(o) => format!("string at offset {o}"),
        }
    }
}

/// One step seen, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<T> {
    pub what: T,
    pub place: Place,
}

/// An updater found by content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updater {
    pub path: String,
    pub kind: UpdaterKind,
    pub download: Step<DownloadTool>,
    pub transport: Transport,
    /// The first flash write.
    pub write: Step<FlashWrite>,
    /// The signature check that protects the write, if one does.
    pub verified_by: Option<Step<Verification>>,
    /// A signature check that does not protect the write, and why.
    pub ineffective: Option<(Step<Verification>, Ineffective)>,
    /// A checksum compared before the write (not a signature).
    pub checksum: Option<Step<Checksum>>,
}

/// Why a signature check present in a script does not protect its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineffective {
    /// It runs after the write.
    AfterWrite,
    /// Its failure does not stop the script.
    NotChecked,
}

// ---------------------------------------------------------------------------------------
// Reading commands

/// What one command does, as far as updating goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Download(DownloadTool, Transport),
    Write(FlashWrite),
    Verify(Verification),
    Checksum(Checksum),
}

/// Splits a script line into commands of words: quotes removed (their content kept as one
/// word), a `#` at the start of a word ends the line, and `;`, `&`, `|`, `(`, `)`, `` ` ``,
/// `{`, `}` separate commands. Each command also records the operator that ends it (`||`,
/// `&&`, or none).
fn commands(line: &str) -> Vec<(Vec<String>, Option<&'static str>)> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    let end_word = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some('"') if c == '\\' => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
            }
            Some(_) => word.push(c),
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '\\' => {
                    if let Some(n) = chars.next() {
                        word.push(n);
                        in_word = true;
                    }
                }
                '#' if !in_word => break,
                c if c.is_whitespace() => end_word(&mut word, &mut in_word, &mut words),
                ';' | '&' | '|' | '(' | ')' | '`' | '{' | '}' => {
                    end_word(&mut word, &mut in_word, &mut words);
                    let op = match (c, chars.peek()) {
                        ('|', Some('|')) => {
                            chars.next();
                            Some("||")
                        }
                        ('&', Some('&')) => {
                            chars.next();
                            Some("&&")
                        }
                        _ => None,
                    };
                    if !words.is_empty() {
                        out.push((std::mem::take(&mut words), op));
                    } else if op.is_some()
                        && let Some(last) = out.last_mut()
                    {
                        last.1 = op;
                    }
                }
                _ => {
                    word.push(c);
                    in_word = true;
                }
            },
        }
    }
    end_word(&mut word, &mut in_word, &mut words);
    if !words.is_empty() {
        out.push((words, None));
    }
    out
}

/// Words that may precede the program of a command.
const PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "while", "until", "do", "!", "exec", "nohup", "time", "command",
    "sudo", "busybox", "timeout",
];

/// The program of a command (its base name) and its arguments, after prefixes and
/// `NAME=value` assignments.
fn program(words: &[String]) -> Option<(&str, &[String])> {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let assignment = w.split_once('=').is_some_and(|(n, _)| {
            !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
        if PREFIXES.contains(&w.as_str()) || assignment {
            i += 1;
            // `timeout 30 wget …`
            if w == "timeout"
                && words
                    .get(i)
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            {
                i += 1;
            }
            continue;
        }
        let name = w.rsplit('/').next().unwrap_or(w);
        return Some((name, words.get(i + 1..).unwrap_or(&[])));
    }
    None
}

/// The first URL among `args`.
fn url_in(args: &[String]) -> Option<&str> {
    args.iter().find_map(|a| {
        let lower = a.to_ascii_lowercase();
        ["http://", "https://", "tftp://", "ftp://"]
            .iter()
            .find_map(|s| lower.find(s))
            .and_then(|i| a.get(i..))
    })
}

/// Variables of a boot loader environment that choose which image boots.
const BOOT_SLOT_VARIABLES: &[&str] = &[
    "bootslot",
    "boot_slot",
    "boot_part",
    "bootpart",
    "boot_partition",
    "active_slot",
    "upgrade_available",
    "rootfs_part",
    "BOOT_ORDER",
];

/// Device names `dd` writes flash or a boot disk through.
fn flash_device(path: &str) -> bool {
    let Some(dev) = path.strip_prefix("/dev/") else {
        return false;
    };
    ["mtd", "mmcblk", "sd", "ubi", "nand"]
        .iter()
        .any(|p| dev.starts_with(p))
}

/// What a command does, if it downloads, writes flash, verifies or checksums.
fn classify(words: &[String], url_of: &dyn Fn(&str) -> Option<String>) -> Option<Action> {
    let (prog, args) = program(words)?;
    let has = |a: &str| args.iter().any(|x| x == a);
    let transport = || {
        url_in(args)
            .map(Transport::of_url)
            .or_else(|| {
                args.iter()
                    .find_map(|a| url_of(a))
                    .map(|u| Transport::of_url(&u))
            })
            .unwrap_or(Transport::Unknown)
    };
    let action = match prog {
        "wget" => Action::Download(DownloadTool::Wget, transport()),
        "curl" => Action::Download(DownloadTool::Curl, transport()),
        "uclient-fetch" => Action::Download(DownloadTool::UclientFetch, transport()),
        "fetch" if !args.is_empty() => Action::Download(DownloadTool::Fetch, transport()),
        "tftp" if has("-g") || has("get") || url_in(args).is_some() => {
            Action::Download(DownloadTool::Tftp, Transport::Tftp)
        }
        "mtd" if has("write") => Action::Write(FlashWrite::Mtd),
        "dd" if args
            .iter()
            .any(|a| a.strip_prefix("of=").is_some_and(flash_device)) =>
        {
            Action::Write(FlashWrite::Dd)
        }
        "flashcp" if args.len() >= 2 => Action::Write(FlashWrite::Flashcp),
        "nandwrite" if !args.is_empty() => Action::Write(FlashWrite::NandWrite),
        "ubiupdatevol" if !args.is_empty() => Action::Write(FlashWrite::UbiUpdateVol),
        "sysupgrade" if !args.is_empty() => Action::Write(FlashWrite::Sysupgrade),
        "fw_setenv"
            if args
                .first()
                .is_some_and(|v| BOOT_SLOT_VARIABLES.contains(&v.as_str())) =>
        {
            Action::Write(FlashWrite::FwSetenv)
        }
        "rauc" if has("install") => Action::Write(FlashWrite::Rauc),
        "swupdate" if has("-i") => Action::Write(FlashWrite::Swupdate),
        "usign" if has("-V") => Action::Verify(Verification::Usign),
        "ucert" if has("-V") => Action::Verify(Verification::Ucert),
        "openssl" => match args.first().map(String::as_str) {
            Some("dgst") if has("-verify") || has("-prverify") => {
                Action::Verify(Verification::OpensslDgst)
            }
            Some("dgst") => Action::Checksum(Checksum::OpensslDgst),
            Some("pkeyutl") if has("-verify") => Action::Verify(Verification::OpensslPkeyutl),
            Some("smime" | "cms") if has("-verify") => Action::Verify(Verification::OpensslSmime),
            _ => return None,
        },
        "gpgv" | "gpgv2" => Action::Verify(Verification::Gpg),
        "gpg" | "gpg2" if has("--verify") || has("--verify-files") => {
            Action::Verify(Verification::Gpg)
        }
        "fit_check_sign" => Action::Verify(Verification::FitCheckSign),
        "md5sum" => Action::Checksum(Checksum::Md5),
        "sha1sum" => Action::Checksum(Checksum::Sha1),
        "sha256sum" => Action::Checksum(Checksum::Sha256),
        "sha512sum" => Action::Checksum(Checksum::Sha512),
        _ => return None,
    };
    Some(action)
}

/// Script-language HTTP clients, for Lua and Python updaters.
fn script_client(line: &str) -> bool {
    [
        "urlretrieve(",
        "urlopen(",
        "requests.get(",
        "httpclient",
        "http.request(",
    ]
    .iter()
    .any(|c| line.contains(c))
}

/// Programs that stop a script (or report a failure that callers turn into a stop).
fn stops(word: &str) -> bool {
    matches!(
        word,
        "exit" | "return" | "die" | "abort" | "fail" | "error" | "reboot"
    )
}

// ---------------------------------------------------------------------------------------
// Scripts

/// The language of a script, from its `#!` line (or a `.sh` name).
fn script_kind(name: &str, text: &str) -> Option<UpdaterKind> {
    let first = text.lines().next().unwrap_or("");
    if let Some(interp) = first.strip_prefix("#!") {
        let interp = interp.trim();
        let prog = interp
            .split_whitespace()
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .find(|w| *w != "env")
            .unwrap_or("");
        return match prog {
            "sh" | "ash" | "bash" | "dash" | "ksh" | "busybox" => Some(UpdaterKind::ShellScript),
            p if p.starts_with("lua") => Some(UpdaterKind::LuaScript),
            p if p.starts_with("python") => Some(UpdaterKind::PythonScript),
            _ => None,
        };
    }
    name.ends_with(".sh").then_some(UpdaterKind::ShellScript)
}

/// One classified command of a script.
#[derive(Debug, Clone, Copy)]
struct Seen {
    action: Action,
    line: usize,
    /// Index of the line in the script (0-based).
    index: usize,
    /// The command is followed by `|| <stop>` (possibly in a `{ …; exit; }` group).
    or_stops: bool,
    /// The command is the condition of an `if`/`elif`, and whether it is negated.
    condition: Option<bool>,
    /// A later command on the same line runs only if this one succeeds (`&&`).
    and_then: bool,
}

fn read_script(path: &str, kind: UpdaterKind, text: &str) -> Option<Updater> {
    let lines: Vec<&str> = text.lines().collect();
    let mut urls: Vec<(String, String)> = Vec::new();
    let mut seen: Vec<Seen> = Vec::new();
    let mut set_e = lines
        .first()
        .is_some_and(|l| l.starts_with("#!") && l.split_whitespace().any(|w| w == "-e"));
    for (index, line) in lines.iter().enumerate() {
        let cmds: Vec<(Vec<String>, Option<&str>)> = if kind == UpdaterKind::ShellScript {
            commands(line)
        } else {
            // Lua and Python run commands through strings: each literal is a command line.
            quoted_literals(line)
                .iter()
                .flat_map(|l| commands(l))
                .collect()
        };
        for (i, (words, op)) in cmds.iter().enumerate() {
            if words.first().is_some_and(|w| w == "set") && words.iter().any(|w| w == "-e") {
                set_e = true;
            }
            for w in words {
                if let Some((name, value)) = w.split_once('=')
                    && url_in(std::slice::from_ref(&value.to_owned())).is_some()
                {
                    urls.push((name.to_owned(), value.to_owned()));
                }
            }
            let url_of = |word: &str| -> Option<String> {
                let name = variable(word)?;
                urls.iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, u)| u.clone())
            };
            let Some(action) = classify(words, &url_of) else {
                continue;
            };
            let rest = cmds.get(i + 1..).unwrap_or(&[]);
            let or_stops = *op == Some("||")
                && (rest
                    .iter()
                    .any(|(w, _)| w.first().is_some_and(|p| stops(p)))
                    || lines
                        .get(index + 1..(index + 3).min(lines.len()))
                        .unwrap_or(&[])
                        .iter()
                        .flat_map(|l| commands(l))
                        .take_while(|(w, _)| w.first().is_none_or(|p| p != "fi"))
                        .any(|(w, _)| w.first().is_some_and(|p| stops(p))));
            let condition = words
                .first()
                .filter(|w| *w == "if" || *w == "elif" || *w == "while")
                .map(|_| words.iter().take(3).any(|w| w == "!"));
            seen.push(Seen {
                action,
                line: index + 1,
                index,
                or_stops,
                condition,
                and_then: *op == Some("&&"),
            });
        }
        if kind != UpdaterKind::ShellScript
            && script_client(line)
            && url_in(&[(*line).to_owned()]).is_some()
        {
            let transport = url_in(&[(*line).to_owned()])
                .map(Transport::of_url)
                .unwrap_or(Transport::Unknown);
            seen.push(Seen {
                action: Action::Download(DownloadTool::ScriptClient, transport),
                line: index + 1,
                index,
                or_stops: false,
                condition: None,
                and_then: false,
            });
        }
    }
    let (download, transport) = seen.iter().find_map(|s| match s.action {
        Action::Download(tool, transport) => Some((
            Step {
                what: tool,
                place: Place::Line(s.line),
            },
            transport,
        )),
        _ => None,
    })?;
    let write_seen = seen.iter().find(|s| matches!(s.action, Action::Write(_)))?;
    let Action::Write(write_what) = write_seen.action else {
        return None;
    };
    let write = Step {
        what: write_what,
        place: Place::Line(write_seen.line),
    };
    let by_installer = match write_what {
        FlashWrite::Rauc => true,
        FlashWrite::Swupdate => {
            let line = lines.get(write_seen.index).copied().unwrap_or("");
            commands(line).iter().any(|(w, _)| {
                program(w).is_some_and(|(p, a)| p == "swupdate" && a.iter().any(|x| x == "-k"))
            })
        }
        _ => false,
    };
    let mut verified_by = by_installer.then_some(Step {
        what: Verification::ByInstaller,
        place: write.place,
    });
    let mut ineffective = None;
    for s in &seen {
        let Action::Verify(what) = s.action else {
            continue;
        };
        let step = Step {
            what,
            place: Place::Line(s.line),
        };
        if s.line > write_seen.line {
            ineffective.get_or_insert((step, Ineffective::AfterWrite));
            continue;
        }
        if gates(s, write_seen, &lines, set_e) {
            verified_by.get_or_insert(step);
        } else {
            ineffective.get_or_insert((step, Ineffective::NotChecked));
        }
    }
    if verified_by.is_some() {
        ineffective = None;
    }
    let checksum = seen.iter().find_map(|s| match s.action {
        Action::Checksum(what) if s.line <= write_seen.line => Some(Step {
            what,
            place: Place::Line(s.line),
        }),
        _ => None,
    });
    Some(Updater {
        path: path.to_owned(),
        kind,
        download,
        transport,
        write,
        verified_by,
        ineffective,
        checksum,
    })
}

/// Whether the check `v` stops the script before `write` when it fails.
fn gates(v: &Seen, write: &Seen, lines: &[&str], set_e: bool) -> bool {
    if v.or_stops || set_e {
        return true;
    }
    if v.and_then && v.line == write.line {
        return true;
    }
    if let Some(negated) = v.condition {
        let block_end = matching_fi(lines, v.index);
        let body = lines.get(v.index..block_end).unwrap_or(&[]);
        if negated {
            // `if ! check; then …; exit; fi`
            return body.iter().flat_map(|l| commands(l)).any(|(w, _)| {
                program(&w).is_some_and(|(p, _)| stops(p)) || w.first().is_some_and(|p| stops(p))
            });
        }
        // `if check; then … write … fi`
        return write.index > v.index && write.index < block_end;
    }
    // `check` then `[ $? -ne 0 ] && exit` / `if [ $? … ]; then exit`
    lines
        .get(v.index + 1..(v.index + 3).min(lines.len()))
        .unwrap_or(&[])
        .iter()
        .any(|l| l.contains("$?") && commands(l).iter().any(|(w, _)| w.iter().any(|x| stops(x))))
}

/// The name of the first variable a word expands (`$URL/fw.bin`, `${BASE}x`).
fn variable(word: &str) -> Option<&str> {
    let after = word.get(word.find('$')? + 1..)?;
    let after = after.strip_prefix('{').unwrap_or(after);
    let end = after
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    after.get(..end).filter(|n| !n.is_empty())
}

/// The index of the `fi` that closes the `if` on line `start` (or the end of the script).
fn matching_fi(lines: &[&str], start: usize) -> usize {
    let mut depth = 0i32;
    for (i, line) in lines.iter().enumerate().skip(start) {
        for (words, _) in commands(line) {
            for w in &words {
                match w.as_str() {
                    "if" => depth += 1,
                    "fi" => depth -= 1,
                    _ => {}
                }
            }
        }
        if depth <= 0 && i > start {
            return i;
        }
    }
    lines.len()
}

/// The contents of the string literals of a Lua or Python line.
fn quoted_literals(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<(char, String)> = None;
    for c in line.chars() {
        match &mut current {
            Some((q, s)) if c == *q => {
                out.push(std::mem::take(s));
                current = None;
            }
            Some((_, s)) => s.push(c),
            None if c == '"' || c == '\'' => current = Some((c, String::new())),
            None if c == '#' => break,
            None => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Programs

/// Programs whose strings name downloads and flash writes because that is their trade, not
/// because they update this device on their own.
const GENERAL_TOOLS: &[&str] = &[
    "busybox",
    "curl",
    "wget",
    "uclient-fetch",
    "tftp",
    "opkg",
    "apk",
    "mtd",
    "flashcp",
    "nandwrite",
    "flash_erase",
    "flash_eraseall",
    "ubiupdatevol",
    "dd",
    "fw_setenv",
    "fw_printenv",
    "rauc",
    "swupdate",
    "mender",
    "mender-update",
    "apt",
    "apt-get",
    "dpkg",
    "openssl",
    "usign",
    "ucert",
    "fwtool",
    "gpg",
    "gpgv",
    "sysupgrade",
    "fwupd",
    "fwupdmgr",
];

/// The printable strings of a program (runs of at least [`MIN_STRING`] bytes), with offsets.
fn strings(data: &[u8]) -> impl Iterator<Item = (usize, &str)> {
    data.split(|b| !(0x20..0x7f).contains(b) && *b != b'\t')
        .scan(0usize, |pos, run| {
            let at = *pos;
            *pos += run.len() + 1;
            Some((at, run))
        })
        .filter(|(_, run)| run.len() >= MIN_STRING)
        .filter_map(|(at, run)| std::str::from_utf8(run).ok().map(|s| (at, s)))
}

/// Whether a program names any flash-writing tool at all: one pass that spares the string
/// reading of nearly every binary (it is what made this check cost time).
fn mentions_flash_write(data: &[u8]) -> bool {
    static NEEDLES: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    let Some(ac) = NEEDLES
        .get_or_init(|| {
            // Leftmost matching lets the searcher use its SIMD prefilter; standard matching
            // does not, and ran at a third of memory speed here.
            AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build([
                    "mtd write",
                    "mtd -",
                    "of=/dev/",
                    "flashcp",
                    "nandwrite",
                    "ubiupdatevol",
                    "sysupgrade",
                    "fw_setenv",
                    "rauc",
                    "swupdate",
                ])
                .ok()
        })
        .as_ref()
    else {
        return true;
    };
    ac.is_match(data)
}

fn read_program(path: &str, name: &str, data: &[u8]) -> Option<Updater> {
    if data.len() > MAX_BINARY
        || GENERAL_TOOLS.contains(&name)
        || name.contains(".so")
        || crate::kernel::is_relocatable_elf(data)
        || memchr::memmem::find(data, b"BusyBox v").is_some()
        || !mentions_flash_write(data)
    {
        return None;
    }
    let mut download = None;
    let mut url = None;
    let mut write = None;
    let mut verified_by = None;
    let mut checksum = None;
    for (at, s) in strings(data) {
        // A command has a program and arguments; most strings of a program are not one.
        let command_like = s.contains(' ');
        for (words, _) in commands(if command_like { s } else { "" }) {
            match classify(&words, &|_| None) {
                Some(Action::Download(tool, transport)) => {
                    download.get_or_insert((
                        Step {
                            what: tool,
                            place: Place::Offset(at),
                        },
                        transport,
                    ));
                }
                Some(Action::Write(what)) => {
                    write.get_or_insert(Step {
                        what,
                        place: Place::Offset(at),
                    });
                    if what == FlashWrite::Rauc
                        || what == FlashWrite::Swupdate && words.iter().any(|w| w == "-k")
                    {
                        verified_by.get_or_insert(Step {
                            what: Verification::ByInstaller,
                            place: Place::Offset(at),
                        });
                    }
                }
                Some(Action::Verify(what)) => {
                    verified_by.get_or_insert(Step {
                        what,
                        place: Place::Offset(at),
                    });
                }
                Some(Action::Checksum(what)) => {
                    checksum.get_or_insert(Step {
                        what,
                        place: Place::Offset(at),
                    });
                }
                None => {}
            }
        }
        if url.is_none()
            && s.contains("://")
            && let Some(u) = url_in(&[s.to_owned()])
            // A URL with a path to a file, not a bare site in a help text.
            && u.splitn(4, '/').nth(3).is_some_and(|p| !p.is_empty())
        {
            url = Some((at, Transport::of_url(u)));
        }
    }
    let write = write?;
    let (download, mut transport) = match download {
        Some(d) => d,
        None => {
            let (at, transport) = url?;
            (
                Step {
                    what: DownloadTool::Url,
                    place: Place::Offset(at),
                },
                transport,
            )
        }
    };
    if transport == Transport::Unknown
        && let Some((_, t)) = url
    {
        transport = t;
    }
    Some(Updater {
        path: path.to_owned(),
        kind: UpdaterKind::Program,
        download,
        transport,
        write,
        verified_by,
        ineffective: None,
        checksum,
    })
}

// ---------------------------------------------------------------------------------------
// Findings

/// Every updater the filesystem holds, found by what its content does.
pub fn updaters(tree: &Tree) -> Vec<Updater> {
    let mut out = Vec::new();
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        let name = file_name(path);
        let found = if data.starts_with(b"\x7fELF") {
            read_program(&p, name, data)
        } else if data.starts_with(b"#!") || name.ends_with(".sh") {
            text(data).and_then(|t| read_script(&p, script_kind(name, t)?, t))
        } else {
            None
        };
        out.extend(found);
    }
    out
}

/// The findings about each updater; returns whether any of them verifies signatures.
pub(super) fn check(tree: &Tree, out: &mut Vec<Finding>) -> bool {
    let mut any_verified = false;
    for u in updaters(tree) {
        any_verified |= u.verified_by.is_some();
        out.extend(findings(&u));
    }
    any_verified
}

fn findings(u: &Updater) -> Vec<Finding> {
    let mut out = Vec::new();
    let path = &u.path;
    let download = format!(
        "downloads an image with {} ({})",
        u.download.what.name(),
        u.download.place.describe()
    );
    let write = format!(
        "writes it with {} ({})",
        u.write.what.name(),
        u.write.place.describe()
    );
    let checksum_note = u
        .checksum
        .map(|c| {
            format!(
                "; {} ({}) compares a checksum, which is not a signature: whoever can change the image can change a checksum fetched from the same place",
                c.what.name(),
                c.place.describe()
            )
        })
        .unwrap_or_default();
    let verification = match (u.verified_by, u.ineffective) {
        (Some(v), _) => format!(
            "; {} ({}) checks its signature first{}",
            v.what.name(),
            v.place.describe(),
            if u.kind == UpdaterKind::Program {
                " (the order cannot be told from a program's strings)"
            } else {
                ""
            }
        ),
        (None, Some((v, Ineffective::AfterWrite))) => format!(
            "; {} ({}) runs only after the write, too late to stop a forged image",
            v.what.name(),
            v.place.describe()
        ),
        (None, Some((v, Ineffective::NotChecked))) => format!(
            "; {} ({}) runs first but its failure does not stop the script (no `|| exit`, `if !` or `set -e`)",
            v.what.name(),
            v.place.describe()
        ),
        (None, None) => "; no signature check".to_owned(),
    };
    out.push(pass(
        "firmware.update.updater",
        Severity::Low,
        path,
        u.write.place.line(),
        format!(
            "`/{path}` ({}) is an updater: it {download} and {write}{verification}{checksum_note}",
            u.kind.name()
        ),
    ));
    if u.verified_by.is_none() {
        out.push(fail(
            "firmware.update.unverified-write",
            Severity::High,
            path,
            u.write.place.line(),
            format!(
                "`/{path}` writes flash with {} ({}) without checking a signature first, so any image that reaches it is installed{}{checksum_note}",
                u.write.what.name(),
                u.write.place.describe(),
                verification.strip_prefix("; no signature check").unwrap_or(&verification)
            ),
        ));
    }
    if u.transport.plain() {
        let how = match u.transport {
            Transport::Tftp => "TFTP",
            Transport::Ftp => "FTP",
            _ => "plain HTTP",
        };
        out.push(fail(
            "firmware.update.http-download",
            Severity::High,
            path,
            u.download.place.line(),
            format!(
                "`/{path}` fetches the image over {how} with {} ({}): anyone on the path can read or replace it{}",
                u.download.what.name(),
                u.download.place.describe(),
                if u.verified_by.is_some() {
                    " (the signature check still rejects a replaced image)"
                } else {
                    ""
                }
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(text: &str) -> Option<Updater> {
        read_script("usr/sbin/x", UpdaterKind::ShellScript, text)
    }

    #[test]
    fn commands_split_on_operators_and_honour_quotes() {
        let c = commands("usign -V -m \"$F\" -P /etc/keys || { echo 'bad # sig'; exit 1; } # c");
        assert_eq!(c[0].0, ["usign", "-V", "-m", "$F", "-P", "/etc/keys"]);
        assert_eq!(c[0].1, Some("||"));
        assert_eq!(c[1].0, ["echo", "bad # sig"]);
        assert_eq!(c[2].0, ["exit", "1"]);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn unverified_plain_http_update() {
        let u = script("#!/bin/sh\nURL=http://fw.example.com/fw.bin\nwget -O /tmp/fw \"$URL\"\nmtd -r write /tmp/fw firmware\n").unwrap();
        assert_eq!(u.download.place, Place::Line(3));
        assert_eq!(u.transport, Transport::Http);
        assert_eq!(u.write.what, FlashWrite::Mtd);
        assert_eq!(u.write.place, Place::Line(4));
        assert_eq!(u.verified_by, None);
    }

    #[test]
    fn verification_must_stop_the_script_and_come_first() {
        let head = "#!/bin/sh\ncurl -o /tmp/fw https://x/fw\n";
        let write = "dd if=/tmp/fw of=/dev/mmcblk0p2\n";
        let gated = [
            "usign -V -m /tmp/fw -P /etc/keys || exit 1\n",
            "if ! openssl dgst -sha256 -verify k.pem -signature s /tmp/fw; then\n echo bad\n exit 1\nfi\n",
            "gpgv /tmp/fw.sig /tmp/fw\n[ $? -ne 0 ] && exit 2\n",
        ];
        for g in gated {
            let u = script(&format!("{head}{g}{write}")).unwrap();
            assert!(u.verified_by.is_some(), "{g}");
        }
        let u = script(&format!(
            "{head}if usign -V -m /tmp/fw -P k; then\n {write}fi\n"
        ))
        .unwrap();
        assert!(u.verified_by.is_some());
        let u = script(&format!("{head}usign -V -m /tmp/fw -P k\n{write}")).unwrap();
        assert_eq!(u.ineffective.map(|i| i.1), Some(Ineffective::NotChecked));
        let u = script(&format!(
            "{head}{write}usign -V -m /tmp/fw -P k || exit 1\n"
        ))
        .unwrap();
        assert_eq!(u.ineffective.map(|i| i.1), Some(Ineffective::AfterWrite));
        let u = script(&format!(
            "{head}sha256sum -c /tmp/fw.sha256 || exit 1\n{write}"
        ))
        .unwrap();
        assert!(u.verified_by.is_none() && u.checksum.is_some());
    }

    #[test]
    fn not_an_updater_without_both_steps() {
        assert!(script("#!/bin/sh\nwget -O /tmp/x http://a/b\n").is_none());
        assert!(script("#!/bin/sh\nmtd write /tmp/x firmware\n").is_none());
        assert!(script("#!/bin/sh\n# wget http://a/b\n# mtd write x y\n").is_none());
    }

    #[test]
    fn lua_commands_in_string_literals() {
        let u = read_script(
            "usr/lib/lua/up.lua",
            UpdaterKind::LuaScript,
            "#!/usr/bin/lua\nos.execute(\"wget -O /tmp/f http://x/f.bin\")\nos.execute('mtd write /tmp/f firmware')\n",
        )
        .unwrap();
        assert_eq!(u.write.place, Place::Line(3));
        assert_eq!(u.transport, Transport::Http);
    }
}
