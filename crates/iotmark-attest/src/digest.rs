//! A SHA-256 digest as a type: envelopes, statements, assessment results and firmware images
//! are all named by one, and a value of this type is always 32 bytes, so no caller has to ask
//! again whether a string of hex is well formed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

/// A SHA-256 digest. Written and read as 64 lower-case hexadecimal digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Sha256(pub [u8; 32]);

/// Why text is not a SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{shown:?} is not a SHA-256 digest (64 lower-case hexadecimal digits)")]
pub struct DigestError {
    /// The text, cut to 80 characters.
    pub shown: String,
}

impl Sha256 {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lower-case hexadecimal digits.
    pub fn to_hex(&self) -> String {
        crate::keys::hex(&self.0)
    }

    /// Parses 64 lower-case hexadecimal digits. Upper case is refused: digests are compared as
    /// text by others (in-toto subjects, URLs), and one spelling per digest keeps them equal.
    pub fn from_hex(text: &str) -> Result<Self, DigestError> {
        let refuse = || DigestError {
            shown: text.chars().take(80).collect(),
        };
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(refuse());
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let digit = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            };
            match (digit(pair[0]), digit(pair[1])) {
                (Some(hi), Some(lo)) => *byte = hi << 4 | lo,
                _ => return Err(refuse()),
            }
        }
        Ok(Sha256(out))
    }
}

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl FromStr for Sha256 {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, DigestError> {
        Sha256::from_hex(s)
    }
}

impl From<[u8; 32]> for Sha256 {
    fn from(bytes: [u8; 32]) -> Self {
        Sha256(bytes)
    }
}

impl Serialize for Sha256 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Sha256::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    #[test]
    fn hex_round_trips_and_matches_the_known_digest_of_abc() {
        // FIPS 180-2 appendix B.1: SHA-256("abc").
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(Sha256::of(b"abc").to_hex(), abc);
        assert_eq!(Sha256::from_hex(abc).unwrap(), Sha256::of(b"abc"));
    }

    #[test]
    fn other_spellings_are_refused_with_the_text_shown() {
        let upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        for bad in [upper, "", "ab", &"g".repeat(64), &"a".repeat(65)] {
            let e = Sha256::from_hex(bad).unwrap_err();
            assert!(e.to_string().contains("is not a SHA-256 digest"), "{e}");
        }
        assert_eq!(
            Sha256::from_hex(&"x".repeat(200)).unwrap_err().shown.len(),
            80
        );
    }
}
