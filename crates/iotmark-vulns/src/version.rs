//! Version orders: each ecosystem's own rule for "is this version before that one", so that a
//! range an advisory states in one ecosystem's terms is evaluated the way that ecosystem's
//! package manager would.
//!
//! Every comparison is a total order over *any* string: malformed versions never panic and
//! compare deterministically, because advisories and SBOMs are untrusted input and the matcher
//! sorts them. Comparisons walk byte slices and allocate nothing.
//!
//! | scheme | rule |
//! |---|---|
//! | [`Scheme::Debian`], [`Scheme::Opkg`] | dpkg's: epoch, upstream, revision; `~` sorts before everything, letters before other characters |
//! | [`Scheme::Rpm`] | rpm's `rpmvercmp` on epoch, version, release, with `~` (before) and `^` (after) |
//! | [`Scheme::Alpine`] | apk's: `_alpha _beta _pre _rc` before the release, `_cvs _svn _git _hg _p` after, one letter after the digits, `-rN` |
//! | [`Scheme::Semver`] | Semantic Versioning 2.0 precedence (build metadata ignored, a leading `v` tolerated) |
//! | [`Scheme::Pep440`] | PEP 440: epochs, pre, post and dev releases, local versions |
//! | [`Scheme::Generic`] | upstream C versions as NVD writes them (`1.1.1w`, `9.2p1`, `2.84rc2`, `4.4.3-P1`) |
//!
//! ```
//! use std::cmp::Ordering;
//! use iotmark_vulns::version::{Scheme, compare, upstream};
//!
//! assert_eq!(compare(Scheme::Debian, "3.0.11-1~deb12u2", "3.0.11-1"), Ordering::Less);
//! assert_eq!(compare(Scheme::Generic, "1.1.1w", "1.1.1"), Ordering::Greater);
//! // A Debian package held against NVD's upstream range:
//! let installed = upstream(Scheme::Debian, "1:9.2p1-2+deb12u3");
//! assert_eq!(compare(Scheme::Generic, installed, "9.3p2"), Ordering::Less);
//! ```

use std::cmp::Ordering;

use crate::model::{Bounds, Event};

/// Which version order applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Upstream versions as NVD and OSS-Fuzz write them: numbers compared as numbers, a letter
    /// or `p`/`patch` word after the numbers is a later release, `alpha`/`beta`/`pre`/`rc`/`dev`
    /// an earlier one.
    Generic,
    Debian,
    /// OpenWrt's opkg, which orders versions with dpkg's algorithm.
    Opkg,
    Alpine,
    Rpm,
    Semver,
    Pep440,
}

impl Scheme {
    pub const ALL: [Scheme; 7] = [
        Scheme::Generic,
        Scheme::Debian,
        Scheme::Opkg,
        Scheme::Alpine,
        Scheme::Rpm,
        Scheme::Semver,
        Scheme::Pep440,
    ];

    /// The order of an OSV ecosystem (`Debian:12`, `Alpine:v3.20`, `PyPI`, `crates.io`, …).
    /// Ecosystems with an order of their own that is not implemented here (Maven, NuGet,
    /// RubyGems, Packagist, …) and unknown ones get [`Scheme::Generic`], the closest general
    /// order.
    pub fn for_ecosystem(ecosystem: &str) -> Scheme {
        // OSV suffixes a release after a colon (`Debian:12`, `Ubuntu:22.04:LTS`).
        let (family, rest) = ecosystem.split_once(':').unwrap_or((ecosystem, ""));
        let family = family.trim();
        let is = |name: &str| family.eq_ignore_ascii_case(name);
        if is("Root") && !rest.is_empty() {
            // Root's patched packages name their base: `Root:Alpine:3.18`, `Root:PyPI`.
            Scheme::for_ecosystem(rest)
        } else if is("Debian") || is("Ubuntu") {
            Scheme::Debian
        } else if is("OpenWrt") {
            Scheme::Opkg
        } else if is("Alpine")
            || is("Wolfi")
            || is("Chainguard")
            || is("Alpaquita")
            || is("MinimOS")
        {
            Scheme::Alpine
        } else if is("Red Hat")
            || is("Rocky Linux")
            || is("AlmaLinux")
            || is("SUSE")
            || is("openSUSE")
            || is("Mageia")
            || is("openEuler")
            || is("Azure Linux")
            || is("Photon OS")
        {
            Scheme::Rpm
        } else if is("npm")
            || is("crates.io")
            || is("Go")
            || is("Hex")
            || is("Pub")
            || is("SwiftURL")
            || is("Kubernetes")
        {
            Scheme::Semver
        } else if is("PyPI") {
            Scheme::Pep440
        } else {
            Scheme::Generic
        }
    }

    /// The order of a package URL type (`deb`, `apk`, `rpm`, `pypi`, …); unknown types get
    /// [`Scheme::Generic`].
    pub fn for_purl_type(purl_type: &str) -> Scheme {
        match purl_type.to_ascii_lowercase().as_str() {
            "deb" => Scheme::Debian,
            "opkg" => Scheme::Opkg,
            "apk" => Scheme::Alpine,
            "rpm" => Scheme::Rpm,
            "pypi" => Scheme::Pep440,
            "npm" | "cargo" | "golang" | "hex" | "pub" => Scheme::Semver,
            _ => Scheme::Generic,
        }
    }
}

/// Compares two versions in `scheme`'s order. Total over any input: strings a package manager
/// would reject still compare, deterministically and consistently.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match scheme {
        Scheme::Debian | Scheme::Opkg => dpkg::compare(a.as_bytes(), b.as_bytes()),
        Scheme::Rpm => rpm::compare(a.as_bytes(), b.as_bytes()),
        Scheme::Alpine => apk::compare(a.as_bytes(), b.as_bytes()),
        Scheme::Semver => semver::compare(a.as_bytes(), b.as_bytes()),
        Scheme::Pep440 => pep440::compare(a, b),
        Scheme::Generic => generic::compare(a.as_bytes(), b.as_bytes()),
    }
}

/// The upstream part of a distribution version: without the epoch and the Debian/opkg
/// revision, rpm's release or Alpine's `-rN`; other schemes' versions are returned whole.
/// Used to hold a distribution package against NVD's ranges, which speak upstream versions.
pub fn upstream(scheme: Scheme, version: &str) -> &str {
    match scheme {
        Scheme::Debian | Scheme::Opkg | Scheme::Rpm => {
            let (_, rest) = split_epoch(version.as_bytes());
            let rest = &version[version.len() - rest.len()..];
            match rest.rfind('-') {
                Some(dash) => &rest[..dash],
                None => rest,
            }
        }
        Scheme::Alpine => match version.rfind("-r") {
            Some(dash)
                if version[dash + 2..].bytes().all(|b| b.is_ascii_digit())
                    && dash + 2 < version.len() =>
            {
                &version[..dash]
            }
            _ => version,
        },
        Scheme::Generic | Scheme::Semver | Scheme::Pep440 => version,
    }
}

/// Whether `version` lies within `bounds` (NVD's `versionStartIncluding`/`…Excluding` and
/// `versionEndIncluding`/`…Excluding`); no bounds at all admit every version.
pub fn in_bounds(scheme: Scheme, version: &str, bounds: &Bounds) -> bool {
    within(
        scheme,
        version,
        bounds
            .start
            .as_ref()
            .map(|b| (b.version.as_str(), b.inclusive)),
        bounds
            .end
            .as_ref()
            .map(|b| (b.version.as_str(), b.inclusive)),
    )
}

/// [`in_bounds`] with each end given as its version and whether it is included.
pub fn within(
    scheme: Scheme,
    version: &str,
    start: Option<(&str, bool)>,
    end: Option<(&str, bool)>,
) -> bool {
    let after_start =
        start.is_none_or(|(start, inclusive)| match compare(scheme, version, start) {
            Ordering::Greater => true,
            Ordering::Equal => inclusive,
            Ordering::Less => false,
        });
    let before_end = end.is_none_or(|(end, inclusive)| match compare(scheme, version, end) {
        Ordering::Less => true,
        Ordering::Equal => inclusive,
        Ordering::Greater => false,
    });
    after_start && before_end
}

/// Whether `version` is affected by one OSV range's events, evaluated as the OSV schema's
/// "Evaluation" section says: events sorted by version (`introduced: "0"` first), each
/// `introduced` at or below the version turns "affected" on, each `fixed` at or below it or
/// `last_affected` below it turns it off; and when `limit` events exist the version must lie
/// below one of them.
pub fn affected_by_events(scheme: Scheme, version: &str, events: &[Event]) -> bool {
    let mut sorted: Vec<&Event> = events.iter().collect();
    // A stable sort keeps the record's own order between events at the same version.
    sorted.sort_by(|x, y| match (event_version(x), event_version(y)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => compare(scheme, x, y),
    });
    let mut affected = false;
    for event in sorted {
        match event {
            Event::Introduced(introduced) => {
                if introduced == "0" || compare(scheme, version, introduced).is_ge() {
                    affected = true;
                }
            }
            Event::Fixed(fixed) => {
                if compare(scheme, version, fixed).is_ge() {
                    affected = false;
                }
            }
            Event::LastAffected(last) => {
                if compare(scheme, version, last).is_gt() {
                    affected = false;
                }
            }
            Event::Limit(_) => {}
        }
    }
    let mut limits = events.iter().filter_map(|event| match event {
        Event::Limit(limit) => Some(limit),
        _ => None,
    });
    let below_a_limit = match limits.next() {
        None => true,
        Some(first) => std::iter::once(first)
            .chain(limits)
            // The schema lets any limit containing `*` stand for infinity.
            .any(|limit| limit.contains('*') || compare(scheme, version, limit).is_lt()),
    };
    affected && below_a_limit
}

/// For the `version_compare` fuzz target: the bytes up to the first newline and those after
/// it are two versions; in every scheme comparing them never panics, is antisymmetric and
/// reflexive, and taking the upstream part never panics.
pub fn fuzz_version_compare(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    for scheme in Scheme::ALL {
        let forward = compare(scheme, a, b);
        assert_eq!(
            forward,
            compare(scheme, b, a).reverse(),
            "{scheme:?} {a:?} {b:?}"
        );
        assert_eq!(compare(scheme, a, a), Ordering::Equal, "{scheme:?} {a:?}");
        let _ = upstream(scheme, a);
        let events = [
            Event::Introduced("0".to_owned()),
            Event::Fixed(b.to_owned()),
        ];
        assert_eq!(affected_by_events(scheme, a, &events), forward.is_lt());
    }
}

/// The version an event is placed by when sorting; `None` for `introduced: "0"`, which
/// precedes every version.
fn event_version(event: &Event) -> Option<&str> {
    match event {
        Event::Introduced(version) if version == "0" => None,
        Event::Introduced(version)
        | Event::Fixed(version)
        | Event::LastAffected(version)
        | Event::Limit(version) => Some(version),
    }
}

/// Splits `epoch:rest` when everything before the first colon is digits (dpkg's and rpm's
/// epoch); otherwise there is no epoch.
fn split_epoch(version: &[u8]) -> (&[u8], &[u8]) {
    match version.iter().position(|&b| b == b':') {
        Some(colon) if version[..colon].iter().all(u8::is_ascii_digit) => {
            (&version[..colon], &version[colon + 1..])
        }
        _ => (&[], version),
    }
}

/// Compares two runs of ASCII digits as unbounded numbers: leading zeros ignored, then the
/// longer is larger, then digit by digit.
fn compare_digit_runs(a: &[u8], b: &[u8]) -> Ordering {
    let a = strip_leading_zeros(a);
    let b = strip_leading_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn strip_leading_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&b| b == b'0').count();
    &digits[zeros..]
}

/// The length of the run at the start of `bytes` whose bytes satisfy `class`.
fn run_length(bytes: &[u8], class: impl Fn(u8) -> bool) -> usize {
    bytes.iter().take_while(|&&b| class(b)).count()
}

mod dpkg {
    //! dpkg's `verrevcmp` over epoch, upstream version and revision (deb-version(7)).
    use std::cmp::Ordering;

    use super::{compare_digit_runs, run_length, split_epoch};

    pub(super) fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let (a_epoch, a_rest) = split_epoch(a);
        let (b_epoch, b_rest) = split_epoch(b);
        let (a_upstream, a_revision) = split_revision(a_rest);
        let (b_upstream, b_revision) = split_revision(b_rest);
        compare_digit_runs(a_epoch, b_epoch)
            .then_with(|| verrevcmp(a_upstream, b_upstream))
            .then_with(|| verrevcmp(a_revision, b_revision))
    }

    /// The revision follows the last hyphen; without one it is empty, which dpkg orders as
    /// equal to `0`.
    fn split_revision(version: &[u8]) -> (&[u8], &[u8]) {
        match version.iter().rposition(|&b| b == b'-') {
            Some(dash) => (&version[..dash], &version[dash + 1..]),
            None => (version, &[]),
        }
    }

    /// dpkg's weight of a non-digit character: `~` lowest (below the end of the string),
    /// then the end, then letters, then everything else.
    fn weight(byte: Option<u8>) -> i32 {
        match byte {
            None => 0,
            Some(b'~') => -1,
            Some(b) if b.is_ascii_digit() => 0,
            Some(b) if b.is_ascii_alphabetic() => i32::from(b),
            Some(b) => i32::from(b) + 256,
        }
    }

    fn verrevcmp(mut a: &[u8], mut b: &[u8]) -> Ordering {
        while !a.is_empty() || !b.is_empty() {
            // Alternating non-digit and digit runs.
            let a_text = run_length(a, |c| !c.is_ascii_digit());
            let b_text = run_length(b, |c| !c.is_ascii_digit());
            let longest = a_text.max(b_text);
            for i in 0..longest {
                let x = if i < a_text { a.get(i).copied() } else { None };
                let y = if i < b_text { b.get(i).copied() } else { None };
                let order = weight(x).cmp(&weight(y));
                if order.is_ne() {
                    return order;
                }
            }
            a = &a[a_text..];
            b = &b[b_text..];
            let a_digits = run_length(a, |c| c.is_ascii_digit());
            let b_digits = run_length(b, |c| c.is_ascii_digit());
            let order = compare_digit_runs(&a[..a_digits], &b[..b_digits]);
            if order.is_ne() {
                return order;
            }
            a = &a[a_digits..];
            b = &b[b_digits..];
        }
        Ordering::Equal
    }
}

mod rpm {
    //! rpm's `rpmvercmp` on epoch, version and release, as `rpm.vercmp` applies it to whole
    //! EVR strings: a missing release sorts before any release.
    use std::cmp::Ordering;

    use super::{compare_digit_runs, run_length, split_epoch};

    pub(super) fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let (a_epoch, a_rest) = split_epoch(a);
        let (b_epoch, b_rest) = split_epoch(b);
        let (a_version, a_release) = split_release(a_rest);
        let (b_version, b_release) = split_release(b_rest);
        // A missing epoch is 0.
        let a_epoch: &[u8] = if a_epoch.is_empty() { b"0" } else { a_epoch };
        let b_epoch: &[u8] = if b_epoch.is_empty() { b"0" } else { b_epoch };
        rpmvercmp(a_epoch, b_epoch)
            .then_with(|| rpmvercmp(a_version, b_version))
            .then_with(|| match (a_release, b_release) {
                (None, None) => Ordering::Equal,
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (Some(a), Some(b)) => rpmvercmp(a, b),
            })
    }

    fn split_release(version: &[u8]) -> (&[u8], Option<&[u8]>) {
        match version.iter().rposition(|&b| b == b'-') {
            Some(dash) => (&version[..dash], Some(&version[dash + 1..])),
            None => (version, None),
        }
    }

    fn is_separator(b: u8) -> bool {
        !b.is_ascii_alphanumeric() && b != b'~' && b != b'^'
    }

    pub(super) fn rpmvercmp(mut a: &[u8], mut b: &[u8]) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        loop {
            a = &a[run_length(a, is_separator)..];
            b = &b[run_length(b, is_separator)..];
            let (x, y) = (a.first().copied(), b.first().copied());
            // `~` sorts before everything, even the end of the string.
            if x == Some(b'~') || y == Some(b'~') {
                if x != Some(b'~') {
                    return Ordering::Greater;
                }
                if y != Some(b'~') {
                    return Ordering::Less;
                }
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            // `^` sorts after the end of the string but before anything else.
            if x == Some(b'^') || y == Some(b'^') {
                if x.is_none() {
                    return Ordering::Less;
                }
                if y.is_none() {
                    return Ordering::Greater;
                }
                if x != Some(b'^') {
                    return Ordering::Greater;
                }
                if y != Some(b'^') {
                    return Ordering::Less;
                }
                a = &a[1..];
                b = &b[1..];
                continue;
            }
            let (Some(x), Some(_)) = (x, y) else {
                break;
            };
            let numeric = x.is_ascii_digit();
            let class = |c: u8| {
                if numeric {
                    c.is_ascii_digit()
                } else {
                    c.is_ascii_alphabetic()
                }
            };
            let a_len = run_length(a, class);
            let b_len = run_length(b, class);
            // A numeric segment is newer than an alphabetic one.
            if b_len == 0 {
                return if numeric {
                    Ordering::Greater
                } else {
                    Ordering::Less
                };
            }
            let order = if numeric {
                compare_digit_runs(&a[..a_len], &b[..b_len])
            } else {
                a[..a_len].cmp(&b[..b_len])
            };
            if order.is_ne() {
                return order;
            }
            a = &a[a_len..];
            b = &b[b_len..];
        }
        match (a.is_empty(), b.is_empty()) {
            (true, true) => Ordering::Equal,
            (false, _) => Ordering::Greater,
            (true, false) => Ordering::Less,
        }
    }
}

mod apk {
    //! apk-tools' version order: a token automaton (digits, one letter, `_suffix`, suffix
    //! number, `-rN`) whose token kinds rank the versions when one runs out or changes kind.
    use std::cmp::Ordering;

    use super::{compare_digit_runs, run_length};

    /// What the next token is; the declaration order is apk's, which decides when two
    /// versions agree up to a point and then continue differently.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Kind {
        Invalid,
        /// A component after a dot, where leading zeros count as a fraction (`1.05 < 1.5`).
        DigitOrZero,
        Digit,
        Letter,
        Suffix,
        SuffixNumber,
        Revision,
        End,
    }

    const PRE_SUFFIXES: [&[u8]; 4] = [b"alpha", b"beta", b"pre", b"rc"];
    const POST_SUFFIXES: [&[u8]; 5] = [b"cvs", b"svn", b"git", b"hg", b"p"];

    /// A token's value; only tokens of the same kind are compared.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Value<'a> {
        /// A run of leading zeros after a dot: more zeros are smaller, and any is smaller than
        /// a number.
        Zeros(usize),
        Number(&'a [u8]),
        /// A suffix's rank: pre-release suffixes negative, post-release ones from zero.
        Rank(i32),
        Letter(u8),
    }

    impl Ord for Value<'_> {
        fn cmp(&self, other: &Self) -> Ordering {
            use Value::*;
            match (self, other) {
                (Zeros(a), Zeros(b)) => b.cmp(a),
                (Zeros(_), _) => Ordering::Less,
                (_, Zeros(_)) => Ordering::Greater,
                (Number(a), Number(b)) => compare_digit_runs(a, b),
                (Rank(a), Rank(b)) => a.cmp(b),
                (Letter(a), Letter(b)) => a.cmp(b),
                // Tokens of one kind carry one variant; this order is arbitrary but fixed.
                (a, b) => discriminant(a).cmp(&discriminant(b)),
            }
        }
    }

    impl PartialOrd for Value<'_> {
        fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
            Some(self.cmp(other))
        }
    }

    fn discriminant(value: &Value<'_>) -> u8 {
        match value {
            Value::Zeros(_) => 0,
            Value::Number(_) => 1,
            Value::Rank(_) => 2,
            Value::Letter(_) => 3,
        }
    }

    struct Tokens<'a> {
        rest: &'a [u8],
        kind: Kind,
    }

    impl<'a> Tokens<'a> {
        fn new(version: &'a [u8]) -> Self {
            let kind = if version.is_empty() {
                Kind::End
            } else {
                Kind::Digit
            };
            Tokens {
                rest: version,
                kind,
            }
        }

        /// Reads the token of the current kind and moves to the next kind.
        fn value(&mut self) -> Value<'a> {
            let mut forced_next = None;
            let (value, used) = match self.kind {
                Kind::DigitOrZero if self.rest.first() == Some(&b'0') => {
                    let zeros = run_length(self.rest, |b| b == b'0');
                    forced_next = Some(Kind::Digit);
                    (Value::Zeros(zeros), zeros)
                }
                Kind::DigitOrZero | Kind::Digit | Kind::SuffixNumber | Kind::Revision => {
                    let digits = run_length(self.rest, |b| b.is_ascii_digit());
                    (Value::Number(&self.rest[..digits]), digits)
                }
                Kind::Letter => match self.rest.first() {
                    Some(&letter) => (Value::Letter(letter), 1),
                    None => (Value::Letter(0), 0),
                },
                Kind::Suffix => {
                    let pre = PRE_SUFFIXES
                        .iter()
                        .zip(-4..)
                        .find(|(name, _)| self.rest.starts_with(name));
                    let post = POST_SUFFIXES
                        .iter()
                        .zip(0..)
                        .find(|(name, _)| self.rest.starts_with(name));
                    match pre.or(post) {
                        Some((name, rank)) => (Value::Rank(rank), name.len()),
                        None => {
                            self.kind = Kind::Invalid;
                            return Value::Rank(-1);
                        }
                    }
                }
                Kind::Invalid | Kind::End => return Value::Number(&[]),
            };
            self.rest = &self.rest[used..];
            if self.rest.is_empty() {
                self.kind = Kind::End;
            } else if let Some(next) = forced_next {
                self.kind = next;
            } else {
                self.advance_kind();
            }
            value
        }

        /// Decides the next token's kind from the bytes after the last token, consuming the
        /// separator; a kind that may not follow the current one makes the version invalid.
        fn advance_kind(&mut self) {
            let current = self.kind;
            let first = self.rest.first().copied();
            let next = match first {
                None => Kind::End,
                Some(b)
                    if matches!(current, Kind::Digit | Kind::DigitOrZero)
                        && b.is_ascii_lowercase() =>
                {
                    Kind::Letter
                }
                Some(b) if current == Kind::Letter && b.is_ascii_digit() => Kind::Digit,
                Some(b) if current == Kind::Suffix && b.is_ascii_digit() => Kind::SuffixNumber,
                Some(b) => {
                    let (kind, used) = match b {
                        b'.' => (Kind::DigitOrZero, 1),
                        b'_' => (Kind::Suffix, 1),
                        b'-' if self.rest.get(1) == Some(&b'r') => (Kind::Revision, 2),
                        _ => (Kind::Invalid, 1),
                    };
                    self.rest = self.rest.get(used..).unwrap_or_default();
                    kind
                }
            };
            let allowed_backwards = matches!(
                (current, next),
                (Kind::Digit, Kind::DigitOrZero)
                    | (Kind::SuffixNumber, Kind::Suffix)
                    | (Kind::Letter, Kind::Digit)
            );
            self.kind = if next < current && !allowed_backwards {
                Kind::Invalid
            } else {
                next
            };
        }

        /// Whether the next token is a pre-release suffix (or an unknown one, which apk
        /// treats alike): such a version is older than one that ends here.
        fn next_is_pre_release(&self) -> bool {
            // `pre` is read before `p`, as apk does.
            let starts = |names: &[&[u8]]| names.iter().any(|name| self.rest.starts_with(name));
            self.kind == Kind::Suffix && (starts(&PRE_SUFFIXES) || !starts(&POST_SUFFIXES))
        }
    }

    pub(super) fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let mut x = Tokens::new(a);
        let mut y = Tokens::new(b);
        while x.kind == y.kind && !matches!(x.kind, Kind::End | Kind::Invalid) {
            let order = x.value().cmp(&y.value());
            if order.is_ne() {
                return order;
            }
        }
        if x.kind == y.kind {
            // Both ended, or both turned invalid at the same point: apk calls them equal;
            // the unread rest decides so that distinct garbage still orders totally.
            return x.rest.cmp(y.rest);
        }
        if x.next_is_pre_release() {
            return Ordering::Less;
        }
        if y.next_is_pre_release() {
            return Ordering::Greater;
        }
        // The version that goes on with an earlier kind of token is the later one
        // (`1.0.1 > 1.0 > 1.0_rc1`, `1.0-r1 > 1.0`).
        y.kind.cmp(&x.kind)
    }
}

mod semver {
    //! Semantic Versioning 2.0 precedence, read leniently: a leading `v` or `=`, missing
    //! minor or patch numbers (as zero), and build metadata (ignored) are tolerated.
    use std::cmp::Ordering;

    use super::compare_digit_runs;

    struct Parts<'a> {
        core: &'a [u8],
        pre_release: Option<&'a [u8]>,
    }

    fn parts(version: &[u8]) -> Parts<'_> {
        let version = version.trim_ascii();
        let version = match version.first() {
            Some(b'v' | b'V' | b'=') => &version[1..],
            _ => version,
        };
        let without_build = match version.iter().position(|&b| b == b'+') {
            Some(plus) => &version[..plus],
            None => version,
        };
        match without_build.iter().position(|&b| b == b'-') {
            Some(dash) => Parts {
                core: &without_build[..dash],
                pre_release: Some(&without_build[dash + 1..]),
            },
            None => Parts {
                core: without_build,
                pre_release: None,
            },
        }
    }

    /// One dot-separated identifier: numeric ones compare as numbers and sort before
    /// alphanumeric ones, which compare in ASCII order.
    fn compare_identifiers(a: &[u8], b: &[u8]) -> Ordering {
        let numeric = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
        match (numeric(a), numeric(b)) {
            (true, true) => compare_digit_runs(a, b),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => a.cmp(b),
        }
    }

    pub(super) fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let a = parts(a);
        let b = parts(b);
        // The core numbers, the shorter one padded with zeros (`1.2` is `1.2.0`).
        let mut a_core = a.core.split(|&c| c == b'.');
        let mut b_core = b.core.split(|&c| c == b'.');
        loop {
            match (a_core.next(), b_core.next()) {
                (None, None) => break,
                (x, y) => {
                    let order = compare_identifiers(x.unwrap_or(b"0"), y.unwrap_or(b"0"));
                    if order.is_ne() {
                        return order;
                    }
                }
            }
        }
        match (a.pre_release, b.pre_release) {
            (None, None) => Ordering::Equal,
            // A pre-release precedes its release.
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => {
                let mut x = x.split(|&c| c == b'.');
                let mut y = y.split(|&c| c == b'.');
                loop {
                    match (x.next(), y.next()) {
                        (None, None) => return Ordering::Equal,
                        (None, Some(_)) => return Ordering::Less,
                        (Some(_), None) => return Ordering::Greater,
                        (Some(x), Some(y)) => {
                            let order = compare_identifiers(x, y);
                            if order.is_ne() {
                                return order;
                            }
                        }
                    }
                }
            }
        }
    }
}

mod pep440 {
    //! PEP 440 ordering after the PEP's normalisation: case-insensitive, `alpha`/`a`,
    //! `beta`/`b`, `c`/`pre`/`preview`/`rc`, `post`/`rev`/`r`/`-N`, `dev`, local `+…`.
    //! Strings that are not PEP 440 versions sort before all valid ones, among themselves in
    //! [`super::Scheme::Generic`] order.
    use std::cmp::Ordering;

    use super::{compare_digit_runs, run_length};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    struct Version<'a> {
        epoch: &'a [u8],
        release: &'a [u8],
        /// (0 = a, 1 = b, 2 = rc, number)
        pre: Option<(u8, &'a [u8])>,
        post: Option<&'a [u8]>,
        dev: Option<&'a [u8]>,
        local: Option<&'a [u8]>,
    }

    struct Cursor<'a> {
        rest: &'a [u8],
    }

    impl<'a> Cursor<'a> {
        fn digits(&mut self) -> Option<&'a [u8]> {
            let n = run_length(self.rest, |b| b.is_ascii_digit());
            if n == 0 {
                return None;
            }
            let (digits, rest) = self.rest.split_at(n);
            self.rest = rest;
            Some(digits)
        }

        fn separator(&mut self) -> bool {
            match self.rest.first() {
                Some(b'.' | b'-' | b'_') => {
                    self.rest = &self.rest[1..];
                    true
                }
                _ => false,
            }
        }

        /// Consumes the first of `words` (case-insensitive) the input starts with.
        fn word(&mut self, words: &[&[u8]]) -> Option<usize> {
            let (index, word) = words.iter().enumerate().find(|(_, word)| {
                self.rest.len() >= word.len() && self.rest[..word.len()].eq_ignore_ascii_case(word)
            })?;
            self.rest = &self.rest[word.len()..];
            Some(index)
        }

        /// An optional separator, then a word from `words`, then an optional separator and
        /// number (implicitly 0). Restores the position when no word follows.
        fn labelled(&mut self, words: &[&[u8]]) -> Option<(usize, &'a [u8])> {
            let start = self.rest;
            self.separator();
            let Some(index) = self.word(words) else {
                self.rest = start;
                return None;
            };
            let before_number = self.rest;
            self.separator();
            let number = match self.digits() {
                Some(number) => number,
                None => {
                    self.rest = before_number;
                    b"0"
                }
            };
            Some((index, number))
        }
    }

    fn parse(version: &str) -> Option<Version<'_>> {
        let mut cursor = Cursor {
            rest: version.trim().as_bytes(),
        };
        if matches!(cursor.rest.first(), Some(b'v' | b'V')) {
            cursor.rest = &cursor.rest[1..];
        }
        let mut epoch: &[u8] = b"0";
        let mut release_start = cursor.rest;
        let first = cursor.digits()?;
        if cursor.rest.first() == Some(&b'!') {
            epoch = first;
            cursor.rest = &cursor.rest[1..];
            release_start = cursor.rest;
            cursor.digits()?;
        }
        while cursor.rest.first() == Some(&b'.')
            && cursor.rest.get(1).is_some_and(u8::is_ascii_digit)
        {
            cursor.rest = &cursor.rest[1..];
            cursor.digits()?;
        }
        let release = &release_start[..release_start.len() - cursor.rest.len()];
        let pre = cursor
            .labelled(&[
                b"alpha", b"a", b"beta", b"b", b"preview", b"pre", b"rc", b"c",
            ])
            .map(|(index, number)| {
                let phase = match index {
                    0 | 1 => 0,
                    2 | 3 => 1,
                    _ => 2,
                };
                (phase, number)
            });
        let post = match cursor.labelled(&[b"post", b"rev", b"r"]) {
            Some((_, number)) => Some(number),
            // The implicit post release `1.0-1`.
            None if cursor.rest.first() == Some(&b'-')
                && cursor.rest.get(1).is_some_and(u8::is_ascii_digit) =>
            {
                cursor.rest = &cursor.rest[1..];
                cursor.digits()
            }
            None => None,
        };
        let dev = cursor.labelled(&[b"dev"]).map(|(_, number)| number);
        let local = match cursor.rest.first() {
            Some(b'+') => {
                let local = &cursor.rest[1..];
                let valid = !local.is_empty()
                    && local
                        .split(|&b| matches!(b, b'.' | b'-' | b'_'))
                        .all(|part| !part.is_empty() && part.iter().all(u8::is_ascii_alphanumeric));
                if !valid {
                    return None;
                }
                cursor.rest = &[];
                Some(local)
            }
            _ => None,
        };
        if !cursor.rest.is_empty() {
            return None;
        }
        Some(Version {
            epoch,
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// Release numbers compared with trailing zeros ignored (`1.0 == 1.0.0`).
    fn compare_release(a: &[u8], b: &[u8]) -> Ordering {
        let mut a = a.split(|&c| c == b'.');
        let mut b = b.split(|&c| c == b'.');
        loop {
            match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (x, y) => {
                    let order = compare_digit_runs(x.unwrap_or(b"0"), y.unwrap_or(b"0"));
                    if order.is_ne() {
                        return order;
                    }
                }
            }
        }
    }

    /// `packaging`'s local-version order: segments compared in turn, numbers as numbers and
    /// above words (case-insensitive), a longer local version above its prefix.
    fn compare_local(a: &[u8], b: &[u8]) -> Ordering {
        let separator = |c: &u8| matches!(c, b'.' | b'-' | b'_');
        let mut a = a.split(separator);
        let mut b = b.split(separator);
        loop {
            match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => {
                    let numeric = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
                    let order = match (numeric(x), numeric(y)) {
                        (true, true) => compare_digit_runs(x, y),
                        (true, false) => Ordering::Greater,
                        (false, true) => Ordering::Less,
                        (false, false) => x
                            .iter()
                            .map(u8::to_ascii_lowercase)
                            .cmp(y.iter().map(u8::to_ascii_lowercase)),
                    };
                    if order.is_ne() {
                        return order;
                    }
                }
            }
        }
    }

    /// Where the pre-release part places a version: a dev release of a final version
    /// before its pre-releases, pre-releases by phase and number, the final release last.
    fn pre_key<'a>(version: &Version<'a>) -> (u8, u8, &'a [u8]) {
        match version.pre {
            None if version.post.is_none() && version.dev.is_some() => (0, 0, b""),
            Some((phase, number)) => (1, phase, number),
            None => (2, 0, b""),
        }
    }

    fn compare_versions(a: &Version<'_>, b: &Version<'_>) -> Ordering {
        let (a_pre, b_pre) = (pre_key(a), pre_key(b));
        compare_digit_runs(a.epoch, b.epoch)
            .then_with(|| compare_release(a.release, b.release))
            .then_with(|| {
                a_pre
                    .0
                    .cmp(&b_pre.0)
                    .then(a_pre.1.cmp(&b_pre.1))
                    .then_with(|| compare_digit_runs(a_pre.2, b_pre.2))
            })
            // No post release sorts before any.
            .then_with(|| match (a.post, b.post) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => compare_digit_runs(x, y),
            })
            // A dev release sorts before the same version without one.
            .then_with(|| match (a.dev, b.dev) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => compare_digit_runs(x, y),
            })
            .then_with(|| match (a.local, b.local) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => compare_local(x, y),
            })
    }

    pub(super) fn compare(a: &str, b: &str) -> Ordering {
        match (parse(a), parse(b)) {
            (Some(x), Some(y)) => compare_versions(&x, &y),
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
            (None, None) => super::generic::compare(a.as_bytes(), b.as_bytes()),
        }
    }
}

mod generic {
    //! Upstream versions as NVD's configurations and OSS-Fuzz's tags write them. Separators
    //! (`.`, `-`, `_`, `+` and any other punctuation) only delimit; the version is a sequence
    //! of numbers and words. Where two versions agree up to a point and then differ in kind,
    //! the ranks are: a pre-release word (`dev < test < alpha < beta < pre < rc`) before the end of
    //! the version, the end before any other word (OpenSSL's `1.1.1w`, OpenSSH's `9.2p1`,
    //! ISC's `-P1`, `-fips`), and a word before a number.
    use std::cmp::Ordering;

    use super::{compare_digit_runs, run_length};

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Token<'a> {
        PreRelease(u8),
        End,
        Word(&'a [u8]),
        Number(&'a [u8]),
    }

    impl Token<'_> {
        fn rank(&self) -> u8 {
            match self {
                Token::PreRelease(_) => 0,
                Token::End => 1,
                Token::Word(_) => 2,
                Token::Number(_) => 3,
            }
        }
    }

    fn pre_release_rank(word: &[u8]) -> Option<u8> {
        // dnsmasq's `2.90test1` precedes its `2.90rc1`.
        const WORDS: [(&[u8], u8); 8] = [
            (b"dev", 0),
            (b"test", 1),
            (b"alpha", 2),
            (b"beta", 3),
            (b"pre", 4),
            (b"preview", 4),
            (b"rc", 5),
            (b"cr", 5),
        ];
        WORDS
            .iter()
            .find(|(name, _)| word.eq_ignore_ascii_case(name))
            .map(|&(_, rank)| rank)
    }

    fn next_token<'a>(rest: &mut &'a [u8]) -> Token<'a> {
        let skipped = run_length(rest, |b| !b.is_ascii_alphanumeric() && b.is_ascii());
        *rest = &rest[skipped..];
        let Some(&first) = rest.first() else {
            return Token::End;
        };
        if first.is_ascii_digit() {
            let n = run_length(rest, |b| b.is_ascii_digit());
            let (digits, tail) = rest.split_at(n);
            *rest = tail;
            Token::Number(digits)
        } else {
            // Letters, and non-ASCII bytes, which only garbage carries, as one word.
            let n = run_length(rest, |b| b.is_ascii_alphabetic() || !b.is_ascii()).max(1);
            let (word, tail) = rest.split_at(n);
            *rest = tail;
            match pre_release_rank(word) {
                Some(rank) => Token::PreRelease(rank),
                None => Token::Word(word),
            }
        }
    }

    /// The next token with zero components dropped where they only pad: before the end
    /// (`1.2.0.0` is `1.2`, so NVD's `5.10` bound meets a `5.10.0` component) and before a
    /// pre-release word (`3.0.0-alpha1` precedes `3.0`). Zeros before anything else stay:
    /// `1.0.1` and `1.0a` keep theirs. Deciding per string, never per pair, keeps the order
    /// transitive.
    fn next_significant_token<'a>(rest: &mut &'a [u8]) -> Token<'a> {
        let is_zero = |token: &Token<'_>| matches!(token, Token::Number(digits) if digits.iter().all(|&d| d == b'0'));
        let token = next_token(rest);
        if !is_zero(&token) {
            return token;
        }
        let mut lookahead = *rest;
        loop {
            let next = next_token(&mut lookahead);
            match next {
                Token::End | Token::PreRelease(_) => {
                    *rest = lookahead;
                    return next;
                }
                next if is_zero(&next) => {}
                _ => return token,
            }
        }
    }

    /// Tags such as `v2.5.0` name the version `2.5.0`.
    fn without_v_prefix(version: &[u8]) -> &[u8] {
        match version {
            [b'v' | b'V', digit, ..] if digit.is_ascii_digit() => &version[1..],
            _ => version,
        }
    }

    pub(super) fn compare(a: &[u8], b: &[u8]) -> Ordering {
        let mut a = without_v_prefix(a);
        let mut b = without_v_prefix(b);
        loop {
            let x = next_significant_token(&mut a);
            let y = next_significant_token(&mut b);
            let order = match (x, y) {
                (Token::End, Token::End) => return Ordering::Equal,
                (Token::Number(x), Token::Number(y)) => compare_digit_runs(x, y),
                (Token::Word(x), Token::Word(y)) => x
                    .iter()
                    .map(u8::to_ascii_lowercase)
                    .cmp(y.iter().map(u8::to_ascii_lowercase)),
                (Token::PreRelease(x), Token::PreRelease(y)) => x.cmp(&y),
                (x, y) => x.rank().cmp(&y.rank()),
            };
            if order.is_ne() {
                return order;
            }
        }
    }
}

#[cfg(test)]
mod tests;
