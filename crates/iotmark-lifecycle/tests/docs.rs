//! docs/LIFECYCLE.md shows the transition table the code runs.

use std::path::Path;

#[test]
fn the_lifecycle_document_shows_the_table_the_code_runs() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/LIFECYCLE.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let table = iotmark_lifecycle::machine::table_markdown();
    assert!(
        text.contains(&table),
        "docs/LIFECYCLE.md must contain the transition table as the code has it:\n\n{table}"
    );
}
