//! Flattened device trees, and U-Boot FIT images built on them.
//!
//! A FIT image is a device tree whose `/images` node holds the kernel, device trees and
//! ramdisks (embedded in a `data` property, or stored after the tree at `data-offset` /
//! `data-position` with `data-size`), each with `hash-*` nodes and optional `signature-*`
//! nodes, and whose `/configurations` say which images boot together, optionally signed.
//! What a FIT says about signing is reported as [`FitInfo`] so the analysis can tell a signed
//! image (algorithm, key name hint, what is covered) from an unsigned one.
//!
//! The tree is parsed here from the devicetree specification: a big-endian header with the
//! total size and the offsets of the structure and strings blocks, then structure tokens
//! (begin node, property, end node, nop, end). Every offset and length is checked against
//! its block, and nesting is capped.

use sha2::Digest;

use super::{Scan, streams};
use crate::reader::{ByteOrder, ReadError, Reader};

pub(super) const FDT_MAGIC: [u8; 4] = [0xd0, 0x0d, 0xfe, 0xed];

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// Real trees nest a handful of levels; the cap also keeps dropping the tree shallow.
const MAX_NESTING: usize = 64;

/// What a FIT image holds and how it is signed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitInfo {
    /// Offset of the FIT in its parent, and where that parent sits.
    pub offset: u64,
    pub within: String,
    pub description: String,
    pub images: Vec<FitImage>,
    pub default_configuration: Option<String>,
    pub configurations: Vec<FitConfiguration>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitImage {
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub kind: FitImageType,
    pub arch: String,
    pub os: String,
    /// `none`, `gzip`, `lzma`, `lzo`, `lz4`, `zstd`, `bzip2`.
    pub compression: String,
    /// Bytes of image data, when it could be located.
    pub size: Option<u64>,
    /// Stored after the tree (`data-offset` / `data-position`) rather than inside it.
    pub external: bool,
    pub hashes: Vec<FitHash>,
    pub signatures: Vec<FitSignature>,
}

/// What a FIT image is, from its `type` property: U-Boot's image type names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FitImageType {
    Kernel,
    /// A kernel that runs where it lies rather than being loaded first.
    KernelNoload,
    /// A device tree blob.
    FlatDt,
    Ramdisk,
    Firmware,
    Filesystem,
    Standalone,
    Script,
    Loadable,
    Fpga,
    /// A trusted execution environment (OP-TEE).
    Tee,
    Multi,
    /// A type this list does not name, as the image spells it (empty when it has none).
    Other(String),
}

impl FitImageType {
    const NAMED: [(&str, FitImageType); 12] = [
        ("kernel", Self::Kernel),
        ("kernel_noload", Self::KernelNoload),
        ("flat_dt", Self::FlatDt),
        ("ramdisk", Self::Ramdisk),
        ("firmware", Self::Firmware),
        ("filesystem", Self::Filesystem),
        ("standalone", Self::Standalone),
        ("script", Self::Script),
        ("loadable", Self::Loadable),
        ("fpga", Self::Fpga),
        ("tee", Self::Tee),
        ("multi", Self::Multi),
    ];

    /// The type a `type` property names; an unnamed one is kept as it is spelt.
    pub fn from_name(name: &str) -> Self {
        Self::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map_or_else(|| Self::Other(name.to_owned()), |(_, t)| t.clone())
    }

    /// The name U-Boot gives the type, as the `type` property spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(name) => name,
            known => Self::NAMED
                .iter()
                .find(|(_, t)| t == known)
                .map_or("", |(n, _)| n),
        }
    }
}

impl serde::Serialize for FitImageType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitHash {
    pub algo: String,
    /// `verified`, `mismatch`, or `not checked` (an algorithm we do not compute, or no
    /// data or value to compare).
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitSignature {
    /// Path of the signature node, e.g. `/configurations/conf-1/signature-1`.
    pub node: String,
    /// U-Boot's `algo`, e.g. `sha256,rsa2048`.
    pub algo: String,
    pub key_name_hint: Option<String>,
    /// For a configuration signature, the images it covers (`sign-images`); for an image
    /// signature, that image.
    pub signed_images: Vec<String>,
    /// Whether the node holds a signature value; a node without one was never signed.
    pub has_value: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FitConfiguration {
    pub name: String,
    pub description: String,
    /// Images by role, as listed (`kernel`, `fdt`, `ramdisk`, `loadables`, …).
    pub images: Vec<(String, String)>,
    pub signatures: Vec<FitSignature>,
}

impl FitInfo {
    /// Every signature node, of images and of configurations.
    pub fn signatures(&self) -> impl Iterator<Item = &FitSignature> {
        self.images
            .iter()
            .flat_map(|i| &i.signatures)
            .chain(self.configurations.iter().flat_map(|c| &c.signatures))
    }

    /// One sentence on how the image is signed, for reports.
    /// Whether any signature node carries a signature value.
    pub fn is_signed(&self) -> bool {
        self.signatures().any(|s| s.has_value)
    }

    pub fn summary(&self) -> String {
        let signed: Vec<_> = self.signatures().filter(|s| s.has_value).collect();
        if signed.is_empty() {
            return if self.signatures().next().is_some() {
                "FIT with signature nodes but no signature values (not signed)".to_owned()
            } else {
                "FIT without signature nodes".to_owned()
            };
        }
        let parts: Vec<String> = signed
            .iter()
            .map(|s| {
                format!(
                    "{} signed with key {}, algo {} (covers {})",
                    s.node,
                    s.key_name_hint.as_deref().unwrap_or("(no key-name-hint)"),
                    s.algo,
                    s.signed_images.join(", ")
                )
            })
            .collect();
        parts.join("; ")
    }
}

/// A device-tree node with its properties (values borrowed from the blob).
#[derive(Debug, Default)]
struct Node<'a> {
    name: String,
    props: Vec<(String, &'a [u8])>,
    children: Vec<Node<'a>>,
}

impl<'a> Node<'a> {
    fn prop(&self, name: &str) -> Option<&'a [u8]> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// A string property (the first, for a string list).
    fn text(&self, name: &str) -> Option<String> {
        self.strings(name).into_iter().next()
    }

    fn strings(&self, name: &str) -> Vec<String> {
        self.prop(name)
            .map(|v| {
                v.split(|&b| b == 0)
                    .filter(|s| !s.is_empty())
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A one- or two-cell number.
    fn number(&self, name: &str) -> Option<u64> {
        let v = self.prop(name)?;
        let mut cells = Reader::new(v, 0);
        match v.len() {
            4 => cells
                .u32(ByteOrder::Big, "one-cell number")
                .ok()
                .map(u64::from),
            8 => cells.u64(ByteOrder::Big, "two-cell number").ok(),
            _ => None,
        }
    }

    fn child(&self, name: &str) -> Option<&Node<'a>> {
        self.children.iter().find(|c| c.name == name)
    }
}

/// The blob's header fields that bound everything else.
struct Header {
    total: usize,
    structure: std::ops::Range<usize>,
    strings: std::ops::Range<usize>,
}

fn header(blob: &Reader) -> Option<Header> {
    let word = |at: usize, what| blob.u32_at(at, ByteOrder::Big, what).ok();
    if blob.peek(4, "FDT magic").ok()? != FDT_MAGIC {
        return None;
    }
    let total = word(4, "FDT total size")? as usize;
    let off_struct = word(8, "FDT structure offset")? as usize;
    let off_strings = word(12, "FDT strings offset")? as usize;
    let version = word(20, "FDT version")?;
    let last_compatible = word(24, "FDT last compatible version")?;
    if total < 40
        || total > blob.remaining()
        || !(16..=17).contains(&last_compatible)
        || version < 16
    {
        return None;
    }
    // Version 17 records the block sizes; version 16 only bounds them by the total size.
    let (size_strings, size_struct) = if version >= 17 {
        (
            word(32, "FDT strings size")? as usize,
            word(36, "FDT structure size")? as usize,
        )
    } else {
        (
            total.checked_sub(off_strings)?,
            total.checked_sub(off_struct)?,
        )
    };
    let structure = off_struct..off_struct.checked_add(size_struct)?;
    let strings = off_strings..off_strings.checked_add(size_strings)?;
    if structure.end > total || strings.end > total || off_struct < 40 {
        return None;
    }
    Some(Header {
        total,
        structure,
        strings,
    })
}

/// Moves `r` past the padding that aligns what follows to four bytes.
fn align4(r: &mut Reader, what: &'static str) -> Result<(), ReadError> {
    let pad = r.position().next_multiple_of(4) - r.position();
    r.skip(pad, what)
}

/// Parses the structure block into the root node.
fn parse<'a>(blob: &Reader<'a>, h: &Header) -> Result<Node<'a>, String> {
    let block = |range: &std::ops::Range<usize>, what| {
        blob.at(range.start, range.len(), what)
            .map_err(|e| e.to_string())
    };
    let mut structure = block(&h.structure, "structure block")?;
    let strings = block(&h.strings, "strings block")?;
    let no_end = |e: ReadError| format!("the structure block ends without FDT_END: {e}");
    let mut stack: Vec<Node<'a>> = Vec::new();
    let mut root = None;
    while root.is_none() {
        let token = structure
            .u32(ByteOrder::Big, "structure token")
            .map_err(no_end)?;
        match token {
            FDT_BEGIN_NODE => {
                let name = structure
                    .until(0, "node name")
                    .map_err(|e| format!("unterminated node name: {e}"))?;
                if stack.len() >= MAX_NESTING {
                    return Err(format!("nodes nest deeper than {MAX_NESTING} levels"));
                }
                stack.push(Node {
                    name: String::from_utf8_lossy(name).into_owned(),
                    ..Node::default()
                });
                align4(&mut structure, "node name padding").map_err(no_end)?;
            }
            FDT_END_NODE => {
                let node = stack.pop().ok_or("end of a node that was not begun")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            FDT_PROP => {
                let truncated = |e: ReadError| format!("truncated property: {e}");
                let len = structure
                    .u32(ByteOrder::Big, "property length")
                    .map_err(truncated)?;
                let name_at = structure
                    .u32(ByteOrder::Big, "property name offset")
                    .map_err(truncated)?;
                let value = structure
                    .take(len as usize, "property value")
                    .map_err(|e| format!("a property runs past the structure block: {e}"))?;
                let name = strings
                    .from(name_at as usize, "property name")
                    .map(|r| r.window().split(|&b| b == 0).next().unwrap_or_default())
                    .map_err(|e| format!("a property name is outside the strings block: {e}"))?;
                stack
                    .last_mut()
                    .ok_or("a property outside any node")?
                    .props
                    .push((String::from_utf8_lossy(name).into_owned(), value));
                align4(&mut structure, "property padding").map_err(no_end)?;
            }
            FDT_NOP => {}
            FDT_END => return Err("FDT_END inside a node".to_owned()),
            other => return Err(format!("unknown structure token {other}")),
        }
    }
    root.ok_or_else(|| "no root node".to_owned())
}

/// Checks a hash node's value against the data.
fn check_hash(algo: &str, data: Option<&[u8]>, value: Option<&[u8]>) -> String {
    let (Some(data), Some(value)) = (data, value) else {
        return "not checked".to_owned();
    };
    let computed: Vec<u8> = match algo {
        "sha1" => sha1::Sha1::digest(data).to_vec(),
        "sha256" => sha2::Sha256::digest(data).to_vec(),
        "sha384" => sha2::Sha384::digest(data).to_vec(),
        "sha512" => sha2::Sha512::digest(data).to_vec(),
        "crc32" => crc32fast::hash(data).to_be_bytes().to_vec(),
        _ => return "not checked".to_owned(),
    };
    if computed == value {
        "verified".to_owned()
    } else {
        "mismatch".to_owned()
    }
}

fn signatures(node: &Node<'_>, path: &str, own_image: Option<&str>) -> Vec<FitSignature> {
    node.children
        .iter()
        .filter(|c| c.name.starts_with("signature"))
        .map(|s| FitSignature {
            node: format!("{path}/{}", s.name),
            algo: s.text("algo").unwrap_or_default(),
            key_name_hint: s.text("key-name-hint"),
            signed_images: match own_image {
                Some(image) => vec![image.to_owned()],
                None => s.strings("sign-images"),
            },
            has_value: s.prop("value").is_some_and(|v| !v.is_empty()),
        })
        .collect()
}

/// A device tree at `offset`. A FIT (one with `/images`) is described in `out.fit` and its
/// images are walked one level deeper, decompressed as their `compression` says; a plain
/// device tree is recorded as a region.
pub(super) fn fdt(scan: &mut Scan) -> Option<usize> {
    let (offset, within) = (scan.offset, scan.within);
    let reader = Reader::new(scan.data, 0).from(offset, "device tree").ok()?;
    let blob = reader.window();
    let h = header(&reader)?;
    let root = match parse(&reader, &h) {
        Ok(root) => root,
        Err(why) => {
            scan.push_region(
                h.total,
                "fdt",
                format!("failed: {why}"),
                blob.get(..h.total)?,
            );
            return Some(h.total);
        }
    };
    let Some(images) = root.child("images") else {
        let tree = blob.get(..h.total)?;
        scan.push_region(h.total, "dtb", "unpacked (device tree)".to_owned(), tree);
        return Some(h.total);
    };
    // External data starts at the first 4-byte boundary after the tree.
    let external_base = h.total.div_ceil(4) * 4;
    let mut end = h.total;
    let mut info = FitInfo {
        offset: offset as u64,
        within: within.to_owned(),
        description: root.text("description").unwrap_or_default(),
        images: Vec::new(),
        default_configuration: None,
        configurations: Vec::new(),
    };
    let mut payloads: Vec<(String, String, &[u8])> = Vec::new();
    for image in &images.children {
        let size = image.number("data-size").map(|n| n as usize);
        let external_at = if image.prop("data").is_some() {
            None
        } else if let Some(pos) = image.number("data-position") {
            Some(pos as usize)
        } else {
            image
                .number("data-offset")
                .map(|off| external_base.saturating_add(off as usize))
        };
        let external = external_at.is_some();
        let bytes = match (external_at, size) {
            (Some(at), Some(n)) => at.checked_add(n).and_then(|e| {
                // mkimage pads each external image to 4 bytes; the padding is the FIT's.
                end = end.max(e.div_ceil(4).saturating_mul(4).min(blob.len()));
                blob.get(at..e)
            }),
            (Some(_), None) => None,
            (None, _) => image.prop("data"),
        };
        let path = format!("/images/{}", image.name);
        let hashes = image
            .children
            .iter()
            .filter(|c| c.name.starts_with("hash"))
            .map(|c| {
                let algo = c.text("algo").unwrap_or_default();
                let status = check_hash(&algo, bytes, c.prop("value"));
                FitHash { algo, status }
            })
            .collect();
        let compression = image.text("compression").unwrap_or_else(|| "none".into());
        info.images.push(FitImage {
            name: image.name.clone(),
            description: image.text("description").unwrap_or_default(),
            kind: FitImageType::from_name(&image.text("type").unwrap_or_default()),
            arch: image.text("arch").unwrap_or_default(),
            os: image.text("os").unwrap_or_default(),
            compression: compression.clone(),
            size: bytes.map(|b| b.len() as u64),
            external,
            hashes,
            signatures: signatures(image, &path, Some(&image.name)),
        });
        if let Some(b) = bytes {
            payloads.push((image.name.clone(), compression, b));
        }
    }
    if let Some(configs) = root.child("configurations") {
        info.default_configuration = configs.text("default");
        for c in &configs.children {
            let roles = ["kernel", "fdt", "ramdisk", "loadables", "firmware", "setup"];
            info.configurations.push(FitConfiguration {
                name: c.name.clone(),
                description: c.text("description").unwrap_or_default(),
                images: roles
                    .iter()
                    .flat_map(|r| c.strings(r).into_iter().map(|i| (r.to_string(), i)))
                    .collect(),
                signatures: signatures(c, &format!("/configurations/{}", c.name), None),
            });
        }
    }
    let verified = info
        .images
        .iter()
        .flat_map(|i| &i.hashes)
        .filter(|h| h.status == "verified")
        .count();
    let mismatched = info
        .images
        .iter()
        .flat_map(|i| &i.hashes)
        .filter(|h| h.status == "mismatch")
        .count();
    let outcome = if mismatched > 0 {
        format!(
            "failed: {mismatched} image hash(es) do not match; {}",
            info.summary()
        )
    } else {
        format!(
            "unpacked ({} images, {verified} hashes verified; {})",
            info.images.len(),
            info.summary()
        )
    };
    let (searched, outcome) = scan.searched(outcome);
    scan.push_region(end, "fit", outcome, blob.get(..end)?);
    // What a FIT inside another FIT holds is as signed as the outer one, which U-Boot
    // verifies first.
    let fit = scan.fit.or(Some(scan.out.fit.len()));
    scan.out.fit.push(info);
    if searched {
        for (name, compression, bytes) in payloads {
            let label = format!("{within} > fit@{offset} image {name}");
            let mut image = scan.nested(bytes, &label);
            image.fit = fit;
            streams::declared(&compression, &mut image);
        }
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_headers_are_refused_without_panicking() {
        let mut blob = vec![0u8; 64];
        blob[..4].copy_from_slice(&FDT_MAGIC);
        blob[4..8].copy_from_slice(&64u32.to_be_bytes());
        blob[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        blob[20..24].copy_from_slice(&17u32.to_be_bytes());
        blob[24..28].copy_from_slice(&16u32.to_be_bytes());
        assert!(header(&Reader::new(&blob, 0)).is_none());
    }
}
