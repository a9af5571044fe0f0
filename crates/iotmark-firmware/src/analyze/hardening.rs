//! Exploit mitigations of the image's ELF executables and shared objects, in the manner of
//! checksec: NX (a non-executable stack), PIE, full RELRO, stack canaries and FORTIFY_SOURCE.
//!
//! One finding per property, not per binary: a failing one lists the binaries that lack it
//! (the first few by name, then a count) and points at the first; a passing one says every
//! binary has it. Properties that cannot be told for a binary (canaries in a stripped
//! static binary, RELRO without dynamic linking, PIE for a shared library) leave it out of
//! that property's count.
//!
//! Both word sizes and both byte orders are read (goblin handles them), so ARM, MIPS (big
//! and little endian) and x86 images are covered alike.

use goblin::elf::Elf;
use goblin::elf::dynamic::{DF_1_NOW, DF_1_PIE, DF_BIND_NOW, DT_BIND_NOW};
use goblin::elf::header::{ET_DYN, ET_EXEC};
use goblin::elf::program_header::{PF_X, PT_DYNAMIC, PT_GNU_RELRO, PT_GNU_STACK};
use goblin::options::ParseOptions;

use super::{Finding, Severity, fail, pass};
use crate::tree::Tree;

/// Largest ELF file parsed; bigger ones are rare in firmware and not worth the memory.
const MAX_ELF: usize = 64 << 20;
/// Names listed in a failing finding before "and N more".
const LISTED: usize = 10;

/// What one binary has: `None` where the property does not apply or cannot be told.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Props {
    pub nx: Option<bool>,
    pub pie: Option<bool>,
    /// `Some(true)` full, `Some(false)` partial or none (see `relro_partial`).
    pub relro: Option<bool>,
    pub relro_partial: bool,
    pub canary: Option<bool>,
    pub fortify: Option<bool>,
}

/// Reads the mitigations of one ELF file; `None` when it is not an executable or shared
/// object we can parse.
pub(crate) fn props(data: &[u8]) -> Option<Props> {
    if !data.starts_with(b"\x7fELF") || data.len() > MAX_ELF {
        return None;
    }
    let elf = Elf::parse_with_opts(data, &ParseOptions::permissive()).ok()?;
    let kind = elf.header.e_type;
    if kind != ET_EXEC && kind != ET_DYN {
        return None;
    }
    let ph = |t: u32| elf.program_headers.iter().find(|p| p.p_type == t);
    let dynamic = ph(PT_DYNAMIC).is_some();
    let (flags, flags_1) = elf
        .dynamic
        .as_ref()
        .map_or((0, 0), |d| (d.info.flags, d.info.flags_1));
    let bind_now = flags & DF_BIND_NOW != 0
        || flags_1 & DF_1_NOW != 0
        || elf
            .dynamic
            .as_ref()
            .is_some_and(|d| d.dyns.iter().any(|e| e.d_tag == DT_BIND_NOW));
    let pie_flag = flags_1 & DF_1_PIE != 0;
    let executable = kind == ET_EXEC || elf.interpreter.is_some() || pie_flag;
    // A missing PT_GNU_STACK means an executable stack on the usual Linux ABIs.
    let nx = ph(PT_GNU_STACK).map_or(Some(false), |p| Some(p.p_flags & PF_X == 0));
    let pie = executable.then_some(kind == ET_DYN);
    let relro_seg = ph(PT_GNU_RELRO).is_some();
    let relro = dynamic.then_some(relro_seg && bind_now);

    let mut names: Vec<&str> = elf
        .dynsyms
        .iter()
        .filter_map(|s| elf.dynstrtab.get_at(s.st_name))
        .collect();
    let from_dynsym = !names.is_empty();
    if !from_dynsym {
        names = elf
            .syms
            .iter()
            .filter_map(|s| elf.strtab.get_at(s.st_name))
            .collect();
    }
    let known = from_dynsym || !names.is_empty();
    let canary = known.then(|| {
        names
            .iter()
            .any(|n| *n == "__stack_chk_fail" || *n == "__stack_chk_guard")
    });
    let fortify = known.then(|| {
        names
            .iter()
            .any(|n| n.starts_with("__") && n.ends_with("_chk") && *n != "__stack_chk_fail")
    });
    Some(Props {
        nx,
        pie,
        relro,
        relro_partial: relro == Some(false) && relro_seg,
        canary,
        fortify,
    })
}

/// Files that are ELF but not part of the userland being judged: the kernel, kernel
/// modules, and firmware for other processors.
fn skipped(path: &str) -> bool {
    path.starts_with("boot/")
        || path.starts_with("lib/firmware/")
        || path.starts_with("lib/modules/")
        || path
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with("vmlinux"))
}

#[derive(Default)]
struct Tally {
    lacking: Vec<String>,
    having: usize,
}

pub(super) fn check(tree: &Tree, out: &mut Vec<Finding>) {
    let mut tallies: [Tally; 5] = Default::default();
    let mut first: Option<String> = None;
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        if skipped(&p) {
            continue;
        }
        let Some(props) = props(data) else { continue };
        first.get_or_insert_with(|| p.to_string());
        let values = [
            props.nx,
            props.pie,
            props.relro,
            props.canary,
            props.fortify,
        ];
        for (tally, value) in tallies.iter_mut().zip(values) {
            match value {
                Some(true) => tally.having += 1,
                Some(false) => tally.lacking.push(p.to_string()),
                None => {}
            }
        }
        if props.relro_partial
            && let Some(last) = tallies[2].lacking.last_mut()
        {
            last.push_str(" (partial)");
        }
    }
    let Some(first) = first else { return };
    const PROPS: [(&str, Severity, &str, &str); 5] = [
        (
            "firmware.hardening.nx",
            Severity::Medium,
            "a non-executable stack (NX)",
            "ELF binaries",
        ),
        (
            "firmware.hardening.pie",
            Severity::Low,
            "position-independent code (PIE), so ASLR cannot move them",
            "executables",
        ),
        (
            "firmware.hardening.relro",
            Severity::Low,
            "full RELRO (read-only relocations with immediate binding)",
            "dynamically linked binaries",
        ),
        (
            "firmware.hardening.canary",
            Severity::Medium,
            "stack canaries (they use no __stack_chk_fail)",
            "binaries with symbols",
        ),
        (
            "firmware.hardening.fortify",
            Severity::Low,
            "FORTIFY_SOURCE (they use no __*_chk functions)",
            "binaries with symbols",
        ),
    ];
    for (tally, (check, severity, what, population)) in tallies.iter().zip(PROPS) {
        let total = tally.having + tally.lacking.len();
        if total == 0 {
            continue;
        }
        if let Some(offender) = tally.lacking.first() {
            let shown: Vec<&str> = tally
                .lacking
                .iter()
                .take(LISTED)
                .map(String::as_str)
                .collect();
            let more = tally.lacking.len().saturating_sub(LISTED);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let file = offender.trim_end_matches(" (partial)");
            out.push(fail(
                check,
                severity,
                file,
                None,
                format!(
                    "{} of {total} {population} lack {what}: {}{more}",
                    tally.lacking.len(),
                    shown.join(", ")
                ),
            ));
        } else {
            out.push(pass(
                check,
                severity,
                &first,
                None,
                format!(
                    "all {total} {population} have {}",
                    what.split(" (they").next().unwrap_or(what)
                ),
            ));
        }
    }
}
