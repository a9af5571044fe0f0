//! Finding the line and column of a JSON pointer in JSON or YAML source text.
//!
//! Schema validators report where a problem is as a JSON pointer into the parsed value; a
//! person wants a line number. For JSON this walks the text with a small tokenizer (strings,
//! escapes, nesting); for YAML it follows the parser's event stream, which carries positions.
//! Neither builds a second tree.

use std::collections::{HashMap, HashSet};

/// 1-based line and column of byte offset `offset` in `text`.
pub fn line_col(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Where the value at `pointer` starts, or `None` if the text does not contain it.
pub fn json_pointer(text: &str, pointer: &str) -> Option<(usize, usize)> {
    let tokens: Vec<String> = if pointer.is_empty() {
        Vec::new()
    } else {
        pointer
            .strip_prefix('/')?
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect()
    };
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    for token in &tokens {
        pos = match bytes.get(pos)? {
            b'{' => find_member(bytes, pos, token)?,
            b'[' => find_element(bytes, pos, token.parse().ok()?)?,
            _ => return None,
        };
    }
    Some(line_col(bytes, pos))
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// End (exclusive) of the string starting at `i` (which holds the opening quote).
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of the value starting at `i`.
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']') && !b[j].is_ascii_whitespace()
            {
                j += 1;
            }
            Some(j)
        }
    }
}

fn find_member(b: &[u8], open: usize, key: &str) -> Option<usize> {
    let mut i = skip_ws(b, open + 1);
    while i < b.len() && b[i] != b'}' {
        let key_end = skip_string(b, i)?;
        let raw = std::str::from_utf8(&b[i..key_end]).ok()?;
        let this_key: String = serde_json::from_str(raw).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let value_start = skip_ws(b, i + 1);
        if this_key == key {
            return Some(value_start);
        }
        i = skip_ws(b, skip_value(b, value_start)?);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
    }
    None
}

fn find_element(b: &[u8], open: usize, index: usize) -> Option<usize> {
    let mut i = skip_ws(b, open + 1);
    let mut n = 0;
    while i < b.len() && b[i] != b']' {
        if n == index {
            return Some(i);
        }
        i = skip_ws(b, skip_value(b, i)?);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        n += 1;
    }
    None
}

/// Where each of `pointers` starts in YAML `text` (1-based line and column). Pointers that
/// are not found (or lie behind an alias) are absent from the result.
pub fn yaml_pointers(text: &str, pointers: &HashSet<&str>) -> HashMap<String, (usize, usize)> {
    use serde_saphyr::granit_parser::{Event, Parser};

    enum Frame {
        Mapping { path: String, key: Option<String> },
        Sequence { path: String, index: usize },
    }
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    let mut found = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    // The path a node at the current position gets; `None` when it is a mapping key.
    let next_path = |stack: &mut Vec<Frame>| -> Option<String> {
        match stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Sequence { path, index }) => {
                let p = format!("{path}/{index}");
                *index += 1;
                Some(p)
            }
            Some(Frame::Mapping { path, key }) => {
                key.take().map(|k| format!("{path}/{}", escape(&k)))
            }
        }
    };
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let at = (span.start.line(), span.start.col() + 1);
        match event {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Mapping { key, .. }) = stack.last_mut()
                    && key.is_none()
                {
                    *key = Some(value.into_owned());
                    continue;
                }
                if let Some(p) = next_path(&mut stack)
                    && pointers.contains(p.as_str())
                {
                    found.insert(p, at);
                }
            }
            Event::Alias(..) => {
                next_path(&mut stack);
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let path = next_path(&mut stack).unwrap_or_default();
                if pointers.contains(path.as_str()) {
                    found.insert(path.clone(), at);
                }
                stack.push(match event {
                    Event::MappingStart(..) => Frame::Mapping { path, key: None },
                    _ => Frame::Sequence { path, index: 0 },
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_yaml_pointers() {
        let text = "catalog:\n  uuid: x\n  controls:\n    - id: a\n    - id: b\n      title: [1, 2]\n  \"we/ird\": 1\n";
        let wanted: HashSet<&str> = [
            "/catalog/uuid",
            "/catalog/controls/1",
            "/catalog/controls/1/title/1",
            "/catalog/we~1ird",
            "/nope",
        ]
        .into();
        let found = yaml_pointers(text, &wanted);
        assert_eq!(found["/catalog/uuid"], (2, 9));
        assert_eq!(found["/catalog/controls/1"], (5, 7));
        assert_eq!(found["/catalog/controls/1/title/1"], (6, 18));
        assert_eq!(found["/catalog/we~1ird"], (7, 13));
        assert!(!found.contains_key("/nope"));
    }

    #[test]
    fn locates_nested_members_and_elements() {
        let text = "{\n  \"a\": {\n    \"b~/c\": [1, {\"x\": \"}\"},\n      true]\n  }\n}";
        assert_eq!(json_pointer(text, ""), Some((1, 1)));
        assert_eq!(json_pointer(text, "/a"), Some((2, 8)));
        assert_eq!(json_pointer(text, "/a/b~0~1c/1/x"), Some((3, 23)));
        assert_eq!(json_pointer(text, "/a/b~0~1c/2"), Some((4, 7)));
        assert_eq!(json_pointer(text, "/a/missing"), None);
        assert_eq!(json_pointer(text, "/a/b~0~1c/9"), None);
    }

    #[test]
    fn survives_truncated_text() {
        assert_eq!(json_pointer("{\"a\": [1, 2", "/a/5"), None);
        assert_eq!(json_pointer("{\"a\": \"unterminated", "/b"), None);
    }
}
