//! Renderings of any OSCAL catalog for people and spreadsheets: Markdown and CSV.

use std::fmt::Write as _;

use iotmark_oscal::model::catalog::part_text;
use iotmark_oscal::{Catalog, Control, Group};

/// The properties (in iotmark's namespace or OSCAL's) that become CSV columns, in order.
const PROP_COLUMNS: &[&str] = &[
    "status",
    "condition",
    "applies-to",
    "phase",
    "outcome-type",
    "related-control",
    "legal-reference",
    "confidence",
    "unconfirmed",
];

/// One row per control: where it sits, what it says, and the properties users filter on.
/// Repeated properties (several conditions, component types) are joined with `;`.
pub fn to_csv(catalog: &Catalog) -> String {
    let mut out = String::new();
    let mut header = vec![
        "id",
        "label",
        "class",
        "title",
        "group",
        "parent",
        "statement",
    ];
    header.extend(PROP_COLUMNS);
    out.push_str(
        &header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
    catalog.walk(|r| {
        let c = r.control;
        let mut row = vec![
            c.id.clone(),
            c.label().to_owned(),
            c.class.clone().unwrap_or_default(),
            c.title.clone(),
            r.groups
                .last()
                .and_then(|g| g.id.clone())
                .unwrap_or_default(),
            r.parent.map(|p| p.id.clone()).unwrap_or_default(),
            c.statement(),
        ];
        for name in PROP_COLUMNS {
            row.push(c.props_named(name, None).collect::<Vec<_>>().join(";"));
        }
        out.push_str(
            &row.iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    });
    out
}

/// RFC 4180 quoting: fields with commas, quotes or line breaks are quoted, quotes doubled.
/// A leading `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it as a formula.
fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// A readable document: metadata, then each group as a heading and each control with its
/// statement and properties.
pub fn to_markdown(catalog: &Catalog) -> String {
    let mut out = String::new();
    let m = &catalog.metadata;
    let _ = writeln!(out, "# {}\n", m.title);
    let _ = writeln!(out, "- Version: {} (OSCAL {})", m.version, m.oscal_version);
    let _ = writeln!(out, "- Last modified: {}", m.last_modified);
    for prop in &m.props {
        let _ = writeln!(out, "- {}: {}", prop.name, prop.value);
    }
    if let Some(remarks) = &m.remarks {
        let _ = writeln!(out, "\n> {}", remarks.trim().replace('\n', "\n> "));
    }
    out.push('\n');
    for control in &catalog.controls {
        write_control(&mut out, control, 2);
    }
    for group in &catalog.groups {
        write_group(&mut out, group, 2);
    }
    if let Some(back) = &catalog.back_matter
        && !back.resources.is_empty()
    {
        out.push_str("## Sources\n\n");
        for r in &back.resources {
            let title = r
                .title
                .as_deref()
                .or(r.citation.as_ref().map(|c| c.text.as_str()))
                .unwrap_or("(untitled)");
            match r.rlinks.first() {
                Some(link) => {
                    let _ = writeln!(out, "- [{}]({})", title, link.href);
                }
                None => {
                    let _ = writeln!(out, "- {title}");
                }
            }
        }
    }
    out
}

fn heading(level: usize) -> String {
    "#".repeat(level.min(6))
}

fn write_group(out: &mut String, group: &Group, level: usize) {
    let label = group
        .prop("label", None)
        .map(|l| format!("{l} "))
        .unwrap_or_default();
    let _ = writeln!(out, "{} {label}{}\n", heading(level), group.title);
    for part in &group.parts {
        let text = part_text(part);
        if !text.is_empty() {
            let _ = writeln!(out, "{text}\n");
        }
    }
    for control in &group.controls {
        write_control(out, control, level + 1);
    }
    for sub in &group.groups {
        write_group(out, sub, level + 1);
    }
}

fn write_control(out: &mut String, control: &Control, level: usize) {
    let _ = writeln!(
        out,
        "{} {} — {}\n",
        heading(level),
        control.label(),
        control.title
    );
    let _ = writeln!(
        out,
        "`{}`{}\n",
        control.id,
        control
            .class
            .as_deref()
            .map(|c| format!(" · {c}"))
            .unwrap_or_default()
    );
    for part in &control.parts {
        let text = part_text(part);
        if text.is_empty() {
            continue;
        }
        if part.name == "statement" {
            let _ = writeln!(out, "{text}\n");
        } else {
            let _ = writeln!(
                out,
                "*{}:* {text}\n",
                part.title.as_deref().unwrap_or(&part.name)
            );
        }
    }
    let props: Vec<String> = control
        .props
        .iter()
        .filter(|p| p.name != "label")
        .map(|p| format!("{}: {}", p.name, p.value))
        .collect();
    if !props.is_empty() {
        for p in props {
            let _ = writeln!(out, "- {p}");
        }
        out.push('\n');
    }
    for child in &control.controls {
        write_control(out, child, level + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
