//! The kernel's build configuration, judged against hardening options that the Kernel
//! Self Protection Project and distribution kernels agree on, and the kernel versions the
//! image's loadable modules were built for.
//!
//! A configuration is found as text (`boot/config-*`, `/.config`, `lib/modules/*/build/.config`,
//! a `proc/config.gz` copy) or embedded with `CONFIG_IKCONFIG` in a kernel or `configs.ko`;
//! the unpacker finds embedded ones in decompressed kernel streams too, and the scan judges
//! those with [`config_findings`]. Each check is one pass or fail finding per configuration,
//! with the line of the deciding option in text configurations.
//!
//! An option that a full `.config` does not mention at all is one the architecture or kernel
//! version does not offer (Kconfig writes every visible option, set or not): the checks that
//! depend on the architecture (KASLR, FORTIFY_SOURCE) are skipped then rather than failed.

use std::collections::BTreeMap;
use std::io::Read;

use super::{Finding, Severity, fail, file_name, pass};
use crate::kernel::{self, KernelConfig, Vermagic};
use crate::tree::Tree;

/// Largest module read for its `vermagic` (the biggest real ones are a few MiB).
const MAX_MODULE: usize = 32 << 20;

/// Where a configuration was found, for the finding's file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSource {
    /// The file (or `IKCONFIG@offset` in a stream).
    pub file: String,
    /// Whether lines refer to the file itself (a text config) or to the inflated copy.
    pub text_lines: bool,
    /// Whether it was embedded with IKCONFIG (in a kernel or `configs.ko`).
    pub embedded: bool,
}

/// A configuration found in a filesystem, with where it came from.
#[derive(Debug, Clone)]
pub struct FoundConfig {
    pub source: ConfigSource,
    pub config: KernelConfig,
}

/// The configurations a filesystem holds: text files by their usual names, gzip copies, and
/// IKCONFIG data in any file (a `configs.ko`, an uncompressed `vmlinux`).
pub fn configs(tree: &Tree) -> Vec<FoundConfig> {
    let mut out = Vec::new();
    for (path, data) in tree.files() {
        let p = path.to_string_lossy();
        let name = file_name(path);
        let text_config = name.starts_with("config-") && p.starts_with("boot/")
            || p == ".config"
            || p.starts_with("lib/modules/") && p.ends_with("/build/.config");
        if text_config {
            if let Some(text) = data
                .get(..data.len().min(kernel::MAX_CONFIG))
                .and_then(|d| std::str::from_utf8(d).ok())
            {
                push_config(&mut out, &p, true, false, text);
            }
        } else if name == "config.gz" {
            let mut text = String::new();
            let _ = flate2::read::GzDecoder::new(data)
                .take(kernel::MAX_CONFIG as u64)
                .read_to_string(&mut text);
            push_config(&mut out, &p, false, false, &text);
        } else {
            // `configs.ko` may be compressed as kmod installs modules; anything else that
            // holds the marker (an uncompressed vmlinux, a configs.ko) is read as it is.
            let inflated = name
                .starts_with("configs.ko.")
                .then(|| kernel::decompress_module(name, data, MAX_MODULE as u64))
                .flatten();
            let bytes = inflated.as_deref().unwrap_or(data);
            if memchr::memmem::find(bytes, kernel::IKCFG_START).is_none() {
                continue;
            }
            for found in kernel::embedded_configs(bytes) {
                let file = format!("{p} (IKCONFIG@{})", found.offset);
                push_config(&mut out, &file, false, true, &found.text);
            }
        }
    }
    out
}

fn push_config(
    out: &mut Vec<FoundConfig>,
    file: &str,
    text_lines: bool,
    embedded: bool,
    text: &str,
) {
    let config = kernel::parse_config(text);
    // Text that merely has a config-like name (a shell script called config-foo) is not one.
    if config.options.len() < 8 {
        return;
    }
    out.push(FoundConfig {
        source: ConfigSource {
            file: file.to_owned(),
            text_lines,
            embedded,
        },
        config,
    });
}

pub(super) fn check(tree: &Tree, out: &mut Vec<Finding>) {
    for found in configs(tree) {
        out.extend(config_findings(&found.config, &found.source));
    }
}

/// The hardening findings of one configuration.
pub fn config_findings(config: &KernelConfig, source: &ConfigSource) -> Vec<Finding> {
    let mut out = Vec::new();
    let judge = Judge {
        config,
        source,
        out: &mut out,
    };
    judge.all();
    out
}

struct Judge<'a> {
    config: &'a KernelConfig,
    source: &'a ConfigSource,
    out: &'a mut Vec<Finding>,
}

impl Judge<'_> {
    /// The line of the first of `names` the configuration mentions (text configs only).
    fn line(&self, names: &[&str]) -> Option<usize> {
        if !self.source.text_lines {
            return None;
        }
        names
            .iter()
            .find_map(|n| self.config.get(n))
            .map(|o| o.line)
    }

    fn first_enabled<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        names.iter().copied().find(|n| self.config.enabled(n))
    }

    fn push(
        &mut self,
        ok: bool,
        check: &'static str,
        severity: Severity,
        names: &[&str],
        message: String,
    ) {
        let line = self.line(names);
        let file = &self.source.file;
        self.out.push(if ok {
            pass(check, severity, file, line, message)
        } else {
            fail(check, severity, file, line, message)
        });
    }

    fn all(mut self) {
        self.stack_protector();
        self.strict_rwx();
        self.module_signing();
        self.devmem();
        self.optional(
            "firmware.kernel.slab-freelist-hardened",
            "SLAB_FREELIST_HARDENED",
            None,
            "the slab allocator's free lists are hardened against overwrites of their pointers, a common step in turning a heap overflow into code execution",
        );
        self.optional(
            "firmware.kernel.hardened-usercopy",
            "HARDENED_USERCOPY",
            None,
            "copies between kernel and user memory are checked against the object's bounds, so a bad length cannot leak or overwrite neighbouring kernel memory",
        );
        self.optional(
            "firmware.kernel.fortify-source",
            "FORTIFY_SOURCE",
            Some("ARCH_HAS_FORTIFY_SOURCE"),
            "string and memory functions in the kernel check buffer sizes known at compile time, catching overflows",
        );
        self.optional(
            "firmware.kernel.kaslr",
            "RANDOMIZE_BASE",
            None,
            "the kernel is loaded at a random address (KASLR), so an exploit cannot rely on fixed kernel addresses",
        );
    }

    fn stack_protector(&mut self) {
        const STRONG: &[&str] = &["STACKPROTECTOR_STRONG", "CC_STACKPROTECTOR_STRONG"];
        const REGULAR: &[&str] = &[
            "STACKPROTECTOR",
            "CC_STACKPROTECTOR_REGULAR",
            "CC_STACKPROTECTOR",
        ];
        let check = "firmware.kernel.stack-protector";
        let why = "a stack buffer overflow in the kernel is caught before the function returns, instead of giving control of the kernel";
        if let Some(name) = self.first_enabled(STRONG) {
            self.push(
                true,
                check,
                Severity::Medium,
                &[name],
                format!("CONFIG_{name}=y: the strong stack protector guards every function with a local array or address-taken variable ({why})"),
            );
        } else if let Some(name) = self.first_enabled(REGULAR) {
            self.push(
                true,
                check,
                Severity::Medium,
                &[name],
                format!("CONFIG_{name}=y: the regular stack protector guards only functions with character arrays; CONFIG_STACKPROTECTOR_STRONG covers more ({why})"),
            );
        } else {
            self.push(
                false,
                check,
                Severity::Medium,
                &["STACKPROTECTOR", "CC_STACKPROTECTOR"],
                format!("the kernel is built without a stack protector (neither CONFIG_STACKPROTECTOR_STRONG nor CONFIG_STACKPROTECTOR): without it, {why}"),
            );
        }
    }

    fn strict_rwx(&mut self) {
        let check = "firmware.kernel.strict-rwx";
        let why = "kernel code is not writable and data not executable, so an attacker who can write kernel memory cannot patch code or run injected bytes";
        let kernel = self.first_enabled(&["STRICT_KERNEL_RWX", "DEBUG_RODATA"]);
        let modules_on = self.config.enabled("MODULES");
        let module = self.config.enabled("STRICT_MODULE_RWX")
            || self.config.enabled("DEBUG_SET_MODULE_RONX");
        // Older kernels protected modules with DEBUG_SET_MODULE_RONX; kernels whose
        // architecture offers neither option mention neither.
        let module_offered = ["STRICT_MODULE_RWX", "DEBUG_SET_MODULE_RONX"]
            .iter()
            .any(|n| self.config.get(n).is_some());
        match kernel {
            Some(name) if !modules_on || module || !module_offered => self.push(
                true,
                check,
                Severity::Medium,
                &[name],
                format!(
                    "CONFIG_{name}=y{}: {why}",
                    if modules_on && module { " and CONFIG_STRICT_MODULE_RWX=y" } else { "" }
                ),
            ),
            Some(_) => self.push(
                false,
                check,
                Severity::Medium,
                &["STRICT_MODULE_RWX", "DEBUG_SET_MODULE_RONX"],
                format!("the kernel's own memory is protected but loadable modules' is not (CONFIG_STRICT_MODULE_RWX is off): module code stays writable, so {why} does not hold for modules"),
            ),
            None => {
                let offered = ["STRICT_KERNEL_RWX", "DEBUG_RODATA"]
                    .iter()
                    .any(|n| self.config.get(n).is_some());
                self.push(
                    false,
                    check,
                    Severity::Medium,
                    &["STRICT_KERNEL_RWX", "DEBUG_RODATA"],
                    if offered {
                        format!("CONFIG_STRICT_KERNEL_RWX is off: without it, kernel code stays writable and data executable; with it, {why}")
                    } else {
                        format!("this kernel offers no strict memory permissions (neither CONFIG_STRICT_KERNEL_RWX nor CONFIG_DEBUG_RODATA exists for its architecture or version): with them, {why}")
                    },
                );
            }
        }
    }

    fn module_signing(&mut self) {
        let check = "firmware.kernel.module-signing";
        let modules = self.config.get("MODULES").map(|o| o.value.enabled());
        if modules == Some(false) {
            self.push(
                true,
                check,
                Severity::High,
                &["MODULES"],
                "loadable modules are disabled (`# CONFIG_MODULES is not set`): no code can be added to the running kernel".to_owned(),
            );
        } else if self.config.enabled("MODULE_SIG_FORCE") {
            let hash = self
                .config
                .text("MODULE_SIG_HASH")
                .map(|h| format!(" with {h}"))
                .unwrap_or_default();
            self.push(
                true,
                check,
                Severity::High,
                &["MODULE_SIG_FORCE"],
                format!("CONFIG_MODULE_SIG_FORCE=y: the kernel loads only modules signed{hash} by a key built into it, so root cannot load arbitrary kernel code"),
            );
        } else if self.config.enabled("MODULE_SIG") {
            self.push(
                false,
                check,
                Severity::Medium,
                &["MODULE_SIG_FORCE", "MODULE_SIG"],
                "CONFIG_MODULE_SIG=y without CONFIG_MODULE_SIG_FORCE: signatures are checked, but an unsigned or wrongly signed module still loads (it only taints the kernel) unless the boot command line sets module.sig_enforce=1 or lockdown is on".to_owned(),
            );
        } else {
            self.push(
                false,
                check,
                Severity::High,
                &["MODULE_SIG", "MODULES"],
                "loadable modules are enabled without signature checking (CONFIG_MODULE_SIG is off): anyone with root can load arbitrary code into the kernel".to_owned(),
            );
        }
    }

    fn devmem(&mut self) {
        let check = "firmware.kernel.devmem";
        let devmem = self.config.get("DEVMEM").map(|o| o.value.enabled());
        if devmem == Some(false) {
            self.push(
                true,
                check,
                Severity::High,
                &["DEVMEM"],
                "/dev/mem is not built (`# CONFIG_DEVMEM is not set`): no process can read or write physical memory through it".to_owned(),
            );
        } else if self.config.enabled("STRICT_DEVMEM") {
            let io = if self.config.enabled("IO_STRICT_DEVMEM") {
                " and CONFIG_IO_STRICT_DEVMEM=y (device memory in use by drivers is closed too)"
            } else {
                ""
            };
            self.push(
                true,
                check,
                Severity::High,
                &["STRICT_DEVMEM"],
                format!("/dev/mem is restricted by CONFIG_STRICT_DEVMEM=y{io}: root cannot read or patch kernel memory through it"),
            );
        } else {
            self.push(
                false,
                check,
                Severity::High,
                &["STRICT_DEVMEM", "DEVMEM"],
                "/dev/mem gives unrestricted access to physical memory (CONFIG_DEVMEM without CONFIG_STRICT_DEVMEM): root can read secrets from and patch the running kernel".to_owned(),
            );
        }
    }

    /// A check on one option that applies only where the configuration mentions it (or,
    /// with `offered_by`, where that option says the architecture has it).
    fn optional(&mut self, check: &'static str, name: &str, offered_by: Option<&str>, why: &str) {
        let offered =
            self.config.get(name).is_some() || offered_by.is_some_and(|o| self.config.enabled(o));
        if !offered {
            return;
        }
        let on = self.config.enabled(name);
        let message = if on {
            format!("CONFIG_{name}=y: {why}")
        } else {
            format!("CONFIG_{name} is off: with it, {why}")
        };
        self.push(on, check, Severity::Low, &[name], message);
    }
}

/// A loadable module and the kernel release its `vermagic` names.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Module {
    /// Path in the filesystem (no leading `/`).
    pub path: String,
    pub vermagic: Vermagic,
}

/// Loadable modules in a filesystem, found by content: ELF relocatable objects with a
/// `vermagic=` entry wherever they lie, and `.ko.xz`/`.ko.gz`/`.ko.zst` decompressed.
pub fn modules(tree: &Tree) -> Vec<Module> {
    let mut out = Vec::new();
    for (path, data) in tree.files() {
        if data.len() > MAX_MODULE {
            continue;
        }
        let name = file_name(path);
        let inflated;
        let bytes = if kernel::is_relocatable_elf(data) {
            data
        } else if let Some(d) = kernel::decompress_module(name, data, MAX_MODULE as u64) {
            inflated = d;
            &inflated
        } else {
            continue;
        };
        if !kernel::is_relocatable_elf(bytes) {
            continue;
        }
        if let Some(vermagic) = kernel::vermagic(bytes) {
            out.push(Module {
                path: path.to_string_lossy().into_owned(),
                vermagic,
            });
        }
    }
    out
}

/// Modules by the kernel release they were built for.
pub fn modules_by_release(modules: &[Module]) -> BTreeMap<&str, Vec<&Module>> {
    let mut by: BTreeMap<&str, Vec<&Module>> = BTreeMap::new();
    for m in modules {
        by.entry(m.vermagic.release.as_str()).or_default().push(m);
    }
    by
}

/// Findings about modules built for a kernel other than the one the image runs: against the
/// kernel banners' versions when any are known (`kernels`), else when the modules disagree
/// among themselves. The kernel refuses such modules (or loads them forced, with whatever
/// they break), and they show a build that mixes kernels: leftovers nobody updates.
pub fn module_findings(modules: &[Module], kernels: &[&str]) -> Vec<Finding> {
    let by = modules_by_release(modules);
    let mut out = Vec::new();
    let check = "firmware.kernel.module-mismatch";
    if kernels.is_empty() {
        if by.len() > 1
            && let Some((&majority, _)) = by.iter().max_by_key(|(_, ms)| ms.len())
        {
            for (release, ms) in by.iter().filter(|(r, _)| **r != majority) {
                out.push(mismatch(
                    check,
                    release,
                    ms,
                    &format!("most modules here are built for {majority}"),
                ));
            }
        }
        return out;
    }
    for (release, ms) in &by {
        if !kernels.contains(release) {
            out.push(mismatch(
                check,
                release,
                ms,
                &format!("the kernel's banner says {}", kernels.join(", ")),
            ));
        }
    }
    out
}

fn mismatch(check: &'static str, release: &str, modules: &[&Module], against: &str) -> Finding {
    let first = modules.first().map_or("", |m| m.path.as_str());
    let shown: Vec<&str> = modules.iter().take(5).map(|m| m.path.as_str()).collect();
    let more = modules.len().saturating_sub(shown.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    fail(
        check,
        Severity::Medium,
        first,
        None,
        format!(
            "{} module(s) were built for kernel {release} (vermagic), but {against}: the kernel refuses them unless forced, so they are leftovers of another build that nobody updates ({}{more})",
            modules.len(),
            shown.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str, release: &str) -> Module {
        Module {
            path: path.into(),
            vermagic: Vermagic {
                release: release.into(),
                properties: "SMP mod_unload".into(),
            },
        }
    }

    #[test]
    fn without_a_banner_the_odd_release_out_is_the_mismatch() {
        let ms = [
            module("lib/modules/5.4.0/a.ko", "5.4.0"),
            module("lib/modules/5.4.0/b.ko", "5.4.0"),
            module("opt/old.ko", "4.14.0"),
        ];
        let f = module_findings(&ms, &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].file, "opt/old.ko");
        assert!(
            f[0].message
                .contains("most modules here are built for 5.4.0")
        );
        assert!(module_findings(&ms[..2], &[]).is_empty());
        assert_eq!(module_findings(&ms, &["5.4.0"]).len(), 1);
        assert_eq!(module_findings(&ms, &["6.1.0"]).len(), 2);
    }
}
