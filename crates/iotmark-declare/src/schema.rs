//! The declaration's JSON Schema, generated from the Rust types, and the lookups the checker
//! needs from it (which keys an object allows) and from plain strings (the closest match).

use std::sync::OnceLock;

use serde_json::Value;

use crate::model::Declaration;

/// The `$id` editors see; the file is committed as `schemas/declaration.schema.json`.
pub const SCHEMA_ID: &str = "https://iotmark.dev/schemas/declaration.schema.json";

/// The JSON Schema (2020-12) of a declaration, built once.
pub fn declaration_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let mut schema =
            serde_json::to_value(schemars::schema_for!(Declaration)).unwrap_or(Value::Null);
        if let Some(obj) = schema.as_object_mut() {
            obj.insert("$id".to_owned(), Value::String(SCHEMA_ID.to_owned()));
        }
        schema
    })
}

/// The schema as committed: pretty JSON with a final newline.
pub fn declaration_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(declaration_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Follows `$ref`s and optional wrappers (`anyOf: [{$ref}, {type: null}]`) to the object schema.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let pointer = reference.trim_start_matches('#');
            match root.pointer(pointer) {
                Some(target) => node = target,
                None => return node,
            }
        } else if let Some(branch) = node
            .get("anyOf")
            .or_else(|| node.get("oneOf"))
            .and_then(Value::as_array)
            .and_then(|b| {
                b.iter()
                    .find(|b| b.get("type") != Some(&Value::String("null".into())))
            })
        {
            node = branch;
        } else {
            return node;
        }
    }
    node
}

/// The keys allowed in the object at `pointer` of a declaration, sorted.
pub fn allowed_keys(pointer: &str) -> Vec<String> {
    let root = declaration_schema();
    let mut node = resolve(root, root);
    for token in pointer
        .trim_start_matches('/')
        .split('/')
        .filter(|t| !t.is_empty())
    {
        let token = token.replace("~1", "/").replace("~0", "~");
        let next = if token.parse::<usize>().is_ok() {
            node.get("items")
        } else {
            node.get("properties")
                .and_then(|p| p.get(&token))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))
        };
        match next {
            Some(n) => node = resolve(root, n),
            None => return Vec::new(),
        }
    }
    let mut keys: Vec<String> = node
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// The candidate closest to `given`, if it is close enough to be a likely typo.
pub fn suggest(given: &str, candidates: &[String]) -> Option<String> {
    let given_lower = given.to_lowercase();
    candidates
        .iter()
        .map(|c| (edit_distance(&given_lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// Levenshtein distance, counting a swap of neighbours as one edit (Damerau, restricted).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let keys: Vec<String> = ["support_end", "updatable", "automatic"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(suggest("suport_end", &keys).as_deref(), Some("support_end"));
        assert_eq!(suggest("updateable", &keys).as_deref(), Some("updatable"));
        assert_eq!(suggest("autmoatic", &keys).as_deref(), Some("automatic"));
        assert_eq!(suggest("colour", &keys), None);
    }

    #[test]
    fn allowed_keys_follow_refs_and_lists() {
        assert!(allowed_keys("").contains(&"product".to_owned()));
        assert!(allowed_keys("/product/manufacturer").contains(&"name".to_owned()));
        assert!(allowed_keys("/components/0").contains(&"firmware".to_owned()));
        assert!(allowed_keys("/components/0/firmware/3").contains(&"sha256".to_owned()));
        assert!(allowed_keys("/claims/en303645-5.1-1").contains(&"justification".to_owned()));
        assert!(allowed_keys("/no/such").is_empty());
    }
}
