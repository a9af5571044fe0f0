//! rpm header blobs, as every rpm database backend stores them: a count of index entries
//! and the size of the data store (both big-endian 32-bit), the entries (tag, type, offset,
//! count; 16 bytes each), then the data store the offsets point into. A header read from a
//! package file starts with an 8-byte magic (`8e ad e8 01`, version, reserved), which is
//! skipped.

use crate::reader::{ByteOrder, ReadError, Reader};

pub const NAME: u32 = 1000;
pub const VERSION: u32 = 1001;
pub const RELEASE: u32 = 1002;
pub const EPOCH: u32 = 1003;
pub const VENDOR: u32 = 1011;
pub const LICENSE: u32 = 1014;
pub const PACKAGER: u32 = 1015;
pub const ARCH: u32 = 1022;
pub const OLDFILENAMES: u32 = 1027;
pub const SOURCERPM: u32 = 1044;
pub const DIRINDEXES: u32 = 1116;
pub const BASENAMES: u32 = 1117;
pub const DIRNAMES: u32 = 1118;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// rpm's own bound on index entries (`hdrchkTags`).
const MAX_ENTRIES: u32 = 0xffff;
const MAGIC: [u8; 3] = [0x8e, 0xad, 0xe8];

#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

/// A parsed header: its index and its data store.
#[derive(Debug)]
pub struct Header<'a> {
    entries: Vec<IndexEntry>,
    store: Reader<'a>,
}

/// What went wrong in a header, with the offset in the blob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// A read past the end of the blob or its data store (offset and what was read).
    #[error("{0}")]
    Read(String),
    #[error("{0} index entries, more than rpm allows ({MAX_ENTRIES})")]
    TooManyEntries(u32),
    #[error("tag {tag}: type {kind} where {expected} was expected")]
    WrongType {
        tag: u32,
        kind: u32,
        expected: &'static str,
    },
    #[error("tag {tag}: count {count} larger than the data store")]
    BadCount { tag: u32, count: u32 },
}

impl From<ReadError> for HeaderError {
    fn from(e: ReadError) -> Self {
        HeaderError::Read(e.to_string())
    }
}

impl<'a> Header<'a> {
    /// Parses the index of a header blob; values are read when asked for.
    pub fn parse(blob: &'a [u8]) -> Result<Header<'a>, HeaderError> {
        let mut r = Reader::new(blob, 0);
        if r.peek(3, "header magic").is_ok_and(|m| m == MAGIC) {
            r.skip(8, "header magic")?;
        }
        let il = r.u32(ByteOrder::Big, "index entry count")?;
        let dl = r.u32(ByteOrder::Big, "data store size")?;
        if il > MAX_ENTRIES {
            return Err(HeaderError::TooManyEntries(il));
        }
        let mut index = r.sub(il as usize * 16, "index entries")?;
        let store = r.sub(dl as usize, "data store")?;
        let mut entries = Vec::with_capacity(il as usize);
        for _ in 0..il {
            entries.push(IndexEntry {
                tag: index.u32(ByteOrder::Big, "entry tag")?,
                kind: index.u32(ByteOrder::Big, "entry type")?,
                offset: index.u32(ByteOrder::Big, "entry offset")?,
                count: index.u32(ByteOrder::Big, "entry count")?,
            });
        }
        Ok(Header { entries, store })
    }

    /// The entry for `tag`, which must have one of the types `kinds`.
    fn entry(
        &self,
        tag: u32,
        kinds: &[u32],
        expected: &'static str,
    ) -> Result<Option<IndexEntry>, HeaderError> {
        match self.entries.iter().copied().find(|e| e.tag == tag) {
            Some(e) if !kinds.contains(&e.kind) => Err(HeaderError::WrongType {
                tag,
                kind: e.kind,
                expected,
            }),
            found => Ok(found),
        }
    }

    /// The NUL-terminated strings from the entry's offset.
    fn read_strings(&self, e: IndexEntry, n: u32) -> Result<Vec<String>, HeaderError> {
        // Each string takes at least one byte, so a count beyond the store is a lie that
        // would otherwise size an allocation.
        if n as usize > self.store.window().len() {
            return Err(HeaderError::BadCount {
                tag: e.tag,
                count: n,
            });
        }
        let mut r = self.store.from(e.offset as usize, "string value")?;
        let mut out = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let s = r.until(0, "string value")?;
            out.push(String::from_utf8_lossy(s).into_owned());
        }
        Ok(out)
    }

    /// A STRING (or the first of an I18NSTRING/STRING_ARRAY) value.
    pub fn string(&self, tag: u32) -> Result<Option<String>, HeaderError> {
        let kinds = [TYPE_STRING, TYPE_I18NSTRING, TYPE_STRING_ARRAY];
        let Some(e) = self.entry(tag, &kinds, "a string")? else {
            return Ok(None);
        };
        Ok(self.read_strings(e, 1)?.into_iter().next())
    }

    /// A STRING_ARRAY value.
    pub fn strings(&self, tag: u32) -> Result<Vec<String>, HeaderError> {
        let Some(e) = self.entry(tag, &[TYPE_STRING_ARRAY], "a string array")? else {
            return Ok(Vec::new());
        };
        self.read_strings(e, e.count)
    }

    /// An INT32 array value.
    pub fn int32s(&self, tag: u32) -> Result<Vec<u32>, HeaderError> {
        let Some(e) = self.entry(tag, &[TYPE_INT32], "int32")? else {
            return Ok(Vec::new());
        };
        let bytes = (e.count as usize)
            .checked_mul(4)
            .ok_or(HeaderError::BadCount {
                tag,
                count: e.count,
            })?;
        let mut r = self.store.at(e.offset as usize, bytes, "int32 value")?;
        (0..e.count)
            .map(|_| Ok(r.u32(ByteOrder::Big, "int32 value")?))
            .collect()
    }

    /// The files the header lists: `DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`, or the
    /// `OLDFILENAMES` of packages built before rpm 4.
    pub fn files(&self) -> Result<Vec<String>, HeaderError> {
        let base = self.strings(BASENAMES)?;
        if base.is_empty() {
            return self.strings(OLDFILENAMES);
        }
        let dirs = self.strings(DIRNAMES)?;
        let index = self.int32s(DIRINDEXES)?;
        Ok(base
            .into_iter()
            .zip(index)
            .filter_map(|(b, i)| Some(format!("{}{b}", dirs.get(i as usize)?)))
            .collect())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A header blob with `strings` (tag, values: one for STRING, more for STRING_ARRAY)
    /// and `ints` (tag, INT32 values), laid out as rpm does (big-endian, ints aligned).
    pub(crate) fn blob(strings: &[(u32, &[&str])], ints: &[(u32, &[u32])]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut store = Vec::new();
        for (tag, values) in ints {
            while store.len() % 4 != 0 {
                store.push(0);
            }
            index.push((*tag, TYPE_INT32, store.len() as u32, values.len() as u32));
            for v in *values {
                store.extend_from_slice(&v.to_be_bytes());
            }
        }
        for (tag, values) in strings {
            let kind = if values.len() == 1 && *tag != BASENAMES && *tag != DIRNAMES {
                TYPE_STRING
            } else {
                TYPE_STRING_ARRAY
            };
            index.push((*tag, kind, store.len() as u32, values.len() as u32));
            for v in *values {
                store.extend_from_slice(v.as_bytes());
                store.push(0);
            }
        }
        let mut out = Vec::new();
        out.extend_from_slice(&(index.len() as u32).to_be_bytes());
        out.extend_from_slice(&(store.len() as u32).to_be_bytes());
        for (t, k, o, c) in index {
            for v in [t, k, o, c] {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        out.extend_from_slice(&store);
        out
    }

    #[test]
    fn values_and_files() {
        let b = blob(
            &[
                (NAME, &["bash"]),
                (VERSION, &["5.2.21"]),
                (DIRNAMES, &["/usr/bin/", "/etc/"]),
                (BASENAMES, &["bash", "bashrc", "sh"]),
            ],
            &[(EPOCH, &[1]), (DIRINDEXES, &[0, 1, 0])],
        );
        let h = Header::parse(&b).expect("header");
        assert_eq!(h.string(NAME), Ok(Some("bash".into())));
        assert_eq!(h.string(RELEASE), Ok(None));
        assert_eq!(h.int32s(EPOCH), Ok(vec![1]));
        assert_eq!(
            h.files().expect("files"),
            ["/usr/bin/bash", "/etc/bashrc", "/usr/bin/sh"]
        );
        assert!(matches!(
            h.string(EPOCH),
            Err(HeaderError::WrongType { tag: EPOCH, .. })
        ));
    }

    #[test]
    fn a_truncated_or_lying_header_is_an_error() {
        let b = blob(&[(NAME, &["bash"])], &[]);
        for cut in 0..b.len() - 1 {
            if let Ok(h) = Header::parse(&b[..cut]) {
                let _ = h.string(NAME);
            }
        }
        assert!(Header::parse(&b[..b.len() - 1]).is_err());
        let mut lie = b.clone();
        lie[0..4].copy_from_slice(&0x0010_0000u32.to_be_bytes());
        assert_eq!(
            Header::parse(&lie).map(|_| ()),
            Err(HeaderError::TooManyEntries(0x0010_0000))
        );
        // A string without its NUL runs to the end of the store.
        let mut open = b;
        let last = open.len() - 1;
        open[last] = b'x';
        let h = Header::parse(&open).expect("index");
        assert!(h.string(NAME).is_err());
    }
}
