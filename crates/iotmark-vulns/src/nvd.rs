//! NVD CVE JSON 2.0: a yearly feed (`nvdcve-2.0-2024.json`, plain or gzip), a page of the
//! CVE API (the same shape), a single `{"cve": …}` record or the bare `cve` object as the
//! fkie-cad mirror stores it, read into [`Advisory`]s with their CPE configurations.
//!
//! A yearly feed is hundreds of megabytes, so it is streamed: each element of
//! `vulnerabilities` is parsed on its own (at most [`MAX_RECORD_BYTES`] of JSON) and handed
//! to the caller before the next is read. A record whose JSON is valid but whose content is
//! not (a missing ID, a configuration of the wrong type) is skipped and reported by its
//! pointer and CVE ID; broken JSON stops the feed with its line and column, because nothing
//! after it can be trusted to be where it seems.

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::rc::Rc;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::{Read as Records, ReadError};
use crate::feed_value::{At, add_references, base_score, english, push_unique, rating_word};
use crate::model::{
    Advisory, Applicability, Bound, Bounds, Configuration, CpeMatch, Cvss, CvssVersion, Node,
    Operator, Rating, Source,
};

/// The largest single record accepted, in bytes of JSON. The largest NVD records (CPE lists
/// of every affected router model) are a few megabytes; a record past this is an attack or
/// a broken file, and would otherwise be held in memory whole.
pub const MAX_RECORD_BYTES: u64 = 64 << 20;

/// What reading a feed gave, besides the records handed to the callback.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedSummary {
    /// Records read and handed on.
    pub read: usize,
    /// Records skipped, each with its pointer (`/vulnerabilities/12`) and reason.
    pub skipped: Vec<ReadError>,
    /// The feed's own `timestamp`, when it has one (a single record has none).
    pub timestamp: Option<jiff::Timestamp>,
}

/// Reads a feed, API page or single record from `reader` (gzip-compressed or not), calling
/// `on_record` with each advisory as it is read.
pub fn read_feed(
    name: &str,
    reader: impl Read,
    on_record: impl FnMut(Advisory),
) -> Result<FeedSummary, ReadError> {
    read_feed_limited(name, reader, MAX_RECORD_BYTES, on_record)
}

/// [`read_feed`] with another cap on the JSON of one record.
pub fn read_feed_limited(
    name: &str,
    reader: impl Read,
    max_record_bytes: u64,
    mut on_record: impl FnMut(Advisory),
) -> Result<FeedSummary, ReadError> {
    let mut buffered = BufReader::new(reader);
    let head = buffered
        .fill_buf()
        .map_err(|e| ReadError::new(name, "offset 0", format!("cannot read: {e}")))?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let counter = Rc::new(Cell::new(0u64));
    let mark = Rc::new(Cell::new(0u64));
    let source: Box<dyn Read> = if gzip {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    // Counted below the buffer serde_json reads from, so counting costs one call per block;
    // the cap is exact to within one block.
    let counted = BufReader::with_capacity(
        8 << 10,
        Counted {
            inner: source,
            read: Rc::clone(&counter),
            record_start: Rc::clone(&mark),
            limit: max_record_bytes,
        },
    );
    let mut state = State {
        name,
        on_record: &mut on_record,
        summary: FeedSummary::default(),
        record_start: mark,
        position: counter,
        not_nvd: false,
    };
    let mut de = serde_json::Deserializer::from_reader(counted);
    de.deserialize_map(TopLevel { state: &mut state })
        .and_then(|()| de.end())
        .map_err(|e| {
            let mut error = ReadError::json(name, "", &e);
            if e.is_io() {
                // Where the stream broke, in the (decompressed) JSON.
                error.place = format!("line {} column {}", e.line(), e.column());
            }
            if e.is_io() && error.message.contains(LARGER_THAN) {
                error.with_hint("no NVD record is this large: the file is not NVD data")
            } else if gzip && e.is_io() {
                error.with_hint("the gzip stream is damaged or truncated")
            } else {
                error.with_hint("an NVD CVE JSON 2.0 feed, API response or record")
            }
        })?;
    if state.not_nvd {
        // Some other JSON document: nothing in it could be read, which is not a feed with
        // no records.
        return Err(ReadError::new(
            name,
            "/",
            "neither \"vulnerabilities\", \"cve\" nor a CVE \"id\" is present",
        )
        .with_hint("an NVD CVE JSON 2.0 feed, API response or record"));
    }
    Ok(state.summary)
}

/// Reads a feed or record held in memory, keeping every advisory.
pub fn read(name: &str, bytes: &[u8]) -> Result<Records<Advisory>, ReadError> {
    let mut records = Vec::new();
    let summary = read_feed(name, bytes, |a| records.push(a))?;
    Ok(Records {
        records,
        skipped: summary.skipped,
    })
}

/// The words of the error a record past the cap gives.
const LARGER_THAN: &str = "a record is larger than";

/// Counts bytes so that one record cannot grow past the limit.
struct Counted<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    record_start: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let now = self.read.get().saturating_add(n as u64);
        self.read.set(now);
        if now.saturating_sub(self.record_start.get()) > self.limit {
            return Err(std::io::Error::other(format!(
                "{LARGER_THAN} {} bytes",
                self.limit
            )));
        }
        Ok(n)
    }
}

struct State<'s> {
    name: &'s str,
    on_record: &'s mut dyn FnMut(Advisory),
    summary: FeedSummary,
    record_start: Rc<Cell<u64>>,
    position: Rc<Cell<u64>>,
    /// The document has none of the shapes NVD JSON 2.0 comes in.
    not_nvd: bool,
}

impl State<'_> {
    fn take(&mut self, pointer: &str, value: &Value) {
        match advisory(self.name, pointer, value) {
            Ok(advisory) => {
                self.summary.read += 1;
                (self.on_record)(advisory);
            }
            Err(mut error) => {
                // The CVE ID, when readable, tells the user which record without counting.
                let id = value
                    .pointer("/cve/id")
                    .or_else(|| value.get("id"))
                    .and_then(Value::as_str);
                if let Some(id) = id {
                    error.message = format!("{id}: {}", error.message);
                }
                self.summary.skipped.push(error);
            }
        }
    }
}

/// The top-level object: feed/API page metadata and `vulnerabilities`, `{"cve": …}`, or the
/// members of a bare record.
struct TopLevel<'a, 's> {
    state: &'a mut State<'s>,
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an NVD CVE JSON 2.0 object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut bare = serde_json::Map::new();
        let mut container = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "vulnerabilities" => {
                    container = true;
                    map.next_value_seed(VulnerabilityArray {
                        state: &mut *self.state,
                    })?;
                }
                "cve" => {
                    container = true;
                    self.state.record_start.set(self.state.position.get());
                    let value: Value = map.next_value()?;
                    self.state.take(
                        "",
                        &Value::Object(std::iter::once(("cve".to_owned(), value)).collect()),
                    );
                }
                "timestamp" => {
                    let value: Value = map.next_value()?;
                    self.state.summary.timestamp =
                        value.as_str().and_then(crate::feed_value::parse_timestamp);
                }
                _ if container => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    let value: Value = map.next_value()?;
                    bare.insert(key, value);
                }
            }
        }
        if !container {
            if bare.contains_key("id") {
                self.state.take("", &Value::Object(bare));
            } else {
                self.state.not_nvd = true;
            }
        }
        Ok(())
    }
}

/// The `vulnerabilities` array, one element at a time.
struct VulnerabilityArray<'a, 's> {
    state: &'a mut State<'s>,
}

impl<'de> DeserializeSeed<'de> for VulnerabilityArray<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for VulnerabilityArray<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of {\"cve\": …} records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            self.state.record_start.set(self.state.position.get());
            let Some(value) = seq.next_element::<Value>()? else {
                return Ok(());
            };
            self.state
                .take(&format!("/vulnerabilities/{index}"), &value);
            index += 1;
        }
    }
}

/// One element of `vulnerabilities` (`{"cve": {…}}`) or a bare `cve` object.
fn advisory(file: &str, pointer: &str, value: &Value) -> Result<Advisory, ReadError> {
    let item = At::root(file, pointer, value);
    match item.get("cve")? {
        Some(cve) => cve_object(cve.at()),
        None => cve_object(item),
    }
}

fn cve_object(cve: At<'_, '_>) -> Result<Advisory, ReadError> {
    let id = cve.required_str("id")?;
    let mut advisory = Advisory {
        id: id.to_owned(),
        source: Source::Nvd,
        aliases: Vec::new(),
        publisher: cve.str("sourceIdentifier")?.map(str::to_owned),
        published: cve.timestamp("published")?,
        modified: cve.timestamp("lastModified")?,
        withdrawn: cve.str("vulnStatus")? == Some("Rejected"),
        summary: english(&cve.array("descriptions")?, "value")?
            .unwrap_or_default()
            .into(),
        severities: Vec::new(),
        weaknesses: Vec::new(),
        references: Vec::new(),
        applies_to: Vec::new(),
    };
    if let Some(metrics) = cve.get("metrics")? {
        advisory.severities = severities(metrics.at())?;
    }
    for weakness in cve.array("weaknesses")? {
        for description in weakness.at().array("description")? {
            let text = description.at().required_str("value")?;
            // NVD-CWE-noinfo and NVD-CWE-Other are NVD's words for "no CWE".
            if text.starts_with("CWE-") {
                push_unique(&mut advisory.weaknesses, text);
            }
        }
    }
    add_references(cve, &mut advisory.references)?;
    for configuration in cve.array("configurations")? {
        advisory
            .applies_to
            .push(Applicability::Configuration(self::configuration(
                configuration.at(),
            )?));
    }
    Ok(advisory)
}

/// `metrics`: every score NVD and the CNAs gave, primary scores first and the newest CVSS
/// version first among equals, since the matcher reports the first.
fn severities(metrics: At<'_, '_>) -> Result<Vec<Cvss>, ReadError> {
    let mut scored = Vec::new();
    for (key, version) in [
        ("cvssMetricV40", CvssVersion::V40),
        ("cvssMetricV31", CvssVersion::V31),
        ("cvssMetricV30", CvssVersion::V30),
        ("cvssMetricV2", CvssVersion::V2),
    ] {
        for metric in metrics.array(key)? {
            let metric = metric.at();
            let data = metric.require("cvssData")?;
            let data = data.at();
            let base_score = base_score(data)?;
            // v3 and v4 carry the severity in cvssData, v2 beside it.
            let severity = match data.str("baseSeverity")? {
                Some(s) => Some(s),
                None => metric.str("baseSeverity")?,
            };
            let rating = match severity {
                None if version == CvssVersion::V2 => crate::cvss::v2_rating(base_score),
                None => Rating::of_score(base_score),
                Some(word) => rating_word(Some(word))
                    .ok_or_else(|| data.error(format!("unknown baseSeverity \"{word}\"")))?,
            };
            let primary = metric.str("type")? != Some("Secondary");
            scored.push((
                !primary,
                Cvss {
                    version,
                    vector: data.required_str("vectorString")?.into(),
                    base_score,
                    rating,
                    scored_by: metric.str("source")?.map(Into::into),
                },
            ));
        }
    }
    // Stable: the version order above is kept among primaries and among secondaries.
    scored.sort_by_key(|(secondary, _)| *secondary);
    Ok(scored.into_iter().map(|(_, cvss)| cvss).collect())
}

fn operator(at: At<'_, '_>) -> Result<Operator, ReadError> {
    match at.str("operator")? {
        None | Some("OR") => Ok(Operator::Or),
        Some("AND") => Ok(Operator::And),
        Some(other) => Err(at
            .error_at("operator", format!("unknown operator \"{other}\""))
            .with_hint("NVD uses \"AND\" or \"OR\"")),
    }
}

fn configuration(at: At<'_, '_>) -> Result<Configuration, ReadError> {
    let mut nodes = Vec::new();
    for node in at.array("nodes")? {
        let node = node.at();
        let mut matches = Vec::new();
        for m in node.array("cpeMatch")? {
            matches.push(cpe_match(m.at())?);
        }
        nodes.push(Node {
            operator: operator(node)?,
            negate: node.bool("negate")?.unwrap_or(false),
            matches,
        });
    }
    if nodes.is_empty() {
        return Err(at.error("a configuration without nodes"));
    }
    Ok(Configuration {
        operator: operator(at)?,
        negate: at.bool("negate")?.unwrap_or(false),
        nodes,
    })
}

fn cpe_match(at: At<'_, '_>) -> Result<CpeMatch, ReadError> {
    let criteria = at.required_str("criteria")?;
    if !criteria.starts_with("cpe:2.3:") {
        return Err(at.error_at("criteria", format!("\"{criteria}\" is not a CPE 2.3 name")));
    }
    let bound = |including: &str, excluding: &str| -> Result<Option<Bound>, ReadError> {
        match (at.str(including)?, at.str(excluding)?) {
            (Some(_), Some(_)) => {
                Err(at.error(format!("both {including} and {excluding} are given")))
            }
            (Some(v), None) => Ok(Some(Bound {
                version: v.to_owned(),
                inclusive: true,
            })),
            (None, Some(v)) => Ok(Some(Bound {
                version: v.to_owned(),
                inclusive: false,
            })),
            (None, None) => Ok(None),
        }
    };
    Ok(CpeMatch {
        criteria: criteria.to_owned(),
        vulnerable: at.require("vulnerable")?.at().as_bool()?,
        bounds: Bounds {
            start: bound("versionStartIncluding", "versionStartExcluding")?,
            end: bound("versionEndIncluding", "versionEndExcluding")?,
        },
    })
}

/// Fuzzing entry point: any bytes as a feed, never a panic.
#[doc(hidden)]
pub fn fuzz_read(bytes: &[u8]) {
    let _ = read("fuzz", bytes);
}
