use std::cmp::Ordering::{self, Equal, Greater, Less};

use proptest::prelude::*;

use super::*;
use crate::model::Bound;

#[track_caller]
fn check(scheme: Scheme, pairs: &[(&str, Ordering, &str)]) {
    for &(a, expected, b) in pairs {
        assert_eq!(compare(scheme, a, b), expected, "{scheme:?}: {a} vs {b}");
        assert_eq!(
            compare(scheme, b, a),
            expected.reverse(),
            "{scheme:?}: {b} vs {a}"
        );
    }
}

#[test]
fn generic_orders_upstream_c_versions_as_their_projects_release_them() {
    check(
        Scheme::Generic,
        &[
            // OpenSSL letter releases follow the plain number.
            ("1.1.1w", Greater, "1.1.1"),
            ("1.1.1w", Greater, "1.1.1v"),
            ("1.0.2k", Less, "1.0.2l"),
            ("1.1.1", Greater, "1.0.2zh"),
            ("1.0.2k-fips", Greater, "1.0.2k"),
            // OpenSSH portable patch levels.
            ("9.2p1", Greater, "9.2"),
            ("9.3p1", Greater, "9.2p2"),
            ("7.4p1", Less, "7.10p1"),
            // Release candidates and friends precede the release.
            ("2.84rc2", Less, "2.84"),
            ("2.84rc2", Greater, "2.84rc1"),
            ("2.84rc1", Greater, "2.84beta3"),
            ("1.0-alpha", Less, "1.0-beta"),
            ("1.0.dev1", Less, "1.0alpha1"),
            ("2.84rc2", Greater, "2.83"),
            // Numbers as numbers, leading zeros ignored.
            ("1.10", Greater, "1.9"),
            ("1.010", Equal, "1.10"),
            ("2022.83", Greater, "2020.81"),
            ("2024-07", Greater, "2024-06"),
            ("20230115", Greater, "20221231"),
            // ISC's patch releases.
            ("4.4.3-P1", Greater, "4.4.3"),
            ("9.16.1-P1", Less, "9.16.2"),
            // Separators are equivalent and case does not matter.
            ("1.2.3", Equal, "1-2_3"),
            ("1.2+3", Equal, "1.2.3"),
            ("1.0RC1", Equal, "1.0rc1"),
            // More components are later.
            ("1.2.1", Greater, "1.2"),
            ("1.2.0", Equal, "1.2"),
            ("5.10.0.0", Equal, "5.10"),
            ("1.0", Equal, "1"),
            ("1.20", Greater, "1.2"),
            ("1.2.0a", Greater, "1.2a"),
            ("3.0.0-alpha1", Less, "3.0"),
            ("3.0.0-alpha1", Equal, "3-alpha1"),
            ("1.0.1", Greater, "1.0a"),
            // A tag's `v` is not part of the version.
            ("v2.5.0", Equal, "2.5.0"),
        ],
    );
}

/// Release histories in the order the projects published them, as NVD names the versions.
#[test]
fn generic_sorts_real_release_histories_in_release_order() {
    let histories: [&[&str]; 5] = [
        &[
            "0.9.8",
            "0.9.8a",
            "0.9.8za",
            "0.9.8zh",
            "1.0.0",
            "1.0.0a",
            "1.0.1",
            "1.0.1u",
            "1.0.2",
            "1.0.2k",
            "1.0.2zk",
            "1.1.0",
            "1.1.0l",
            "1.1.1",
            "1.1.1a",
            "1.1.1w",
            "3.0.0-alpha1",
            "3.0.0-beta2",
            "3.0.0",
            "3.0.13",
            "3.1.0",
            "3.2.1",
        ],
        &[
            "7.4", "7.4p1", "7.9p1", "8.0p1", "8.9p1", "9.0p1", "9.2p1", "9.3", "9.3p1", "9.8p1",
        ],
        &[
            "2.80",
            "2.84test1",
            "2.84rc1",
            "2.84rc2",
            "2.84",
            "2.85",
            "2.89",
            "2.90test2",
            "2.90",
        ],
        &[
            "9.11.5",
            "9.11.5-P1",
            "9.11.5-P4",
            "9.11.6",
            "9.16.1",
            "9.16.1-P1",
            "9.18.24",
        ],
        &[
            "2019.78", "2020.81", "2022.82", "2022.83", "2024.84", "2024.86",
        ],
    ];
    for history in histories {
        for pair in history.windows(2) {
            assert_eq!(
                compare(Scheme::Generic, pair[0], pair[1]),
                Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
        }
    }
}

#[test]
fn debian_follows_dpkg() {
    check(
        Scheme::Debian,
        &[
            ("1.0~rc1-1", Less, "1.0-1"),
            ("1.0~~", Less, "1.0~"),
            ("1.0", Greater, "1.0~"),
            ("1:1.0", Greater, "2.0"),
            ("01:1.0", Equal, "1:1.0"),
            ("1.0-1", Less, "1.0-1ubuntu1"),
            ("1.0a", Less, "1.0+"),
            ("1.0", Equal, "1.0-0"),
            ("2.36.1-8+deb11u1", Greater, "2.36.1-8"),
            ("3.0.11-1~deb12u2", Less, "3.0.11-1"),
            ("1.2.3-1.1", Greater, "1.2.3-1"),
            ("1.2", Less, "1.10"),
        ],
    );
    assert_eq!(compare(Scheme::Opkg, "1.0~rc1-1", "1.0-1"), Less);
}

#[test]
fn rpm_follows_rpmvercmp() {
    check(
        Scheme::Rpm,
        &[
            ("1.0~rc1", Less, "1.0"),
            ("1.0^git1", Greater, "1.0"),
            ("1.0^git1", Less, "1.0.1"),
            ("1.0a", Less, "1.0.1"),
            ("1:1.0-1", Greater, "2.0-1"),
            ("1.0-1.el9", Less, "1.0-2.el9"),
            ("1.0-1", Greater, "1.0"),
            ("2.0.1", Greater, "2.0"),
            ("1.01", Equal, "1.1"),
            ("1.0.a", Less, "1.0.1"),
        ],
    );
}

#[test]
fn alpine_follows_apk() {
    check(
        Scheme::Alpine,
        &[
            ("1.2.3_rc1-r0", Less, "1.2.3-r0"),
            ("1.2.3_alpha", Less, "1.2.3_beta"),
            ("1.2.3_pre1", Less, "1.2.3_rc1"),
            ("1.2.3_p1", Greater, "1.2.3"),
            ("1.2.3_git20240101", Greater, "1.2.3"),
            ("1.2.3a", Greater, "1.2.3"),
            ("1.2.3-r1", Greater, "1.2.3-r0"),
            ("1.2.3-r10", Greater, "1.2.3-r9"),
            ("1.36.1-r29", Greater, "1.36.1-r5"),
            ("1.0", Greater, "1"),
            // `_pre` is a pre-release suffix although it starts like `_p`.
            ("0.1.0_alpha_pre2", Less, "0.1.0_alpha"),
        ],
    );
}

#[test]
fn semver_follows_precedence_rules() {
    check(
        Scheme::Semver,
        &[
            ("1.0.0-alpha", Less, "1.0.0-alpha.1"),
            ("1.0.0-alpha.1", Less, "1.0.0-alpha.beta"),
            ("1.0.0-alpha.beta", Less, "1.0.0-beta"),
            ("1.0.0-beta.2", Less, "1.0.0-beta.11"),
            ("1.0.0-rc.1", Less, "1.0.0"),
            ("1.0.0+build.5", Equal, "1.0.0"),
            ("v1.2.3", Equal, "1.2.3"),
            ("1.2", Equal, "1.2.0"),
            ("1.10.0", Greater, "1.9.9"),
        ],
    );
}

#[test]
fn pep440_follows_the_pep() {
    check(
        Scheme::Pep440,
        &[
            ("1.0.dev456", Less, "1.0a1"),
            ("1.0a1", Less, "1.0a2.dev456"),
            ("1.0a2.dev456", Less, "1.0a12.dev456"),
            ("1.0a12", Less, "1.0b1.dev456"),
            ("1.0b2", Less, "1.0b2.post345.dev456"),
            ("1.0b2.post345", Less, "1.0rc1.dev456"),
            ("1.0rc1", Less, "1.0"),
            ("1.0", Less, "1.0+abc.5"),
            ("1.0+abc.5", Less, "1.0+abc.7"),
            ("1.0+abc.7", Less, "1.0+5"),
            ("1.0+5", Less, "1.0.post456.dev34"),
            ("1.0.post456.dev34", Less, "1.0.post456"),
            ("1.0.post456", Less, "1.1.dev1"),
            ("1!0.1", Greater, "2.0"),
            ("1.0", Equal, "1.0.0"),
            ("1.0-1", Equal, "1.0.post1"),
            ("1.0RC1", Equal, "1.0rc1"),
            ("1.0c1", Equal, "1.0rc1"),
            ("not a version", Less, "0.0.1"),
        ],
    );
}

#[test]
fn ecosystems_and_purl_types_choose_their_order() {
    assert_eq!(Scheme::for_ecosystem("Debian:12"), Scheme::Debian);
    assert_eq!(Scheme::for_ecosystem("Ubuntu:22.04:LTS"), Scheme::Debian);
    assert_eq!(Scheme::for_ecosystem("Alpine:v3.20"), Scheme::Alpine);
    assert_eq!(Scheme::for_ecosystem("PyPI"), Scheme::Pep440);
    assert_eq!(Scheme::for_ecosystem("npm"), Scheme::Semver);
    assert_eq!(Scheme::for_ecosystem("crates.io"), Scheme::Semver);
    assert_eq!(Scheme::for_ecosystem("Go"), Scheme::Semver);
    assert_eq!(Scheme::for_ecosystem("OSS-Fuzz"), Scheme::Generic);
    assert_eq!(Scheme::for_ecosystem("OpenWrt"), Scheme::Opkg);
    assert_eq!(Scheme::for_ecosystem("Red Hat"), Scheme::Rpm);
    assert_eq!(Scheme::for_ecosystem("Rocky Linux:9"), Scheme::Rpm);
    assert_eq!(Scheme::for_ecosystem("Root:Alpine:3.18"), Scheme::Alpine);
    assert_eq!(Scheme::for_ecosystem("Root:PyPI"), Scheme::Pep440);
    assert_eq!(Scheme::for_ecosystem("Wolfi"), Scheme::Alpine);
    assert_eq!(
        Scheme::for_ecosystem("SUSE:Linux Enterprise Server 15 SP5"),
        Scheme::Rpm
    );
    assert_eq!(Scheme::for_ecosystem("Something New"), Scheme::Generic);
    for (purl_type, scheme) in [
        ("deb", Scheme::Debian),
        ("apk", Scheme::Alpine),
        ("opkg", Scheme::Opkg),
        ("rpm", Scheme::Rpm),
        ("pypi", Scheme::Pep440),
        ("npm", Scheme::Semver),
        ("cargo", Scheme::Semver),
        ("golang", Scheme::Semver),
        ("generic", Scheme::Generic),
    ] {
        assert_eq!(Scheme::for_purl_type(purl_type), scheme, "{purl_type}");
    }
}

#[test]
fn upstream_drops_distribution_parts() {
    assert_eq!(upstream(Scheme::Debian, "1:2.36.1-8+deb11u1"), "2.36.1");
    assert_eq!(upstream(Scheme::Debian, "3.0.11"), "3.0.11");
    assert_eq!(upstream(Scheme::Debian, "1:9.2p1-2+deb12u3"), "9.2p1");
    assert_eq!(upstream(Scheme::Opkg, "1.36.1-1"), "1.36.1");
    assert_eq!(upstream(Scheme::Rpm, "1:3.0.7-27.el9"), "3.0.7");
    assert_eq!(upstream(Scheme::Alpine, "3.1.4-r5"), "3.1.4");
    assert_eq!(upstream(Scheme::Alpine, "1.2.3_rc1"), "1.2.3_rc1");
    assert_eq!(upstream(Scheme::Alpine, "1.0-r"), "1.0-r");
    assert_eq!(upstream(Scheme::Semver, "1.2.3-rc.1"), "1.2.3-rc.1");
    assert_eq!(upstream(Scheme::Generic, "9.2p1"), "9.2p1");
}

fn bound(version: &str, inclusive: bool) -> Option<Bound> {
    Some(Bound {
        version: version.to_owned(),
        inclusive,
    })
}

#[test]
fn bounds_of_every_kind() {
    let g = Scheme::Generic;
    let unbounded = Bounds::default();
    assert!(in_bounds(g, "1.0", &unbounded));
    // versionStartIncluding / versionStartExcluding
    let start_including = Bounds {
        start: bound("1.1.1", true),
        end: None,
    };
    assert!(in_bounds(g, "1.1.1", &start_including));
    assert!(in_bounds(g, "1.1.1a", &start_including));
    assert!(!in_bounds(g, "1.1.0l", &start_including));
    let start_excluding = Bounds {
        start: bound("1.1.1", false),
        end: None,
    };
    assert!(!in_bounds(g, "1.1.1", &start_excluding));
    assert!(in_bounds(g, "1.1.1a", &start_excluding));
    // versionEndIncluding / versionEndExcluding
    let end_excluding = Bounds {
        start: None,
        end: bound("1.1.1w", false),
    };
    assert!(in_bounds(g, "1.1.1v", &end_excluding));
    assert!(!in_bounds(g, "1.1.1w", &end_excluding));
    let end_including = Bounds {
        start: None,
        end: bound("9.3p1", true),
    };
    assert!(in_bounds(g, "9.3p1", &end_including));
    assert!(in_bounds(g, "9.3", &end_including));
    assert!(!in_bounds(g, "9.3p2", &end_including));
    // Both ends.
    let both = Bounds {
        start: bound("3.0.0", true),
        end: bound("3.0.7", false),
    };
    assert!(!in_bounds(g, "3.0.0-alpha1", &both));
    assert!(in_bounds(g, "3.0.6", &both));
    assert!(!in_bounds(g, "3.0.7", &both));
}

fn events(list: &[(&str, &str)]) -> Vec<Event> {
    list.iter()
        .map(|&(kind, version)| {
            let version = version.to_owned();
            match kind {
                "introduced" => Event::Introduced(version),
                "fixed" => Event::Fixed(version),
                "last_affected" => Event::LastAffected(version),
                "limit" => Event::Limit(version),
                other => panic!("unknown event {other}"),
            }
        })
        .collect()
}

#[test]
fn osv_events_are_evaluated_as_the_schema_says() {
    let s = Scheme::Semver;
    let fixed = events(&[("introduced", "0"), ("fixed", "1.2.3")]);
    assert!(affected_by_events(s, "0.0.1", &fixed));
    assert!(affected_by_events(s, "1.2.3-rc.1", &fixed));
    assert!(!affected_by_events(s, "1.2.3", &fixed));
    let last = events(&[("introduced", "1.0.0"), ("last_affected", "1.2.3")]);
    assert!(!affected_by_events(s, "0.9.0", &last));
    assert!(affected_by_events(s, "1.2.3", &last));
    assert!(!affected_by_events(s, "1.2.4", &last));
    // Several introduced/fixed pairs in one range, given out of order.
    let pairs = events(&[
        ("fixed", "2.0.5"),
        ("introduced", "2.0.0"),
        ("fixed", "1.4.2"),
        ("introduced", "1.0.0"),
    ]);
    assert!(affected_by_events(s, "1.4.1", &pairs));
    assert!(!affected_by_events(s, "1.5.0", &pairs));
    assert!(affected_by_events(s, "2.0.4", &pairs));
    assert!(!affected_by_events(s, "2.0.5", &pairs));
    // A limit caps the range.
    let limited = events(&[("introduced", "0"), ("limit", "3.0.0")]);
    assert!(affected_by_events(s, "2.9.9", &limited));
    assert!(!affected_by_events(s, "3.0.0", &limited));
    let unlimited = events(&[("introduced", "0"), ("limit", "*")]);
    assert!(affected_by_events(s, "99.0.0", &unlimited));
    let two_limits = events(&[("introduced", "0"), ("limit", "1.0.0"), ("limit", "v*")]);
    assert!(affected_by_events(s, "99.0.0", &two_limits));
    // No introduced event: nothing is affected.
    assert!(!affected_by_events(
        s,
        "1.0.0",
        &events(&[("fixed", "2.0.0")])
    ));
    // Debian's order inside events.
    let debian = events(&[("introduced", "0"), ("fixed", "1.1.1n-0+deb11u4")]);
    assert!(affected_by_events(
        Scheme::Debian,
        "1.1.1n-0+deb11u3",
        &debian
    ));
    assert!(!affected_by_events(
        Scheme::Debian,
        "1.1.1w-0+deb11u1",
        &debian
    ));
}

/// Versions shaped like real ones, so that the interesting branches are reached, plus
/// arbitrary strings.
fn version_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,3}([.~^_+:-][0-9a-z]{0,4}){0,5}",
        "(0|1):[0-9][0-9.]{0,6}(-[0-9a-z.~+]{1,5})?",
        "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(_(alpha|beta|pre|rc|p|git|foo)[0-9]?){0,2}(-r[0-9])?",
        "v?[0-9]{1,2}\\.[0-9]{1,2}(\\.[0-9])?(-[0-9a-z.]{1,6})?(\\+[a-z0-9]{1,3})?",
        "[0-9]!?[0-9](\\.[0-9]){0,2}((a|b|rc|c|alpha)[0-9]?)?(\\.post[0-9])?(\\.dev[0-9]?)?(\\+[a-z0-9.]{1,5})?",
        ".{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_order_is_antisymmetric_and_reflexive(a in version_strategy(), b in version_strategy()) {
        for scheme in Scheme::ALL {
            prop_assert_eq!(compare(scheme, &a, &a), Equal, "{:?} {}", scheme, a);
            prop_assert_eq!(compare(scheme, &a, &b), compare(scheme, &b, &a).reverse(), "{:?} {} {}", scheme, a, b);
        }
    }

    #[test]
    fn every_order_is_transitive(
        a in version_strategy(),
        b in version_strategy(),
        c in version_strategy(),
    ) {
        for scheme in Scheme::ALL {
            let mut sorted = [a.as_str(), b.as_str(), c.as_str()];
            sorted.sort_by(|x, y| compare(scheme, x, y));
            let [x, y, z] = sorted;
            prop_assert!(compare(scheme, x, y).is_le(), "{:?} {} {}", scheme, x, y);
            prop_assert!(compare(scheme, y, z).is_le(), "{:?} {} {}", scheme, y, z);
            prop_assert!(compare(scheme, x, z).is_le(), "{:?}: {} <= {} <= {} but not {} <= {}", scheme, x, y, z, x, z);
        }
    }
}
