//! Profile resolution: turning a profile into the catalog it describes.
//!
//! Follows the phases of NIST's OSCAL profile-resolution specification:
//!
//! 1. **Import.** Each `import` is loaded (a catalog, or a profile resolved recursively) and
//!    its controls are selected with `include-all` / `include-controls` (`with-ids`,
//!    `matching` globs, `with-child-controls`) minus `exclude-controls`.
//! 2. **Merge.** Duplicate controls (the same ID from two imports) are combined by keeping
//!    the first. Structure is `as-is` (the source groups and parent controls, pruned to
//!    what was selected and its ancestors),
//!    `flat` (no groups), or `custom` (the profile's own groups filled by `insert-controls`).
//!    A profile without a `merge` directive resolves flat.
//! 3. **Modify.** `set-parameters` replace the given fields of a parameter (props and links
//!    are added); `alters` remove by name, class, ID, item name and namespace, and add
//!    content at a position relative to the control or one of its parts.
//! 4. **Finish.** New metadata (the profile's title and version, a `resolution-timestamp`
//!    prop and a `source-profile` link) and the back-matter resources still referenced.
//!
//! Deliberately not done: `depends-on` (deprecated), and resolving `href`s over the network
//! (iotmark never downloads at run time; map such hrefs to local files with
//! [`Resolver::map_href`]).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::document::{Document, Loader};
use crate::error::LoadError;
use crate::model::catalog::{Catalog, Control, Group};
use crate::model::control::{Parameter, Part, SelectControlById, YesNo};
use crate::model::metadata::{BackMatter, Link, Metadata, Property, Resource};
use crate::model::profile::{
    Add, Alter, InsertControls, InsertOrder, ItemName, Position, Profile, ProfileGroup, Remove,
    SetParameter,
};

/// Why a profile could not be resolved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("{profile}: import \"{href}\" cannot be found (looked for {tried})\nhint: {hint}")]
    MissingImport {
        profile: String,
        href: String,
        tried: String,
        hint: String,
    },
    #[error(
        "{profile}: import \"{href}\" refers to back-matter resource {uuid}, which has no usable rlink\nhint: add an rlink with the catalog's path, or map the href with --map"
    )]
    UnusableResource {
        profile: String,
        href: String,
        uuid: String,
    },
    #[error("circular import: {}\nhint: a profile must not import itself, directly or through other profiles", chain.join(" → "))]
    Cycle { chain: Vec<String> },
    #[error("{href}: a {found} cannot be imported by a profile; only catalogs and profiles can")]
    NotImportable { href: String, found: &'static str },
    #[error("profiles nest deeper than {limit} levels at {href}")]
    TooDeep { href: String, limit: usize },
}

/// A resolved catalog and what the resolver noticed along the way.
#[derive(Debug, Clone)]
pub struct Resolution {
    pub catalog: Catalog,
    /// Problems that do not stop resolution: unknown parameter or control IDs in `modify`,
    /// selections that matched nothing, duplicate controls.
    pub warnings: Vec<String>,
}

/// Resolves profiles, loading imports from disk or from documents handed in beforehand.
#[derive(Debug, Clone)]
pub struct Resolver {
    loader: Loader,
    mapped: HashMap<String, PathBuf>,
    preloaded: HashMap<String, Document>,
    max_depth: usize,
    timestamp: String,
}

impl Default for Resolver {
    fn default() -> Self {
        Self::new(Loader::default())
    }
}

/// Where an import was found, used to detect cycles and to resolve relative hrefs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Origin {
    File(PathBuf),
    Preloaded(String),
}

impl Origin {
    fn name(&self) -> String {
        match self {
            Origin::File(p) => p.display().to_string(),
            Origin::Preloaded(k) => k.clone(),
        }
    }
}

impl Resolver {
    pub fn new(loader: Loader) -> Self {
        Self {
            loader,
            mapped: HashMap::new(),
            preloaded: HashMap::new(),
            max_depth: 32,
            timestamp: now_rfc3339(),
        }
    }

    /// Resolves imports of `href` (exactly as written in the profile, or the href of an rlink
    /// it points to) from `path` instead.
    pub fn map_href(&mut self, href: impl Into<String>, path: impl Into<PathBuf>) -> &mut Self {
        self.mapped.insert(href.into(), path.into());
        self
    }

    /// Makes a document available to imports whose href equals `href`.
    pub fn preload(&mut self, href: impl Into<String>, document: Document) -> &mut Self {
        self.preloaded.insert(href.into(), document);
        self
    }

    /// Sets the `resolution-timestamp` (RFC 3339), for reproducible output.
    pub fn timestamp(&mut self, timestamp: impl Into<String>) -> &mut Self {
        self.timestamp = timestamp.into();
        self
    }

    /// Resolves the profile in the file at `path`. A catalog resolves to itself.
    pub fn resolve_path(&self, path: &Path) -> Result<Resolution, ResolveError> {
        match self.loader.load_path(path)? {
            Document::Profile(p) => self.resolve_profile(&p, &Origin::File(canonical(path))),
            Document::Catalog(c) => Ok(Resolution {
                catalog: *c,
                warnings: Vec::new(),
            }),
            other => Err(ResolveError::NotImportable {
                href: path.display().to_string(),
                found: other.kind().root_key(),
            }),
        }
    }

    /// Resolves an in-memory profile; relative hrefs are taken relative to `base_dir`.
    pub fn resolve(&self, profile: &Profile, base_dir: &Path) -> Result<Resolution, ResolveError> {
        self.resolve_profile(profile, &Origin::File(base_dir.join("(profile)")))
    }

    fn resolve_profile(
        &self,
        profile: &Profile,
        origin: &Origin,
    ) -> Result<Resolution, ResolveError> {
        let mut state = State {
            stack: vec![origin.clone()],
            warnings: Vec::new(),
        };
        let catalog = self.resolve_inner(profile, origin, &mut state)?;
        Ok(Resolution {
            catalog,
            warnings: state.warnings,
        })
    }

    fn resolve_inner(
        &self,
        profile: &Profile,
        origin: &Origin,
        state: &mut State,
    ) -> Result<Catalog, ResolveError> {
        if state.stack.len() > self.max_depth {
            return Err(ResolveError::TooDeep {
                href: origin.name(),
                limit: self.max_depth,
            });
        }
        // Phase 1: import and select.
        let mut selected: Vec<Selected> = Vec::new();
        let mut seen_ids: HashSet<String> = HashSet::new();
        let mut sources: Vec<Catalog> = Vec::new();
        for import in &profile.imports {
            let (source_origin, document) = self.load_import(profile, origin, &import.href)?;
            let catalog = match document {
                Document::Catalog(c) => *c,
                Document::Profile(p) => {
                    if state.stack.contains(&source_origin) {
                        let mut chain: Vec<String> = state.stack.iter().map(Origin::name).collect();
                        chain.push(source_origin.name());
                        return Err(ResolveError::Cycle { chain });
                    }
                    state.stack.push(source_origin.clone());
                    let resolved = self.resolve_inner(&p, &source_origin, state)?;
                    state.stack.pop();
                    resolved
                }
                other => {
                    return Err(ResolveError::NotImportable {
                        href: import.href.clone(),
                        found: other.kind().root_key(),
                    });
                }
            };
            let all_ids: Vec<String> = catalog.controls().iter().map(|c| c.id.clone()).collect();
            let include = match (&import.include_all, import.include_controls.is_empty()) {
                (Some(_), _) => Selection::all(&catalog),
                (None, false) => Selection::from_selectors(
                    &catalog,
                    &import.include_controls,
                    &import.href,
                    &mut state.warnings,
                ),
                (None, true) => Selection::default(),
            };
            let exclude = Selection::from_selectors(
                &catalog,
                &import.exclude_controls,
                &import.href,
                &mut state.warnings,
            );
            let chosen: HashSet<String> = include.ids.difference(&exclude.ids).cloned().collect();
            for id in all_ids.iter().filter(|id| chosen.contains(*id)) {
                if !seen_ids.insert(id.clone()) {
                    state.warnings.push(format!(
                        "control {id} is imported more than once; the first import wins"
                    ));
                }
            }
            selected.push(Selected {
                source: sources.len(),
                ids: chosen,
            });
            sources.push(catalog);
        }

        // Phase 2: merge.
        let merge = profile.merge.clone().unwrap_or_default();
        let mut taken: HashSet<String> = HashSet::new();
        let mut catalog_params: Vec<Parameter> = Vec::new();
        let (controls, groups) = if merge.as_is == Some(true) {
            let mut groups = Vec::new();
            let mut controls = Vec::new();
            for sel in &selected {
                let source = &sources[sel.source];
                controls.extend(prune_controls(&source.controls, &sel.ids, &mut taken, true));
                groups.extend(prune_groups(&source.groups, &sel.ids, &mut taken));
                catalog_params.extend(source.params.iter().cloned());
            }
            (controls, groups)
        } else {
            let mut pool: Vec<Control> = Vec::new();
            for sel in &selected {
                let source = &sources[sel.source];
                let mut flat = Vec::new();
                flatten_selected(source, &sel.ids, &mut taken, &mut flat);
                pool.extend(flat);
                catalog_params.extend(source.params.iter().cloned());
            }
            match &merge.custom {
                Some(custom) => {
                    let mut placed = HashSet::new();
                    let groups = custom
                        .groups
                        .iter()
                        .map(|g| custom_group(g, &pool, &mut placed, &mut state.warnings))
                        .collect();
                    let controls = insert_controls(
                        &custom.insert_controls,
                        &pool,
                        &mut placed,
                        &mut state.warnings,
                    );
                    (controls, groups)
                }
                None => (pool, Vec::new()),
            }
        };

        let mut catalog = Catalog {
            uuid: uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!("iotmark:resolved:{}", profile.uuid).as_bytes(),
            )
            .to_string(),
            metadata: resolved_metadata(&profile.metadata, &origin.name(), &self.timestamp),
            params: catalog_params,
            controls,
            groups,
            back_matter: None,
        };

        // Phase 3: modify.
        if let Some(modify) = &profile.modify {
            for set in &modify.set_parameters {
                if !set_parameter(&mut catalog, set) {
                    state.warnings.push(format!(
                        "set-parameter: no parameter \"{}\" among the selected controls",
                        set.param_id
                    ));
                }
            }
            for alter in &modify.alters {
                match find_control_mut(&mut catalog, &alter.control_id) {
                    Some(control) => apply_alter(control, alter, &mut state.warnings),
                    None => state.warnings.push(format!(
                        "alter: control \"{}\" is not among the selected controls",
                        alter.control_id
                    )),
                }
            }
        }

        // Phase 4: back-matter, keeping what the result still refers to.
        catalog.back_matter = referenced_back_matter(&catalog, &sources, profile);
        Ok(catalog)
    }

    fn load_import(
        &self,
        profile: &Profile,
        origin: &Origin,
        href: &str,
    ) -> Result<(Origin, Document), ResolveError> {
        let profile_name = origin.name();
        // "#uuid" points into the profile's back-matter; try each rlink in turn, JSON first.
        let candidates: Vec<String> = match href.strip_prefix('#') {
            Some(uuid) => {
                let resource = profile
                    .back_matter
                    .as_ref()
                    .and_then(|b| b.resource(uuid))
                    .ok_or_else(|| ResolveError::MissingImport {
                        profile: profile_name.clone(),
                        href: href.to_owned(),
                        tried: "the profile's back-matter".to_owned(),
                        hint: format!("add a back-matter resource with uuid {uuid}"),
                    })?;
                let mut links: Vec<&str> =
                    resource.rlinks.iter().map(|l| l.href.as_str()).collect();
                links.sort_by_key(|h| {
                    if h.ends_with(".json") {
                        0
                    } else if h.ends_with(".yaml") || h.ends_with(".yml") {
                        1
                    } else {
                        2
                    }
                });
                if links.is_empty()
                    && !self.mapped.contains_key(href)
                    && !self.preloaded.contains_key(href)
                {
                    return Err(ResolveError::UnusableResource {
                        profile: profile_name,
                        href: href.to_owned(),
                        uuid: uuid.to_owned(),
                    });
                }
                std::iter::once(href.to_owned())
                    .chain(links.into_iter().map(str::to_owned))
                    .collect()
            }
            None => vec![href.to_owned()],
        };
        let mut tried = Vec::new();
        for candidate in &candidates {
            if let Some(doc) = self.preloaded.get(candidate) {
                return Ok((Origin::Preloaded(candidate.clone()), doc.clone()));
            }
            if let Some(path) = self.mapped.get(candidate) {
                return Ok((Origin::File(canonical(path)), self.loader.load_path(path)?));
            }
            if candidate.starts_with('#') {
                continue;
            }
            if candidate.contains("://") {
                tried.push(format!("{candidate} (remote; not fetched)"));
                continue;
            }
            let path = match origin {
                Origin::File(p) => p.parent().unwrap_or(Path::new(".")).join(candidate),
                Origin::Preloaded(_) => PathBuf::from(candidate),
            };
            if path.is_file() {
                return Ok((
                    Origin::File(canonical(&path)),
                    self.loader.load_path(&path)?,
                ));
            }
            tried.push(path.display().to_string());
        }
        Err(ResolveError::MissingImport {
            profile: profile_name,
            href: href.to_owned(),
            tried: tried.join(", "),
            hint: format!("put the imported document at that path, or map it: --map '{href}=PATH'"),
        })
    }
}

struct State {
    stack: Vec<Origin>,
    warnings: Vec<String>,
}

struct Selected {
    source: usize,
    ids: HashSet<String>,
}

#[derive(Default)]
struct Selection {
    ids: HashSet<String>,
}

impl Selection {
    fn all(catalog: &Catalog) -> Self {
        Self {
            ids: catalog.controls().iter().map(|c| c.id.clone()).collect(),
        }
    }

    fn from_selectors(
        catalog: &Catalog,
        selectors: &[SelectControlById],
        href: &str,
        warnings: &mut Vec<String>,
    ) -> Self {
        let mut ids = HashSet::new();
        let all = catalog.controls();
        let known: HashSet<&str> = all.iter().map(|c| c.id.as_str()).collect();
        for selector in selectors {
            let with_children = selector.with_child_controls == Some(YesNo::Yes);
            let hit = |control: &Control, ids: &mut HashSet<String>| {
                ids.insert(control.id.clone());
                if with_children {
                    descendants(control, ids);
                }
            };
            for id in &selector.with_ids {
                match all.iter().find(|c| &c.id == id) {
                    Some(control) => hit(control, &mut ids),
                    None => warnings.push(format!("{href}: with-id \"{id}\" matches no control")),
                }
            }
            for matching in &selector.matching {
                let Some(pattern) = &matching.pattern else {
                    continue;
                };
                let before = ids.len();
                for control in all.iter().filter(|c| glob_match(pattern, &c.id)) {
                    hit(control, &mut ids);
                }
                if ids.len() == before && !known.iter().any(|id| glob_match(pattern, id)) {
                    warnings.push(format!(
                        "{href}: matching pattern \"{pattern}\" matches no control"
                    ));
                }
            }
        }
        Self { ids }
    }
}

fn descendants(control: &Control, ids: &mut HashSet<String>) {
    for child in &control.controls {
        ids.insert(child.id.clone());
        descendants(child, ids);
    }
}

/// Glob matching as OSCAL's `matching/@pattern` uses it: `*` any run, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Keeps selected controls in place. An unselected control with selected descendants is kept
/// as their container when `keep_ancestors` (the `as-is` structure, as NIST's own resolver
/// does); otherwise it disappears and its selected descendants take its place. Either way
/// nothing selected is lost because its parent was left out.
fn prune_controls(
    list: &[Control],
    ids: &HashSet<String>,
    taken: &mut HashSet<String>,
    keep_ancestors: bool,
) -> Vec<Control> {
    let mut out = Vec::new();
    for control in list {
        let children = prune_controls(&control.controls, ids, taken, keep_ancestors);
        let wanted = ids.contains(&control.id) || (keep_ancestors && !children.is_empty());
        if wanted && taken.insert(control.id.clone()) {
            let mut kept = control.clone();
            kept.controls = children;
            out.push(kept);
        } else {
            out.extend(children);
        }
    }
    out
}

fn prune_groups(list: &[Group], ids: &HashSet<String>, taken: &mut HashSet<String>) -> Vec<Group> {
    let mut out = Vec::new();
    for group in list {
        let controls = prune_controls(&group.controls, ids, taken, true);
        let groups = prune_groups(&group.groups, ids, taken);
        if !controls.is_empty() || !groups.is_empty() {
            let mut kept = group.clone();
            kept.controls = controls;
            kept.groups = groups;
            out.push(kept);
        }
    }
    out
}

/// Selected controls without groups, in document order; child controls stay nested.
fn flatten_selected(
    catalog: &Catalog,
    ids: &HashSet<String>,
    taken: &mut HashSet<String>,
    out: &mut Vec<Control>,
) {
    out.extend(prune_controls(&catalog.controls, ids, taken, false));
    fn groups(
        list: &[Group],
        ids: &HashSet<String>,
        taken: &mut HashSet<String>,
        out: &mut Vec<Control>,
    ) {
        for g in list {
            out.extend(prune_controls(&g.controls, ids, taken, false));
            groups(&g.groups, ids, taken, out);
        }
    }
    groups(&catalog.groups, ids, taken, out);
}

fn custom_group(
    group: &ProfileGroup,
    pool: &[Control],
    placed: &mut HashSet<String>,
    warnings: &mut Vec<String>,
) -> Group {
    Group {
        id: group.id.clone(),
        class: group.class.clone(),
        title: group.title.clone(),
        params: group.params.clone(),
        props: group.props.clone(),
        links: group.links.clone(),
        parts: group.parts.clone(),
        groups: group
            .groups
            .iter()
            .map(|g| custom_group(g, pool, placed, warnings))
            .collect(),
        controls: insert_controls(&group.insert_controls, pool, placed, warnings),
    }
}

/// Places top-level pool controls chosen by `insert-controls` (each control at most once).
fn insert_controls(
    directives: &[InsertControls],
    pool: &[Control],
    placed: &mut HashSet<String>,
    warnings: &mut Vec<String>,
) -> Vec<Control> {
    let mut out = Vec::new();
    for directive in directives {
        let pool_catalog = Catalog {
            uuid: String::new(),
            metadata: Metadata::new("", "", ""),
            params: Vec::new(),
            controls: pool.to_vec(),
            groups: Vec::new(),
            back_matter: None,
        };
        let include = match (
            &directive.include_all,
            directive.include_controls.is_empty(),
        ) {
            (Some(_), _) => Selection::all(&pool_catalog),
            (None, false) => Selection::from_selectors(
                &pool_catalog,
                &directive.include_controls,
                "insert-controls",
                warnings,
            ),
            (None, true) => Selection::default(),
        };
        let exclude = Selection::from_selectors(
            &pool_catalog,
            &directive.exclude_controls,
            "insert-controls",
            warnings,
        );
        let mut chosen: Vec<Control> = pool
            .iter()
            .filter(|c| {
                include.ids.contains(&c.id)
                    && !exclude.ids.contains(&c.id)
                    && placed.insert(c.id.clone())
            })
            .cloned()
            .collect();
        match directive.order {
            Some(InsertOrder::Ascending) => chosen.sort_by(|a, b| natural_cmp(&a.id, &b.id)),
            Some(InsertOrder::Descending) => chosen.sort_by(|a, b| natural_cmp(&b.id, &a.id)),
            Some(InsertOrder::Keep) | None => {}
        }
        out.extend(chosen);
    }
    out
}

/// Compares IDs so that `ac-2` sorts before `ac-10`.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, String)> {
        let mut out: Vec<(bool, String)> = Vec::new();
        for ch in s.chars() {
            let digit = ch.is_ascii_digit();
            match out.last_mut() {
                Some((d, text)) if *d == digit => text.push(ch),
                _ => out.push((digit, ch.to_string())),
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, ta), (db, tb)) in ca.iter().zip(cb.iter()) {
        let ord = if *da && *db {
            ta.trim_start_matches('0')
                .len()
                .cmp(&tb.trim_start_matches('0').len())
                .then_with(|| ta.cmp(tb))
        } else {
            ta.cmp(tb)
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

fn resolved_metadata(source: &Metadata, profile_name: &str, timestamp: &str) -> Metadata {
    let mut metadata = source.clone();
    metadata.last_modified = timestamp.to_owned();
    metadata.oscal_version = crate::OSCAL_VERSION.to_owned();
    metadata
        .props
        .retain(|p| p.name != "resolution-tool" && p.name != "resolution-timestamp");
    metadata
        .props
        .push(Property::new("resolution-timestamp", timestamp));
    metadata.props.push(Property::new(
        "resolution-tool",
        format!("iotmark {}", env!("CARGO_PKG_VERSION")),
    ));
    metadata.links.push(Link {
        href: profile_name.to_owned(),
        rel: Some("source-profile".to_owned()),
        media_type: None,
        resource_fragment: None,
        text: None,
    });
    metadata
}

fn for_each_control_mut(catalog: &mut Catalog, f: &mut dyn FnMut(&mut Control) -> bool) -> bool {
    fn controls(list: &mut [Control], f: &mut dyn FnMut(&mut Control) -> bool) -> bool {
        for c in list {
            if f(c) || controls(&mut c.controls, f) {
                return true;
            }
        }
        false
    }
    fn groups(list: &mut [Group], f: &mut dyn FnMut(&mut Control) -> bool) -> bool {
        for g in list {
            if controls(&mut g.controls, f) || groups(&mut g.groups, f) {
                return true;
            }
        }
        false
    }
    controls(&mut catalog.controls, f) || groups(&mut catalog.groups, f)
}

fn find_control_mut<'a>(catalog: &'a mut Catalog, id: &str) -> Option<&'a mut Control> {
    fn controls<'a>(list: &'a mut [Control], id: &str) -> Option<&'a mut Control> {
        for c in list {
            if c.id == id {
                return Some(c);
            }
            if let Some(found) = controls(&mut c.controls, id) {
                return Some(found);
            }
        }
        None
    }
    fn groups<'a>(list: &'a mut [Group], id: &str) -> Option<&'a mut Control> {
        for g in list {
            if let Some(found) = controls(&mut g.controls, id) {
                return Some(found);
            }
            if let Some(found) = groups(&mut g.groups, id) {
                return Some(found);
            }
        }
        None
    }
    if let Some(found) = controls(&mut catalog.controls, id) {
        return Some(found);
    }
    groups(&mut catalog.groups, id)
}

fn apply_set(param: &mut Parameter, set: &SetParameter) {
    if let Some(class) = &set.class {
        param.class = Some(class.clone());
    }
    if let Some(label) = &set.label {
        param.label = Some(label.clone());
    }
    if let Some(usage) = &set.usage {
        param.usage = Some(usage.clone());
    }
    param.props.extend(set.props.iter().cloned());
    param.links.extend(set.links.iter().cloned());
    if !set.constraints.is_empty() {
        param.constraints = set.constraints.clone();
    }
    if !set.guidelines.is_empty() {
        param.guidelines = set.guidelines.clone();
    }
    // A parameter has values or a selection, never both: setting one clears the other.
    if !set.values.is_empty() {
        param.values = set.values.clone();
        param.select = None;
    }
    if let Some(select) = &set.select {
        param.select = Some(select.clone());
        param.values.clear();
    }
}

fn set_parameter(catalog: &mut Catalog, set: &SetParameter) -> bool {
    if let Some(param) = catalog.params.iter_mut().find(|p| p.id == set.param_id) {
        apply_set(param, set);
        return true;
    }
    fn in_groups(list: &mut [Group], set: &SetParameter) -> bool {
        for g in list {
            if let Some(param) = g.params.iter_mut().find(|p| p.id == set.param_id) {
                apply_set(param, set);
                return true;
            }
            if in_groups(&mut g.groups, set) {
                return true;
            }
        }
        false
    }
    if in_groups(&mut catalog.groups, set) {
        return true;
    }
    for_each_control_mut(catalog, &mut |control| match control
        .params
        .iter_mut()
        .find(|p| p.id == set.param_id)
    {
        Some(param) => {
            apply_set(param, set);
            true
        }
        None => false,
    })
}

fn apply_alter(control: &mut Control, alter: &Alter, warnings: &mut Vec<String>) {
    for remove in &alter.removes {
        let removed = remove_matching(control, remove);
        if removed == 0 {
            warnings.push(format!(
                "alter {}: a remove matched nothing",
                alter.control_id
            ));
        }
    }
    for add in &alter.adds {
        if !apply_add(control, add) {
            warnings.push(format!(
                "alter {}: add target \"{}\" not found",
                alter.control_id,
                add.by_id.as_deref().unwrap_or(&alter.control_id)
            ));
        }
    }
}

/// What a `remove` can match an item of a control by.
struct ItemKey<'a> {
    item: ItemName,
    name: Option<&'a str>,
    class: Option<&'a str>,
    id: Option<&'a str>,
    ns: Option<&'a str>,
}

impl<'a> ItemKey<'a> {
    fn prop(p: &'a Property) -> Self {
        Self {
            item: ItemName::Prop,
            name: Some(&p.name),
            class: p.class.as_deref(),
            id: p.uuid.as_deref(),
            ns: p.ns.as_deref(),
        }
    }

    fn part(p: &'a Part) -> Self {
        Self {
            item: ItemName::Part,
            name: Some(&p.name),
            class: p.class.as_deref(),
            id: p.id.as_deref(),
            ns: p.ns.as_deref(),
        }
    }
}

/// A `remove` matches an item when every criterion it gives matches.
fn removes(remove: &Remove, key: &ItemKey<'_>) -> bool {
    remove.by_item_name.is_none_or(|n| n == key.item)
        && remove
            .by_name
            .as_deref()
            .is_none_or(|n| Some(n) == key.name)
        && remove
            .by_class
            .as_deref()
            .is_none_or(|c| Some(c) == key.class)
        && remove.by_id.as_deref().is_none_or(|i| Some(i) == key.id)
        && remove.by_ns.as_deref().is_none_or(|n| Some(n) == key.ns)
}

/// Removes every matching param, prop, link and part (at any depth); returns how many.
fn remove_matching(control: &mut Control, remove: &Remove) -> usize {
    let before = control.params.len() + control.props.len() + control.links.len();
    control.params.retain(|p| {
        !removes(
            remove,
            &ItemKey {
                item: ItemName::Param,
                name: None,
                class: p.class.as_deref(),
                id: Some(&p.id),
                ns: None,
            },
        )
    });
    control
        .props
        .retain(|p| !removes(remove, &ItemKey::prop(p)));
    control.links.retain(|l| {
        !removes(
            remove,
            &ItemKey {
                item: ItemName::Link,
                name: l.rel.as_deref(),
                class: None,
                id: None,
                ns: None,
            },
        )
    });
    let removed = before - (control.params.len() + control.props.len() + control.links.len());

    fn from_parts(list: &mut Vec<Part>, remove: &Remove) -> usize {
        let before = list.len();
        list.retain(|p| !removes(remove, &ItemKey::part(p)));
        let mut removed = before - list.len();
        for part in list.iter_mut() {
            let before = part.props.len();
            part.props.retain(|p| !removes(remove, &ItemKey::prop(p)));
            removed += before - part.props.len() + from_parts(&mut part.parts, remove);
        }
        removed
    }
    removed + from_parts(&mut control.parts, remove)
}

/// Adds content to the control (no `by-id`, or the control's own ID) or beside/inside one of
/// its parts. Returns false when the target is not there.
fn apply_add(control: &mut Control, add: &Add) -> bool {
    let position = add.position.unwrap_or(Position::Ending);
    let target_is_control = add.by_id.as_deref().is_none_or(|id| id == control.id);
    if target_is_control {
        if let Some(title) = &add.title {
            control.title = title.clone();
        }
        let at_start = matches!(position, Position::Starting | Position::Before);
        splice(&mut control.params, &add.params, at_start);
        splice(&mut control.props, &add.props, at_start);
        splice(&mut control.links, &add.links, at_start);
        splice(&mut control.parts, &add.parts, at_start);
        return true;
    }
    let Some(target) = add.by_id.as_deref() else {
        return false;
    };
    fn in_parts(list: &mut Vec<Part>, target: &str, add: &Add, position: Position) -> bool {
        if let Some(index) = list.iter().position(|p| p.id.as_deref() == Some(target)) {
            match position {
                Position::Before => {
                    for (offset, part) in add.parts.iter().enumerate() {
                        list.insert(index + offset, part.clone());
                    }
                }
                Position::After => {
                    for (offset, part) in add.parts.iter().enumerate() {
                        list.insert(index + 1 + offset, part.clone());
                    }
                }
                Position::Starting | Position::Ending => {
                    let part = &mut list[index];
                    let at_start = position == Position::Starting;
                    if let Some(title) = &add.title {
                        part.title = Some(title.clone());
                    }
                    splice(&mut part.props, &add.props, at_start);
                    splice(&mut part.links, &add.links, at_start);
                    splice(&mut part.parts, &add.parts, at_start);
                }
            }
            return true;
        }
        list.iter_mut()
            .any(|p| in_parts(&mut p.parts, target, add, position))
    }
    in_parts(&mut control.parts, target, add, position)
}

fn splice<T: Clone>(list: &mut Vec<T>, items: &[T], at_start: bool) {
    if at_start {
        let tail = std::mem::take(list);
        list.extend(items.iter().cloned());
        list.extend(tail);
    } else {
        list.extend(items.iter().cloned());
    }
}

/// Back-matter resources that the resolved catalog still refers to (`#uuid` in links or
/// prose), from the source catalogs and the profile.
fn referenced_back_matter(
    catalog: &Catalog,
    sources: &[Catalog],
    profile: &Profile,
) -> Option<BackMatter> {
    // One pass over the serialized catalog collects every fragment reference.
    let text = serde_json::to_string(catalog).unwrap_or_default();
    let referenced: HashSet<&str> = text
        .match_indices('#')
        .map(|(i, _)| {
            let rest = &text[i + 1..];
            let end = rest
                .find(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|fragment| fragment.len() == 36)
        .collect();
    let mut seen = BTreeSet::new();
    let mut resources: Vec<Resource> = Vec::new();
    let candidates = sources
        .iter()
        .filter_map(|c| c.back_matter.as_ref())
        .chain(profile.back_matter.as_ref());
    for back_matter in candidates {
        for resource in &back_matter.resources {
            if referenced.contains(resource.uuid.as_str()) && seen.insert(resource.uuid.clone()) {
                resources.push(resource.clone());
            }
        }
    }
    (!resources.is_empty()).then_some(BackMatter { resources })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The current time as RFC 3339 UTC, from the system clock, without a date library.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_oscal_patterns() {
        assert!(glob_match("ac-*", "ac-2.1"));
        assert!(glob_match("ac-?", "ac-2"));
        assert!(!glob_match("ac-?", "ac-22"));
        assert!(glob_match("*", ""));
        assert!(glob_match("*.1", "si-7.1"));
        assert!(!glob_match("*.1", "si-7.15"));
    }

    #[test]
    fn natural_order_puts_ten_after_two() {
        let mut ids = vec!["ac-10", "ac-2", "ac-2.1", "ac-1"];
        ids.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(ids, ["ac-1", "ac-2", "ac-2.1", "ac-10"]);
    }

    #[test]
    fn timestamp_is_rfc3339() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T');
    }
}
