//! What an image says about its Linux kernel beyond the banner: the build configuration
//! (`.config` text, or the copy a kernel built with `CONFIG_IKCONFIG` carries inside itself)
//! and the kernel version loadable modules were built for (their `vermagic`).
//!
//! Everything here reads untrusted bytes and is bounded: a config is read up to
//! [`MAX_CONFIG`] bytes (an embedded one is inflated no further), a module's `.modinfo`
//! string up to [`MAX_VERMAGIC`]. Nothing panics on odd input; what does not parse is left
//! out.

use std::collections::BTreeMap;
use std::io::Read;

/// Largest kernel configuration read. Real ones are 100–300 KiB of text.
pub const MAX_CONFIG: usize = 4 << 20;
/// Longest `vermagic=` value kept.
const MAX_VERMAGIC: usize = 256;
/// Most embedded configurations taken from one stream or file; a kernel has one.
const IKCONFIGS_PER_STREAM: usize = 2;

/// `kernel/configs.c` brackets the gzip-compressed `.config` with these markers so that
/// `scripts/extract-ikconfig` can find it in a kernel image.
pub const IKCFG_START: &[u8] = b"IKCFG_ST";
pub const IKCFG_END: &[u8] = b"IKCFG_ED";

/// The value of one option, as `.config` spells it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum ConfigValue {
    /// `CONFIG_X=y`: built in.
    Yes,
    /// `CONFIG_X=m`: built as a module.
    Module,
    /// `# CONFIG_X is not set`.
    NotSet,
    /// `CONFIG_X="text"`, unquoted (backslash escapes removed).
    Text(String),
    /// `CONFIG_X=123` or `CONFIG_X=0x1f`, kept as written.
    Number(String),
}

impl ConfigValue {
    /// Whether the option is on (built in or as a module).
    pub fn enabled(&self) -> bool {
        matches!(self, Self::Yes | Self::Module)
    }
}

/// One option with the line (1-based) it is set on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigOption {
    pub value: ConfigValue,
    pub line: usize,
}

/// A parsed kernel configuration: options by name, without the `CONFIG_` prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KernelConfig {
    pub options: BTreeMap<String, ConfigOption>,
}

impl KernelConfig {
    /// The option `name` (without `CONFIG_`), if the configuration mentions it at all.
    /// A full `.config` lists every option whose dependencies hold, set or not, so an
    /// option it does not mention is one this architecture or version does not offer.
    pub fn get(&self, name: &str) -> Option<&ConfigOption> {
        self.options.get(name)
    }

    /// Whether `name` is on (`y` or `m`).
    pub fn enabled(&self, name: &str) -> bool {
        self.get(name).is_some_and(|o| o.value.enabled())
    }

    /// The text value of `name` (a quoted string or a number).
    pub fn text(&self, name: &str) -> Option<&str> {
        match &self.get(name)?.value {
            ConfigValue::Text(t) | ConfigValue::Number(t) => Some(t),
            _ => None,
        }
    }
}

/// Parses `.config` text: `CONFIG_X=y|m|"text"|number` and `# CONFIG_X is not set`; other
/// lines (comments, blanks, anything malformed) are skipped. A later setting of the same
/// option wins, as in Kconfig.
pub fn parse_config(text: &str) -> KernelConfig {
    let mut config = KernelConfig::default();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let parsed = if let Some(comment) = line.strip_prefix('#') {
            comment
                .trim()
                .strip_prefix("CONFIG_")
                .and_then(|rest| rest.strip_suffix(" is not set"))
                .filter(|name| valid_name(name))
                .map(|name| (name, ConfigValue::NotSet))
        } else {
            line.strip_prefix("CONFIG_")
                .and_then(|rest| rest.split_once('='))
                .filter(|(name, _)| valid_name(name))
                .and_then(|(name, value)| Some((name, parse_value(value)?)))
        };
        if let Some((name, value)) = parsed {
            config.options.insert(
                name.to_owned(),
                ConfigOption {
                    value,
                    line: index + 1,
                },
            );
        }
    }
    config
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn parse_value(value: &str) -> Option<ConfigValue> {
    match value {
        "y" => Some(ConfigValue::Yes),
        "m" => Some(ConfigValue::Module),
        "n" => Some(ConfigValue::NotSet),
        quoted if quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"') => {
            let inner = quoted.get(1..quoted.len() - 1)?;
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    out.extend(chars.next());
                } else {
                    out.push(c);
                }
            }
            Some(ConfigValue::Text(out))
        }
        number
            if !number.is_empty()
                && number
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || matches!(b, b'x' | b'X' | b'-')) =>
        {
            Some(ConfigValue::Number(number.to_owned()))
        }
        _ => None,
    }
}

/// A configuration embedded with `CONFIG_IKCONFIG`, found in kernel or module bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddedConfig {
    /// Offset of the `IKCFG_ST` marker.
    pub offset: u64,
    /// Whether the `IKCFG_ED` marker follows the compressed data (it does in a whole
    /// kernel; a stream cut by a limit may lack it).
    pub end_marker: bool,
    pub text: String,
}

/// Finds `IKCFG_ST` + gzip + `IKCFG_ED` in `data` and inflates the configuration (at most
/// [`MAX_CONFIG`] bytes of it). A marker without a gzip stream that inflates to text is
/// skipped: the marker string also appears in tools and documentation.
pub fn embedded_configs(data: &[u8]) -> Vec<EmbeddedConfig> {
    let mut out = Vec::new();
    for at in memchr::memmem::find_iter(data, IKCFG_START) {
        let Some(gz) = data.get(at + IKCFG_START.len()..) else {
            continue;
        };
        if !gz.starts_with(&[0x1f, 0x8b, 0x08]) {
            continue;
        }
        let mut decoder = flate2::bufread::GzDecoder::new(gz);
        let mut inflated = Vec::new();
        // A truncated or corrupt stream still yields what inflated before the error.
        let _ = (&mut decoder)
            .take(MAX_CONFIG as u64)
            .read_to_end(&mut inflated);
        let consumed = gz.len() - decoder.into_inner().len();
        let end_marker = gz
            .get(consumed..)
            .is_some_and(|rest| rest.starts_with(IKCFG_END));
        let Ok(text) = String::from_utf8(inflated) else {
            continue;
        };
        if !text.contains("CONFIG_") {
            continue;
        }
        out.push(EmbeddedConfig {
            offset: at as u64,
            end_marker,
            text,
        });
        if out.len() >= IKCONFIGS_PER_STREAM {
            break;
        }
    }
    out
}

/// What a module's `vermagic` says: the kernel release it was built for and the build
/// properties the kernel compares before loading it (`SMP mod_unload modversions ARMv7`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Vermagic {
    pub release: String,
    pub properties: String,
}

/// The `vermagic=` string of a loadable module (its `.modinfo` entries are NUL-separated
/// `key=value` strings), or `None` when `data` holds none.
pub fn vermagic(data: &[u8]) -> Option<Vermagic> {
    for at in memchr::memmem::find_iter(data, b"vermagic=") {
        // A `.modinfo` entry starts after a NUL (or at the start of the section).
        if at > 0 && data.get(at - 1) != Some(&0) {
            continue;
        }
        let value = data.get(at + b"vermagic=".len()..)?;
        let end = value
            .iter()
            .take(MAX_VERMAGIC)
            .position(|&b| b == 0)
            .unwrap_or(value.len().min(MAX_VERMAGIC));
        let text = std::str::from_utf8(value.get(..end)?).ok()?;
        let (release, properties) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
        // A release starts with the major version: `6.1.0-28-armmp`, `2.6.31`.
        if release.split('.').next().is_some_and(|major| {
            !major.is_empty() && major.len() <= 2 && major.bytes().all(|b| b.is_ascii_digit())
        }) && release.contains('.')
        {
            return Some(Vermagic {
                release: release.to_owned(),
                properties: properties.trim().to_owned(),
            });
        }
    }
    None
}

/// Whether `data` is an ELF relocatable object (`e_type` 1), the form loadable modules take.
pub fn is_relocatable_elf(data: &[u8]) -> bool {
    let Some(header) = data.get(..18) else {
        return false;
    };
    if !header.starts_with(b"\x7fELF") {
        return false;
    }
    // e_type sits at offset 16 in either word size, in the byte order of EI_DATA.
    let kind = match header.get(5) {
        Some(1) => u16::from_le_bytes([header[16], header[17]]),
        Some(2) => u16::from_be_bytes([header[16], header[17]]),
        _ => return false,
    };
    kind == 1
}

/// The bytes of a module compressed as `kmod` installs it (`.ko.xz`, `.ko.gz`, `.ko.zst`),
/// decompressed up to `limit` bytes; `None` for any other name or a stream that does not
/// decode.
pub fn decompress_module(name: &str, data: &[u8], limit: u64) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let read = if name.ends_with(".ko.xz") {
        liblzma::read::XzDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out)
    } else if name.ends_with(".ko.gz") {
        flate2::read::GzDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out)
    } else if name.ends_with(".ko.zst") {
        zstd::stream::read::Decoder::new(data).and_then(|d| d.take(limit).read_to_end(&mut out))
    } else {
        return None;
    };
    // A stream cut short still holds `.modinfo` when it got that far.
    (read.is_ok() || !out.is_empty()).then_some(out)
}

/// What a scan learnt about the kernel beyond its banner, for the scan report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KernelReport {
    /// Every build configuration found, text or embedded.
    pub configs: Vec<ConfigReport>,
    /// Loadable modules, grouped by the kernel release their `vermagic` names.
    pub modules: Vec<ModuleRelease>,
}

/// One configuration found, with how it fared.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigReport {
    /// The filesystem it was found in, or the stream (`image > xz@59045`) for an embedded
    /// configuration found while unpacking.
    pub within: String,
    /// The file, or `IKCONFIG@offset` in a stream.
    pub file: String,
    /// How many options it sets or leaves unset.
    pub options: usize,
    /// The hardening checks judged on it: check ID and whether it passed.
    pub hardening: Vec<(String, bool)>,
}

/// The modules of one filesystem built for one kernel release.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModuleRelease {
    pub filesystem: String,
    pub release: String,
    /// The build properties of the first module (`SMP mod_unload modversions ARMv7`).
    pub properties: String,
    pub count: usize,
    /// The first module's path, with a leading `/`.
    pub example: String,
    /// Whether a kernel banner of the image names this release (`None`: no banner found).
    pub matches_banner: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_and_unset_options() {
        let c = parse_config(
            "#\n# Automatically generated\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=\"x\\\"y\"\nCONFIG_E=0x10\nCONFIG_F=\nnonsense\n",
        );
        assert_eq!(
            c.get("A").map(|o| (&o.value, o.line)),
            Some((&ConfigValue::Yes, 3))
        );
        assert!(c.enabled("B"));
        assert_eq!(c.get("C").map(|o| &o.value), Some(&ConfigValue::NotSet));
        assert_eq!(c.text("D"), Some("x\"y"));
        assert_eq!(c.text("E"), Some("0x10"));
        assert_eq!(c.get("F"), None, "an empty value is malformed");
        assert_eq!(c.options.len(), 5);
    }

    #[test]
    fn vermagic_needs_a_modinfo_entry_and_a_release() {
        let v =
            vermagic(b"\0license=GPL\0vermagic=6.1.0-28-armmp SMP mod_unload ARMv7 \0").unwrap();
        assert_eq!(v.release, "6.1.0-28-armmp");
        assert_eq!(v.properties, "SMP mod_unload ARMv7");
        assert_eq!(vermagic(b"\0vermagic=%s\0"), None);
        assert_eq!(vermagic(b"xvermagic=6.1 SMP\0"), None);
    }

    #[test]
    fn embedded_config_without_gzip_is_ignored() {
        assert!(embedded_configs(b"IKCFG_ST not gzip IKCFG_ED").is_empty());
        assert!(embedded_configs(b"IKCFG_ST\x1f\x8b\x08garbage").is_empty());
    }
}
