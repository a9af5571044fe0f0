use std::collections::BTreeMap;
use std::sync::OnceLock;

use iotmark_oscal::model::catalog::ControlRef;
use iotmark_oscal::{Catalog, Control, Group, MappingCollection};

use crate::crosswalk::Crosswalk;
use crate::landscape::Landscape;

pub(crate) mod files {
    include!(concat!(env!("OUT_DIR"), "/bundled.rs"));
}

/// The namespace of iotmark's own OSCAL properties.
pub const NS: &str = "https://iotmark.dev/ns/oscal";

/// The key under which mappings refer to NIST SP 800-53 Rev. 5, which is not bundled.
pub const SP800_53_KEY: &str = "sp800-53";

/// A bundled file that does not parse. Tests keep this from shipping; the variant exists so a
/// broken build reports the file instead of panicking.
#[derive(Debug, Clone, thiserror::Error)]
#[error("bundled file catalogs/{dir}/{key}.json is invalid: {message}")]
pub struct BundleError {
    pub dir: &'static str,
    pub key: String,
    pub message: String,
}

/// One bundled catalog.
#[derive(Debug)]
pub struct BundledCatalog {
    /// The short name used on the command line (`en303645`).
    pub key: String,
    pub catalog: Catalog,
    /// The file's JSON text as shipped, for byte-exact export.
    pub source: &'static str,
}

impl BundledCatalog {
    /// How many controls carry this class.
    pub fn count_class(&self, class: &str) -> usize {
        self.catalog
            .controls()
            .iter()
            .filter(|c| c.class.as_deref() == Some(class))
            .count()
    }

    /// A property in iotmark's namespace on the catalog's metadata.
    pub fn publication_version(&self) -> Option<&str> {
        self.catalog
            .metadata
            .props
            .iter()
            .find(|p| p.name == "publication-version")
            .map(|p| p.value.as_str())
    }
}

/// One bundled mapping collection.
#[derive(Debug)]
pub struct BundledMapping {
    /// `<source-key>__<target-key>`.
    pub key: String,
    pub source_catalog: String,
    pub target_catalog: String,
    pub collection: MappingCollection,
    pub source: &'static str,
}

/// A control found by ID, with the catalog it belongs to and where it sits.
#[derive(Debug, Clone, Copy)]
pub struct ControlHit<'a> {
    pub catalog: &'a BundledCatalog,
    pub control: &'a Control,
    pub parent: Option<&'a Control>,
}

/// Everything bundled, parsed.
#[derive(Debug)]
pub struct Bundle {
    catalogs: Vec<BundledCatalog>,
    mappings: Vec<BundledMapping>,
    landscape: Option<Landscape>,
    crosswalk: Crosswalk,
    /// Control ID → (catalog index) for lookups.
    index: BTreeMap<String, usize>,
    errors: Vec<BundleError>,
}

impl Bundle {
    /// The bundle, parsed on first use.
    pub fn get() -> &'static Bundle {
        static BUNDLE: OnceLock<Bundle> = OnceLock::new();
        BUNDLE.get_or_init(Bundle::parse)
    }

    fn parse() -> Bundle {
        let mut errors = Vec::new();
        let mut catalogs = Vec::new();
        for (key, text) in files::CATALOG_FILES {
            match parse_root::<Catalog>(text, "catalog") {
                Ok(catalog) => catalogs.push(BundledCatalog {
                    key: (*key).to_owned(),
                    catalog,
                    source: text,
                }),
                Err(message) => errors.push(BundleError {
                    dir: "catalogs",
                    key: (*key).to_owned(),
                    message,
                }),
            }
        }
        let mut mappings = Vec::new();
        for (key, text) in files::MAPPING_FILES {
            match parse_root::<MappingCollection>(text, "mapping-collection") {
                Ok(collection) => {
                    let (source_catalog, target_catalog) = match key.split_once("__") {
                        Some((s, t)) => (s.to_owned(), t.to_owned()),
                        None => {
                            errors.push(BundleError {
                                dir: "mappings",
                                key: (*key).to_owned(),
                                message: "the file name must be <source>__<target>.json".to_owned(),
                            });
                            continue;
                        }
                    };
                    mappings.push(BundledMapping {
                        key: (*key).to_owned(),
                        source_catalog,
                        target_catalog,
                        collection,
                        source: text,
                    });
                }
                Err(message) => errors.push(BundleError {
                    dir: "mappings",
                    key: (*key).to_owned(),
                    message,
                }),
            }
        }
        let landscape = files::LANDSCAPE_FILES
            .iter()
            .find(|(k, _)| *k == "nistir-8200")
            .and_then(|(k, text)| {
                serde_json::from_str::<Landscape>(text)
                    .map_err(|e| {
                        errors.push(BundleError {
                            dir: "landscape",
                            key: (*k).to_owned(),
                            message: e.to_string(),
                        })
                    })
                    .ok()
            });
        let mut index = BTreeMap::new();
        for (i, bundled) in catalogs.iter().enumerate() {
            for control in bundled.catalog.controls() {
                index.insert(control.id.clone(), i);
            }
        }
        let crosswalk = Crosswalk::build(&mappings);
        Bundle {
            catalogs,
            mappings,
            landscape,
            crosswalk,
            index,
            errors,
        }
    }

    pub fn catalogs(&self) -> &[BundledCatalog] {
        &self.catalogs
    }

    pub fn catalog(&self, key: &str) -> Option<&BundledCatalog> {
        self.catalogs.iter().find(|c| c.key == key)
    }

    pub fn mappings(&self) -> &[BundledMapping] {
        &self.mappings
    }

    pub fn landscape(&self) -> Option<&Landscape> {
        self.landscape.as_ref()
    }

    pub fn crosswalk(&self) -> &Crosswalk {
        &self.crosswalk
    }

    /// Bundled files that failed to parse (empty in any tested build).
    pub fn errors(&self) -> &[BundleError] {
        &self.errors
    }

    /// Every catalog key that mappings may name, bundled or not.
    pub fn known_catalog_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.catalogs.iter().map(|c| c.key.as_str()).collect();
        keys.push(SP800_53_KEY);
        keys
    }

    /// The catalog key a control ID belongs to, if any bundled catalog has it.
    pub fn catalog_of(&self, id: &str) -> Option<&str> {
        self.index.get(id).map(|&i| self.catalogs[i].key.as_str())
    }

    /// Finds a control by ID (`en303645-5.1-1`), or by `KEY:LABEL` (`en303645:5.1-1`).
    pub fn find_control(&self, query: &str) -> Option<ControlHit<'_>> {
        if let Some(&i) = self.index.get(query) {
            return self.locate(&self.catalogs[i], |c| c.id == query);
        }
        let (key, label) = query.split_once(':')?;
        let bundled = self.catalog(key)?;
        self.locate(bundled, |c| c.label().eq_ignore_ascii_case(label))
    }

    fn locate<'a>(
        &'a self,
        bundled: &'a BundledCatalog,
        pred: impl Fn(&Control) -> bool,
    ) -> Option<ControlHit<'a>> {
        let mut found: Option<ControlHit<'a>> = None;
        bundled.catalog.walk(|r: ControlRef<'a, '_>| {
            if found.is_none() && pred(r.control) {
                found = Some(ControlHit {
                    catalog: bundled,
                    control: r.control,
                    parent: r.parent,
                });
            }
        });
        found
    }

    /// The groups enclosing a control, outermost first.
    pub fn groups_of<'a>(&'a self, hit: &ControlHit<'a>) -> Vec<&'a Group> {
        let mut chain = Vec::new();
        fn contains(list: &[Control], id: &str) -> bool {
            list.iter().any(|c| c.id == id || contains(&c.controls, id))
        }
        fn rec<'a>(groups: &'a [Group], id: &str, chain: &mut Vec<&'a Group>) -> bool {
            for g in groups {
                chain.push(g);
                if contains(&g.controls, id) || rec(&g.groups, id, chain) {
                    return true;
                }
                chain.pop();
            }
            false
        }
        rec(&hit.catalog.catalog.groups, &hit.control.id, &mut chain);
        chain
    }
}

fn parse_root<T: serde::de::DeserializeOwned>(text: &str, root: &str) -> Result<T, String> {
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let inner = value
        .get_mut(root)
        .map(serde_json::Value::take)
        .ok_or_else(|| format!("no \"{root}\" root"))?;
    serde_json::from_value(inner).map_err(|e| e.to_string())
}
