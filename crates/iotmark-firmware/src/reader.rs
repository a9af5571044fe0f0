//! The one bounded reader every parser of image bytes goes through.
//!
//! A [`Reader`] is a window on a byte slice that knows where its first byte sits in the
//! image, so a failed read says where it failed in terms a user can look up with a hex
//! dump, and what the parser was after. Nothing here can panic or read outside the window:
//! a [`Reader::sub`] window cannot see past its own end even when its parent goes on.

/// The byte order of a multi-byte integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ByteOrder {
    Little,
    Big,
}

/// A read that ran past the end of its window.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at offset {offset}: {}", shortfall(*.needed, *.available))]
pub(crate) struct ReadError {
    /// Offset in the image where the read started.
    pub offset: usize,
    /// Bytes the read needed from there; 0 for a position that lies past the end.
    pub needed: usize,
    /// Bytes there were from there to the end of the window.
    pub available: usize,
    /// What the parser expected to find.
    pub what: &'static str,
}

fn shortfall(needed: usize, available: usize) -> String {
    if needed == 0 {
        "past the end of the data".to_owned()
    } else {
        format!("{needed} bytes needed, {available} available")
    }
}

/// A cursor over `bytes`, whose first byte is at `base` in the image.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    base: usize,
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`, which start at offset `base` of the image.
    pub(crate) fn new(bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            base,
            pos: 0,
        }
    }

    /// The image offset of the next byte.
    pub(crate) fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// The position of the next byte within the window.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Bytes left after the position.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// The whole window, whatever has been read.
    pub(crate) fn window(&self) -> &'a [u8] {
        self.bytes
    }

    /// Everything after the position, which moves to the end.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        self.pos = self.bytes.len();
        rest
    }

    fn error(&self, at: usize, needed: usize, what: &'static str) -> ReadError {
        ReadError {
            offset: self.base.saturating_add(at),
            needed,
            available: self.bytes.len().saturating_sub(at),
            what,
        }
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ReadError> {
        let bytes = self.peek(n, what)?;
        self.pos += n;
        Ok(bytes)
    }

    /// The next `n` bytes, leaving the position where it is.
    pub(crate) fn peek(&self, n: usize, what: &'static str) -> Result<&'a [u8], ReadError> {
        self.pos
            .checked_add(n)
            .and_then(|end| self.bytes.get(self.pos..end))
            .ok_or_else(|| self.error(self.pos, n, what))
    }

    /// The bytes up to the next `delimiter`, which the position moves past too. Without
    /// one, the read needs a byte more than there is.
    pub(crate) fn until(
        &mut self,
        delimiter: u8,
        what: &'static str,
    ) -> Result<&'a [u8], ReadError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == delimiter)
            .ok_or_else(|| self.error(self.pos, rest.len() + 1, what))?;
        let bytes = self.take(len, what)?;
        self.pos += 1;
        Ok(bytes)
    }

    /// Moves past the next `n` bytes.
    pub(crate) fn skip(&mut self, n: usize, what: &'static str) -> Result<(), ReadError> {
        self.take(n, what).map(|_| ())
    }

    /// A reader over the next `n` bytes, which this one moves past: the sub-reader ends
    /// where they end.
    pub(crate) fn sub(&mut self, n: usize, what: &'static str) -> Result<Reader<'a>, ReadError> {
        let base = self.offset();
        self.take(n, what).map(|bytes| Reader::new(bytes, base))
    }

    /// Moves to position `pos` of the window (the end included).
    pub(crate) fn seek(&mut self, pos: usize, what: &'static str) -> Result<(), ReadError> {
        if pos > self.bytes.len() {
            return Err(self.error(pos, 0, what));
        }
        self.pos = pos;
        Ok(())
    }

    /// A reader over the `n` bytes at position `pos` of the window, for formats that point
    /// from one structure to another; this reader does not move.
    pub(crate) fn at(
        &self,
        pos: usize,
        n: usize,
        what: &'static str,
    ) -> Result<Reader<'a>, ReadError> {
        pos.checked_add(n)
            .and_then(|end| self.bytes.get(pos..end))
            .map(|bytes| Reader::new(bytes, self.base.saturating_add(pos)))
            .ok_or_else(|| self.error(pos, n, what))
    }

    /// A reader over the window from position `pos` to its end.
    pub(crate) fn from(&self, pos: usize, what: &'static str) -> Result<Reader<'a>, ReadError> {
        let mut r = *self;
        r.seek(pos, what)?;
        Ok(Reader::new(r.rest(), self.base.saturating_add(pos)))
    }

    /// The next integer of type `T`, in `order`.
    pub(crate) fn int<T: Int>(
        &mut self,
        order: ByteOrder,
        what: &'static str,
    ) -> Result<T, ReadError> {
        self.take(T::SIZE, what).map(|bytes| T::read(bytes, order))
    }

    /// The integer of type `T` at position `pos` of the window; this reader does not move.
    pub(crate) fn int_at<T: Int>(
        &self,
        pos: usize,
        order: ByteOrder,
        what: &'static str,
    ) -> Result<T, ReadError> {
        self.at(pos, T::SIZE, what)?.int(order, what)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, ReadError> {
        self.int(ByteOrder::Little, what)
    }

    pub(crate) fn u16(&mut self, order: ByteOrder, what: &'static str) -> Result<u16, ReadError> {
        self.int(order, what)
    }

    pub(crate) fn u32(&mut self, order: ByteOrder, what: &'static str) -> Result<u32, ReadError> {
        self.int(order, what)
    }

    pub(crate) fn u64(&mut self, order: ByteOrder, what: &'static str) -> Result<u64, ReadError> {
        self.int(order, what)
    }

    pub(crate) fn u8_at(&self, pos: usize, what: &'static str) -> Result<u8, ReadError> {
        self.int_at(pos, ByteOrder::Little, what)
    }

    pub(crate) fn u16_at(
        &self,
        pos: usize,
        order: ByteOrder,
        what: &'static str,
    ) -> Result<u16, ReadError> {
        self.int_at(pos, order, what)
    }

    pub(crate) fn u32_at(
        &self,
        pos: usize,
        order: ByteOrder,
        what: &'static str,
    ) -> Result<u32, ReadError> {
        self.int_at(pos, order, what)
    }

    pub(crate) fn u64_at(
        &self,
        pos: usize,
        order: ByteOrder,
        what: &'static str,
    ) -> Result<u64, ReadError> {
        self.int_at(pos, order, what)
    }
}

/// An unsigned integer a [`Reader`] can read.
pub(crate) trait Int: Sized {
    const SIZE: usize;
    /// `bytes` (exactly `SIZE` of them) as a number in `order`.
    fn read(bytes: &[u8], order: ByteOrder) -> Self;
}

macro_rules! int {
    ($($t:ty),*) => {$(
        impl Int for $t {
            const SIZE: usize = std::mem::size_of::<$t>();
            fn read(bytes: &[u8], order: ByteOrder) -> Self {
                // Little-endian folds from the last byte, big-endian from the first; the
                // shift is two of four bits because a `u8` cannot shift by eight.
                let fold = |n: $t, &b: &u8| (n << 4 << 4) | <$t>::from(b);
                match order {
                    ByteOrder::Little => bytes.iter().rev().fold(0, fold),
                    ByteOrder::Big => bytes.iter().fold(0, fold),
                }
            }
        }
    )*};
}

int!(u8, u16, u32, u64);

#[cfg(test)]
mod tests {
    use super::ByteOrder::{Big, Little};
    use super::*;

    #[test]
    fn integers_in_either_order() {
        let bytes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        let mut r = Reader::new(&bytes, 0);
        assert_eq!(r.u8("byte"), Ok(1));
        assert_eq!(r.u16(Little, "le16"), Ok(0x0302));
        assert_eq!(r.u16(Big, "be16"), Ok(0x0405));
        assert_eq!(r.u32(Little, "le32"), Ok(0x0908_0706));
        assert_eq!(r.u32(Big, "be32"), Ok(0x0a0b_0c0d));
        let r = Reader::new(&bytes, 0);
        assert_eq!(r.u64_at(0, Little, "le64"), Ok(0x0807_0605_0403_0201));
        assert_eq!(r.u64_at(0, Big, "be64"), Ok(0x0102_0304_0506_0708));
        assert_eq!(r.u32_at(11, Big, "be32"), Ok(0x0c0d_0e0f));
        assert_eq!(r.u16_at(13, Little, "le16"), Ok(0x0f0e));
        assert_eq!(
            r.position(),
            0,
            "reads at a position do not move the reader"
        );
    }

    #[test]
    fn a_short_read_names_the_image_offset_and_what_was_expected() {
        let bytes = [0u8; 10];
        let mut r = Reader::new(&bytes, 1000);
        r.skip(8, "header").unwrap();
        let e = r.u32(Little, "inode table entry").unwrap_err();
        assert_eq!(
            e,
            ReadError {
                offset: 1008,
                needed: 4,
                available: 2,
                what: "inode table entry"
            }
        );
        assert_eq!(
            e.to_string(),
            "inode table entry at offset 1008: 4 bytes needed, 2 available"
        );
        // A failed read leaves the position where it was.
        assert_eq!(r.offset(), 1008);
        assert_eq!(r.u16(Big, "tail"), Ok(0));
        assert_eq!(r.remaining(), 0);
        let e = r.u8("one more").unwrap_err();
        assert_eq!((e.offset, e.needed, e.available), (1010, 1, 0));
    }

    #[test]
    fn a_sub_reader_cannot_read_past_its_end() {
        let bytes: Vec<u8> = (0..32).collect();
        let mut r = Reader::new(&bytes, 100);
        r.skip(4, "magic").unwrap();
        let mut sub = r.sub(6, "superblock").unwrap();
        assert_eq!(
            r.offset(),
            110,
            "the parent moves past the sub-reader's bytes"
        );
        assert_eq!(sub.offset(), 104);
        assert_eq!(sub.take(4, "field"), Ok(&[4, 5, 6, 7][..]));
        let e = sub.u32(Big, "block count").unwrap_err();
        assert_eq!((e.offset, e.needed, e.available), (108, 4, 2));
        assert_eq!(sub.rest(), &[8, 9]);
        assert!(sub.at(5, 2, "field").is_err());
        assert!(sub.u8_at(6, "byte").is_err());
        let e = Reader::new(&bytes, 100).sub(33, "superblock").unwrap_err();
        assert_eq!((e.offset, e.needed, e.available), (100, 33, 32));
    }

    #[test]
    fn random_access_reports_absolute_offsets() {
        let bytes = [0xAAu8; 64];
        let r = Reader::new(&bytes, 4096);
        let inner = r.at(16, 16, "descriptor").unwrap();
        assert_eq!(inner.offset(), 4112);
        assert_eq!(inner.window().len(), 16);
        let e = r.at(60, 16, "inode").unwrap_err();
        assert_eq!(
            e.to_string(),
            "inode at offset 4156: 16 bytes needed, 4 available"
        );
        let e = r.at(usize::MAX, 2, "overflowing position").unwrap_err();
        assert_eq!(e.needed, 2);
        let mut moved = r;
        assert!(moved.seek(64, "end").is_ok());
        assert_eq!(moved.remaining(), 0);
        let e = moved.seek(65, "directory block").unwrap_err();
        assert_eq!(
            e.to_string(),
            "directory block at offset 4161: past the end of the data"
        );
        assert_eq!(r.from(48, "tail").map(|t| t.offset()), Ok(4144));
        assert!(r.from(65, "tail").is_err());
        assert_eq!(r.peek(2, "peek"), Ok(&[0xAA, 0xAA][..]));
        let mut named = Reader::new(b"name\0rest", 8);
        assert_eq!(named.until(0, "name"), Ok(&b"name"[..]));
        assert_eq!(named.offset(), 13);
        let e = named.until(0, "second name").unwrap_err();
        assert_eq!((e.offset, e.needed, e.available), (13, 5, 4));
        assert_eq!(r.position(), 0);
    }
}
