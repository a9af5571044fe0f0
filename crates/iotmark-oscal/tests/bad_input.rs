//! Bad input gets a precise error naming the file and, where there is one, the line; never a
//! panic.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::Path;

use iotmark_oscal::{LoadError, Loader};

fn load(name: &str, text: &str) -> LoadError {
    Loader::default()
        .load_bytes(Path::new(name), text.as_bytes())
        .expect_err("input is invalid")
}

#[test]
fn malformed_json_reports_line_and_column() {
    let err = load(
        "broken.json",
        "{\n  \"catalog\": {\n    \"uuid\": \"x\",\n  }\n}",
    );
    let LoadError::Syntax {
        line,
        column,
        format,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*line, *format), (4, "JSON"));
    assert!(*column > 0);
    assert!(err.to_string().starts_with("broken.json:4:"), "{err}");
}

#[test]
fn malformed_yaml_reports_line() {
    let err = load(
        "broken.yaml",
        "catalog:\n  uuid: x\n  metadata: [unclosed\n",
    );
    let LoadError::Syntax { line, format, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(*format, "YAML");
    assert!(*line >= 3, "{err}");
}

#[test]
fn invalid_utf8_is_a_syntax_error() {
    let err = Loader::default()
        .load_bytes(Path::new("bin.json"), b"{\"catalog\": \"\xff\"}")
        .unwrap_err();
    assert!(matches!(err, LoadError::Syntax { line: 1, .. }), "{err}");
}

#[test]
fn wrong_root_lists_the_models() {
    let err = load("wrong.json", r#"{"catalogue": {}}"#);
    let text = err.to_string();
    assert!(matches!(err, LoadError::WrongRoot { .. }));
    assert!(
        text.contains("\"catalogue\"")
            && text.contains("hint:")
            && text.contains("mapping-collection"),
        "{text}"
    );
    assert!(matches!(
        load("two.json", r#"{"catalog": {}, "profile": {}}"#),
        LoadError::WrongRoot { .. }
    ));
    assert!(matches!(
        load("array.json", "[1, 2]"),
        LoadError::WrongRoot { .. }
    ));
}

#[test]
fn schema_violations_name_the_pointer_and_line() {
    let text = r#"{
  "catalog": {
    "uuid": "not-a-uuid",
    "metadata": {
      "title": "t",
      "last-modified": "2026-01-01T00:00:00Z",
      "version": "1",
      "oscal-version": "1.2.1"
    },
    "controls": [
      { "id": "c-1", "title": "ok" },
      { "id": "c-2" }
    ]
  }
}"#;
    let err = load("bad.json", text);
    let LoadError::Schema {
        violations, model, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(*model, "catalog");
    let uuid = violations
        .iter()
        .find(|v| v.pointer == "/catalog/uuid")
        .expect("uuid violation");
    assert_eq!(uuid.line, Some(3));
    let title = violations
        .iter()
        .find(|v| v.pointer == "/catalog/controls/1")
        .expect("missing title");
    assert_eq!(title.line, Some(12));
    assert!(title.message.contains("title"), "{}", title.message);
    assert!(err.to_string().contains("bad.json:12:"), "{err}");
}

#[test]
fn schema_violations_in_yaml_name_the_line_too() {
    let text = "catalog:\n  uuid: 11111111-1111-4111-8111-111111111111\n  metadata:\n    title: t\n    last-modified: 2026-01-01T00:00:00Z\n    version: '1'\n    oscal-version: 1.2.1\n  controls:\n    - id: c-1\n      title: ok\n    - id: 9bad\n      title: bad id\n";
    let err = load("bad.yaml", text);
    let LoadError::Schema { violations, .. } = &err else {
        panic!("{err}")
    };
    let id = violations
        .iter()
        .find(|v| v.pointer == "/catalog/controls/1/id")
        .expect("token pattern violation");
    assert_eq!(id.line, Some(11), "{err}");
    assert!(err.to_string().contains("bad.yaml:11:"), "{err}");
}

#[test]
fn oversized_input_is_refused_before_parsing() {
    let loader = Loader {
        max_bytes: 100,
        ..Loader::default()
    };
    let big = format!("{{\"catalog\": \"{}\"}}", "x".repeat(200));
    let err = loader
        .load_bytes(Path::new("big.json"), big.as_bytes())
        .unwrap_err();
    assert!(
        matches!(err, LoadError::TooLarge { size, limit: 100, .. } if size > 100),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    std::fs::write(&path, big).unwrap();
    assert!(matches!(
        loader.load_path(&path),
        Err(LoadError::TooLarge { .. })
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let err = load("deep.json", &deep);
    assert!(matches!(err, LoadError::Syntax { .. }), "{err}");
    let deep_yaml = format!("{}x", "- ".repeat(5000));
    let err = load("deep.yaml", &deep_yaml);
    assert!(matches!(err, LoadError::Syntax { .. }), "{err}");
}

#[test]
fn yaml_alias_bombs_are_bounded() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
    {
        bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let started = std::time::Instant::now();
    let err = load("bomb.yaml", &bomb);
    assert!(
        matches!(err, LoadError::Syntax { .. } | LoadError::WrongRoot { .. }),
        "{err}"
    );
    // A billion-element expansion would take minutes and gigabytes; refusal is immediate.
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn missing_file_names_it() {
    let err = Loader::default()
        .load_path(Path::new("/nonexistent/catalog.json"))
        .unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }));
    assert!(
        err.to_string().contains("/nonexistent/catalog.json"),
        "{err}"
    );
}
