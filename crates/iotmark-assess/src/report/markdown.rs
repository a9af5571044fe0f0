//! The assessment as Markdown, for pull requests and wikis.

use std::fmt::Write as _;

use crate::engine::{Assessment, Status, Verdict};

pub fn render(a: &Assessment) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", a.product, verdict_text(a.verdict()));
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Scheme | {} (`{}`) |", a.scheme_title, a.scheme);
    let _ = writeln!(out, "| Risk tier | {} (`{}`) |", a.tier_title, a.tier);
    let _ = writeln!(
        out,
        "| Route | {}: {} |",
        a.route.as_str(),
        a.route.describe()
    );
    let _ = writeln!(out, "| Assessed on | {} |", a.assessed_on);
    let _ = writeln!(
        out,
        "| Findings | {} satisfied, {} not satisfied, {} need review, {} not applicable |\n",
        a.count(Status::Satisfied, false),
        a.count(Status::NotSatisfied, false),
        a.count(Status::NeedsReview, false),
        a.count(Status::NotApplicable, false)
    );
    if !a.obligations.is_empty() {
        out.push_str("## Scheme obligations not met\n\n");
        for o in &a.obligations {
            let _ = writeln!(out, "- {o}");
        }
        out.push('\n');
    }
    if !a.ignored_evidence.is_empty() {
        out.push_str("## Evidence not counted\n\n");
        for i in &a.ignored_evidence {
            let _ = writeln!(out, "- {}", escape(i));
        }
        out.push('\n');
    }
    out.push_str("## Coverage\n\n| Area | Satisfied | Not satisfied | Needs review | Not applicable |\n|---|---:|---:|---:|---:|\n");
    for (area, c) in a.coverage() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            escape(&area),
            c[0],
            c[1],
            c[2],
            c[3]
        );
    }
    let gaps = a.gaps();
    if !gaps.is_empty() {
        out.push_str("\n## Gaps, in the order to fix them\n\n");
        for (i, f) in gaps.iter().enumerate() {
            let weight = if f.mandatory {
                "mandatory"
            } else {
                "recommended"
            };
            let _ = writeln!(
                out,
                "{}. **{} {}** ({weight}, {}): {}",
                i + 1,
                f.label,
                escape(&f.title),
                f.status.as_str(),
                escape(&f.reason)
            );
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "   - Fix: {}", escape(fix));
            }
            for e in &f.evidence {
                let via = e
                    .via
                    .as_deref()
                    .map(|v| format!(" (via {v})"))
                    .unwrap_or_default();
                let _ = writeln!(out, "   - Evidence `{}`{via}: {}", e.id, escape(&e.summary));
            }
        }
    }
    out.push_str("\n## All findings\n\n| Requirement | Title | Mandatory | Status | Reason | Evidence |\n|---|---|---|---|---|---|\n");
    for f in &a.findings {
        let evidence = f
            .evidence
            .iter()
            .map(|e| format!("`{}`", e.id))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            f.label,
            escape(&f.title),
            if f.mandatory { "yes" } else { "no" },
            f.status.as_str(),
            escape(&f.reason),
            evidence
        );
    }
    out
}

pub fn verdict_text(v: Verdict) -> &'static str {
    match v {
        Verdict::Conforms => "conforms",
        Verdict::Undetermined => "not yet determined (mandatory requirements need review)",
        Verdict::DoesNotConform => "does not conform",
    }
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
