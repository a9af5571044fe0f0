//! Reading untrusted bytes: a bounds-checked cursor over a byte slice. Every read says what
//! it wanted, so a short or malformed message is an error naming the field, never a panic.

/// Why bytes did not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {needed} bytes needed at offset {at}, {left} left")]
pub struct Short {
    pub what: &'static str,
    pub at: usize,
    pub needed: usize,
    pub left: usize,
}

/// A cursor over `bytes`.
#[derive(Debug, Clone)]
pub struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    pub fn offset(&self) -> usize {
        self.at
    }

    pub fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    pub fn is_empty(&self) -> bool {
        self.left() == 0
    }

    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Short> {
        if n > self.left() {
            return Err(Short {
                what,
                at: self.at,
                needed: n,
                left: self.left(),
            });
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    pub fn u8(&mut self, what: &'static str) -> Result<u8, Short> {
        Ok(self.take(1, what)?[0])
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, Short> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u24(&mut self, what: &'static str) -> Result<usize, Short> {
        let b = self.take(3, what)?;
        Ok(usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
    }

    pub fn u32(&mut self, what: &'static str) -> Result<u32, Short> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A sub-cursor over the next `n` bytes.
    pub fn sub(&mut self, n: usize, what: &'static str) -> Result<Cursor<'a>, Short> {
        Ok(Cursor::new(self.take(n, what)?))
    }

    /// Bytes prefixed by a one-byte length.
    pub fn vec8(&mut self, what: &'static str) -> Result<&'a [u8], Short> {
        let n = usize::from(self.u8(what)?);
        self.take(n, what)
    }

    /// Bytes prefixed by a two-byte length.
    pub fn vec16(&mut self, what: &'static str) -> Result<&'a [u8], Short> {
        let n = usize::from(self.u16(what)?);
        self.take(n, what)
    }

    /// Bytes prefixed by a three-byte length.
    pub fn vec24(&mut self, what: &'static str) -> Result<&'a [u8], Short> {
        let n = self.u24(what)?;
        self.take(n, what)
    }
}

/// Appends `bytes` with a big-endian length prefix of `width` bytes (1, 2 or 3).
pub fn put_vec(out: &mut Vec<u8>, width: usize, bytes: &[u8]) {
    let len = bytes.len();
    match width {
        1 => out.push(len as u8),
        2 => out.extend_from_slice(&(len as u16).to_be_bytes()),
        _ => out.extend_from_slice(&(len as u32).to_be_bytes()[1..]),
    }
    out.extend_from_slice(bytes);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_and_name_what_was_short() {
        let mut c = Cursor::new(&[0, 3, 1, 2]);
        assert_eq!(c.u16("length").unwrap(), 3);
        let err = c.take(3, "body").unwrap_err();
        assert_eq!((err.what, err.at, err.needed, err.left), ("body", 2, 3, 2));
        assert_eq!(c.vec8("v").unwrap(), &[2]);
        assert!(c.is_empty());
        let mut out = Vec::new();
        put_vec(&mut out, 3, b"ab");
        assert_eq!(out, [0, 0, 2, b'a', b'b']);
    }
}
