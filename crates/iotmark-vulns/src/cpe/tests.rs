use super::*;

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

#[test]
fn reads_nvd_formatted_strings() {
    let cpe = Cpe::parse("cpe:2.3:a:openssl:openssl:1.1.1w:*:*:*:*:*:*:*").unwrap();
    assert_eq!(cpe.part, Part::Application);
    assert_eq!(cpe.vendor(), Some("openssl"));
    assert_eq!(cpe.product(), Some("openssl"));
    assert_eq!(cpe.version(), Some("1.1.1w"));
    assert_eq!(cpe.update, Value::Any);
    let kernel = Cpe::parse("cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*").unwrap();
    assert_eq!(kernel.part, Part::OperatingSystem);
    assert_eq!(kernel.version(), None);
    assert_eq!(kernel.version, Value::Any);
}

#[test]
fn reads_the_nistir_7695_examples() {
    // NISTIR 7695 §6.2.2 examples of the formatted-string binding.
    let hp = Cpe::parse("cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*")
        .unwrap();
    assert_eq!(hp.update, Value::Na);
    assert_eq!(hp.sw_edition, text("online"));
    assert_eq!(hp.target_sw, text("win2003"));
    assert_eq!(hp.target_hw, text("x64"));
    let escaped =
        Cpe::parse(r"cpe:2.3:a:foo\\bar:big\$money_manager_2010:*:*:*:*:special:ipod_touch:80gb:*")
            .unwrap();
    assert_eq!(escaped.vendor(), Some(r"foo\bar"));
    assert_eq!(escaped.product(), Some("big$money_manager_2010"));
    let wildcards = Cpe::parse(r"cpe:2.3:a:foo\:bar:*:1.?:*:*:*:*:*:*:*").unwrap();
    assert_eq!(wildcards.vendor(), Some("foo:bar"));
    assert_eq!(
        wildcards.version,
        Value::Pattern(Pattern {
            leading: Wildcard::None,
            text: "1.".to_owned(),
            trailing: Wildcard::UpTo(1),
        })
    );
    // A quoted asterisk is text, not a wildcard.
    let literal = Cpe::parse(r"cpe:2.3:a:vendor:product:1.0\*:*:*:*:*:*:*:*").unwrap();
    assert_eq!(literal.version(), Some("1.0*"));
}

#[test]
fn reads_2_2_uris_as_spdx_carries_them() {
    let ie = Cpe::parse("cpe:/a:microsoft:internet_explorer:8.0.6001:beta").unwrap();
    assert_eq!(ie.version(), Some("8.0.6001"));
    assert_eq!(ie.update, text("beta"));
    assert_eq!(ie.edition, Value::Any);
    assert_eq!(ie.language, Value::Any);
    let packed =
        Cpe::parse("cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~").unwrap();
    assert_eq!(packed.update, Value::Na);
    assert_eq!(packed.edition, Value::Any);
    assert_eq!(packed.sw_edition, text("online"));
    assert_eq!(packed.target_hw, text("x64"));
    assert_eq!(packed.other, Value::Any);
    let encoded = Cpe::parse("cpe:/a:foo%5cbar:big%24money:2010%02").unwrap();
    assert_eq!(encoded.vendor(), Some(r"foo\bar"));
    assert_eq!(encoded.product(), Some("big$money"));
    assert_eq!(
        encoded.version,
        Value::Pattern(Pattern {
            leading: Wildcard::None,
            text: "2010".to_owned(),
            trailing: Wildcard::Any,
        })
    );
    assert_eq!(
        encoded.to_string(),
        r"cpe:2.3:a:foo\\bar:big\$money:2010*:*:*:*:*:*:*:*"
    );
    let os = Cpe::parse("cpe:/o:linux:linux_kernel:5.10").unwrap();
    assert_eq!(
        os.to_string(),
        "cpe:2.3:o:linux:linux_kernel:5.10:*:*:*:*:*:*:*"
    );
}

#[test]
fn rejects_what_is_not_a_cpe_name_and_says_where() {
    assert_eq!(Cpe::parse("openssl 1.1.1"), Err(CpeError::Prefix));
    assert_eq!(
        Cpe::parse("cpe:2.3:a:openssl:openssl:1.1.1"),
        Err(CpeError::AttributeCount { found: 4 })
    );
    let error = Cpe::parse("cpe:2.3:a:openssl:open*ssl:*:*:*:*:*:*:*:*").unwrap_err();
    assert!(
        matches!(
            error,
            CpeError::Attribute {
                attribute: "product",
                offset: 18,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("quote it"), "{error}");
    assert!(matches!(
        Cpe::parse("cpe:2.3:x:a:b:*:*:*:*:*:*:*:*"),
        Err(CpeError::Attribute {
            attribute: "part",
            ..
        })
    ));
    assert!(matches!(
        Cpe::parse("cpe:2.3:a:a:b::*:*:*:*:*:*:*"),
        Err(CpeError::Attribute {
            attribute: "version",
            ..
        })
    ));
    assert!(matches!(
        Cpe::parse("cpe:2.3:a:a:b:*:*:*:*:*:*:*:x\\"),
        Err(CpeError::Attribute {
            attribute: "other",
            ..
        })
    ));
    assert!(matches!(
        Cpe::parse("cpe:/a:a%zz"),
        Err(CpeError::Attribute {
            attribute: "vendor",
            ..
        })
    ));
    assert_eq!(
        Cpe::parse("cpe:/a:b:c:d:e:f:g:h"),
        Err(CpeError::UriComponentCount { found: 8 })
    );
}

fn cpe(name: &str) -> Cpe {
    Cpe::parse(name).unwrap()
}

#[test]
fn matching_follows_nistir_7696() {
    let component = cpe("cpe:2.3:a:openssl:openssl:1.1.1w:*:*:*:*:*:*:*");
    // ANY in the source is a superset; equal text matches whatever its case.
    assert!(cpe("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*").matches(&component));
    assert!(cpe("cpe:2.3:a:OpenSSL:OPENSSL:1.1.1W:*:*:*:*:*:*:*").matches(&component));
    assert!(cpe("cpe:2.3:*:openssl:openssl:*:*:*:*:*:*:*:*").matches(&component));
    // Different text, part or NA against text: disjoint.
    assert!(!cpe("cpe:2.3:a:openssl:openssl:1.1.1v:*:*:*:*:*:*:*").matches(&component));
    assert!(!cpe("cpe:2.3:o:openssl:openssl:*:*:*:*:*:*:*:*").matches(&component));
    assert!(!cpe("cpe:2.3:a:openssl:openssl:-:*:*:*:*:*:*:*").matches(&component));
    // A source value against ANY in the target is a subset: no match.
    let vague = cpe("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*");
    assert!(!component.matches(&vague));
    // NA matches only NA.
    let na = cpe("cpe:2.3:h:vendor:router:-:*:*:*:*:*:*:*");
    assert!(na.matches(&na));
    // Wildcards at either end.
    assert!(cpe("cpe:2.3:a:openssl:openssl:1.1.1*:*:*:*:*:*:*:*").matches(&component));
    assert!(cpe("cpe:2.3:a:openssl:openssl:1.1.1?:*:*:*:*:*:*:*").matches(&component));
    assert!(cpe("cpe:2.3:a:openssl:openssl:1.1.1??:*:*:*:*:*:*:*").matches(&component));
    assert!(cpe("cpe:2.3:a:openssl:openssl:*1.1w:*:*:*:*:*:*:*").matches(&component));
    assert!(cpe("cpe:2.3:a:openssl:openssl:?.1.1w:*:*:*:*:*:*:*").matches(&component));
    assert!(!cpe("cpe:2.3:a:openssl:openssl:1.1?:*:*:*:*:*:*:*").matches(&component));
    assert!(!cpe("cpe:2.3:a:openssl:openssl:1.0*:*:*:*:*:*:*:*").matches(&component));
    // A target with wildcards is undefined, hence no match.
    let pattern_target = cpe("cpe:2.3:a:openssl:openssl:1.1.*:*:*:*:*:*:*:*");
    assert!(!component.matches(&pattern_target));
    assert!(vague.matches(&pattern_target));
}

mod round_trip {
    use proptest::prelude::*;

    use super::super::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Any),
            Just(Value::Na),
            "[a-z0-9_.:*?\\\\$!~%-]{1,8}".prop_map(Value::Text),
            ("[a-z0-9._:-]{0,6}", 0usize..3, 0usize..3).prop_map(|(text, leading, trailing)| {
                let wildcard = |n| match n {
                    0 => Wildcard::None,
                    1 => Wildcard::Any,
                    n => Wildcard::UpTo(n - 1),
                };
                let (leading, trailing) = (wildcard(leading), wildcard(trailing));
                if text.is_empty() || (leading == Wildcard::None && trailing == Wildcard::None) {
                    Value::Any
                } else {
                    Value::Pattern(Pattern {
                        leading,
                        text,
                        trailing,
                    })
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn display_then_parse_gives_the_same_name(
            part in prop_oneof![
                Just(Part::Application),
                Just(Part::OperatingSystem),
                Just(Part::Hardware),
                Just(Part::Any)
            ],
            values in proptest::collection::vec(value(), 10),
        ) {
            let cpe = assemble(part, values);
            let bound = cpe.to_string();
            prop_assert_eq!(Cpe::parse(&bound), Ok(cpe), "{}", bound);
        }

        #[test]
        fn parsing_any_string_never_panics_and_round_trips(name in "cpe:(2\\.3|/)[a-z:*?\\\\%0-9._-]{0,40}") {
            fuzz_cpe_parse(name.as_bytes());
        }
    }
}
