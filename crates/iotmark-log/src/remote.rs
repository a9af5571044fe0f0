//! Reading a log served over HTTP(S) as a tlog-tiles prefix (`<url>/checkpoint`,
//! `<url>/tile/…`), for auditing someone else's log. Feature `http`.
//!
//! Read-only: the write methods of [`Storage`] refuse with [`StorageError::ReadOnly`]. Every
//! response is bounded in size (a tile is at most 256 hashes or a bundle of 256 entries), and a
//! 404 is "does not exist", which the audit reports as a missing tile. Redirects are followed;
//! anything else that is not a 200 is an error naming the URL.

use std::io::Read as _;
use std::time::Duration;

use crate::merkle::{self, Hash};
use crate::storage::{Storage, StorageError};
use crate::tiles::{TileId, TileKind};

/// A full entry bundle holds 256 entries of at most 65 535 bytes plus their length prefixes.
const MAX_TILE_BYTES: u64 = 256 * (65_535 + 2);
/// Checkpoints and envelopes are small; a megabyte is generous.
const MAX_SMALL_BYTES: u64 = 1 << 20;

/// A log read over HTTP.
#[derive(Debug)]
pub struct HttpLog {
    base: String,
    agent: ureq::Agent,
}

impl HttpLog {
    /// A log whose tlog-tiles prefix is `base` (`http://` or `https://`, with or without a
    /// trailing slash).
    pub fn new(base: &str) -> Result<Self, StorageError> {
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(StorageError::Remote {
                url: base.to_owned(),
                message: "not an http:// or https:// URL".to_owned(),
            });
        }
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .user_agent(concat!("iotmark/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            agent,
        })
    }

    /// The prefix URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn get(&self, rel: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let url = format!("{}/{rel}", self.base);
        let remote = |message: String| StorageError::Remote {
            url: url.clone(),
            message,
        };
        let response = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| remote(e.to_string()))?;
        match response.status().as_u16() {
            200 => {}
            404 | 410 => return Ok(None),
            code => return Err(remote(format!("HTTP status {code}, expected 200 or 404"))),
        }
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| remote(format!("reading the body: {e}")))?;
        if body.len() as u64 > limit {
            return Err(remote(format!("the response is larger than {limit} bytes")));
        }
        Ok(Some(body))
    }

    fn read_only(&self) -> StorageError {
        StorageError::ReadOnly {
            what: self.base.clone(),
        }
    }
}

impl Storage for HttpLog {
    fn read_tile(&self, kind: TileKind, id: TileId) -> Result<Option<Vec<u8>>, StorageError> {
        self.get(&id.path(kind), MAX_TILE_BYTES)
    }

    fn write_tile(&self, _: TileKind, _: TileId, _: &[u8], _: bool) -> Result<(), StorageError> {
        Err(self.read_only())
    }

    fn read_checkpoint(&self) -> Result<Option<Vec<u8>>, StorageError> {
        self.get("checkpoint", MAX_SMALL_BYTES)
    }

    fn write_checkpoint(&self, _: &[u8]) -> Result<(), StorageError> {
        Err(self.read_only())
    }

    fn read_envelope(&self, digest: &Hash) -> Result<Option<Vec<u8>>, StorageError> {
        let h = merkle::hex(digest);
        self.get(&format!("envelopes/{}/{h}", &h[..2]), MAX_SMALL_BYTES)
    }

    fn write_envelope(&self, _: &Hash, _: &[u8]) -> Result<(), StorageError> {
        Err(self.read_only())
    }
}
