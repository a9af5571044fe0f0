//! `iotmark catalog …`: the bundled catalogs and OSCAL documents from files.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use iotmark_catalogs::{Bundle, BundledCatalog, ControlHit, Hop, export};
use iotmark_oscal::{Catalog, Document, Loader, Resolver, write_json, write_yaml};
use serde_json::json;

use crate::style::Style;

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// List the bundled catalogs with their sizes
    #[command(after_help = "Example:\n  iotmark catalog list --json")]
    List(JsonFlag),
    /// Show a catalog (by key) or a requirement (by ID, or KEY:LABEL) with its mappings
    #[command(
        after_help = "Examples:\n  iotmark catalog show ir8259a\n  iotmark catalog show en303645-5.3-13\n  iotmark catalog show en303645:5.3-13"
    )]
    Show(ShowArgs),
    /// Search requirement IDs, labels, titles and statements (all words must match)
    #[command(
        after_help = "Examples:\n  iotmark catalog search default password\n  iotmark catalog search update --catalog ir8425"
    )]
    Search(SearchArgs),
    /// Follow mappings from a requirement to another catalog, through intermediate ones
    #[command(
        after_help = "Examples:\n  iotmark catalog map en303645-5.1-1 --to ir8425\n  iotmark catalog map sp800-213a-su-upd --to sp800-53 --json"
    )]
    Map(MapArgs),
    /// Export a bundled catalog or mapping (by key) or an OSCAL catalog file
    #[command(
        after_help = "Examples:\n  iotmark catalog export en303645 --format markdown\n  iotmark catalog export ir8425 --format csv -o ir8425.csv\n  iotmark catalog export ir8259a__en303645 --format oscal-yaml"
    )]
    Export(ExportArgs),
    /// Validate an OSCAL file against the official schema, resolve it if it is a profile, and summarise it
    #[command(
        after_help = "Examples:\n  iotmark catalog import my-catalog.yaml\n  iotmark catalog import baseline.json --map '#84cbf061-eb87-4ec1-8112-1f529232e907=NIST_SP-800-53_rev5_catalog.json'"
    )]
    Import(ImportArgs),
    /// Resolve an OSCAL profile into the catalog it describes
    #[command(
        after_help = "Example:\n  iotmark catalog resolve NIST_SP-800-53_rev5_LOW-baseline_profile.json --map '#84cbf061-eb87-4ec1-8112-1f529232e907=rev5_catalog.json' -o low.json"
    )]
    Resolve(ResolveArgs),
}

#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print machine-readable JSON instead of text
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A catalog key (en303645), a requirement ID (en303645-5.1-1) or KEY:LABEL (en303645:5.1-1)
    id: String,
    #[command(flatten)]
    out: JsonFlag,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to look for
    #[arg(required = true, num_args = 1..)]
    text: Vec<String>,
    /// Search only this catalog
    #[arg(long, value_name = "KEY")]
    catalog: Option<String>,
    /// Show at most this many results
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[command(flatten)]
    out: JsonFlag,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    /// The requirement to start from
    id: String,
    /// The catalog to reach (a bundled key, or sp800-53)
    #[arg(long, value_name = "CATALOG")]
    to: String,
    /// Follow at most this many mappings in a row
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=6))]
    max_hops: u8,
    #[command(flatten)]
    out: JsonFlag,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ExportFormat {
    OscalJson,
    OscalYaml,
    Markdown,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A bundled catalog or mapping key, or the path of an OSCAL catalog file
    catalog: String,
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Write to this file instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HrefMaps {
    /// Load an import whose href is HREF from PATH instead (repeatable). HREF may be a
    /// back-matter reference such as '#uuid'
    #[arg(long = "map", value_name = "HREF=PATH", value_parser = parse_href_map)]
    maps: Vec<(String, PathBuf)>,
    /// Refuse input files larger than this many bytes
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_bytes: u64,
}

impl HrefMaps {
    fn loader(&self) -> Loader {
        Loader {
            max_bytes: self.max_bytes,
            ..Loader::default()
        }
    }

    fn resolver(&self) -> Resolver {
        let mut resolver = Resolver::new(self.loader());
        for (href, path) in &self.maps {
            resolver.map_href(href.clone(), path.clone());
        }
        resolver
    }
}

fn parse_href_map(s: &str) -> Result<(String, PathBuf), String> {
    match s.rsplit_once('=') {
        Some((href, path)) if !href.is_empty() && !path.is_empty() => {
            Ok((href.to_owned(), PathBuf::from(path)))
        }
        _ => Err(
            "expected HREF=PATH, e.g. '#84cbf061-eb87-4ec1-8112-1f529232e907=catalog.json'"
                .to_owned(),
        ),
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An OSCAL document (JSON or YAML)
    file: PathBuf,
    #[command(flatten)]
    maps: HrefMaps,
    #[command(flatten)]
    out: JsonFlag,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OscalFormat {
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// An OSCAL profile (JSON or YAML)
    profile: PathBuf,
    #[command(flatten)]
    maps: HrefMaps,
    /// Write the resolved catalog here instead of standard output
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "json")]
    format: OscalFormat,
    /// Use this RFC 3339 time as the resolution timestamp (for reproducible output)
    #[arg(long, value_name = "TIME")]
    timestamp: Option<String>,
}

pub fn run(command: CatalogCommand) -> Result<ExitCode> {
    // Only the commands about bundled data pay for parsing it.
    let bundled = || -> Result<&'static Bundle> {
        let bundle = Bundle::get();
        match bundle.errors().first() {
            Some(err) => bail!("{err}"),
            None => Ok(bundle),
        }
    };
    match command {
        CatalogCommand::List(a) => list(bundled()?, a.json),
        CatalogCommand::Show(a) => show(bundled()?, &a.id, a.out.json),
        CatalogCommand::Search(a) => search(bundled()?, &a),
        CatalogCommand::Map(a) => map(bundled()?, &a),
        CatalogCommand::Export(a) => export_cmd(bundled()?, &a),
        CatalogCommand::Import(a) => import(&a),
        CatalogCommand::Resolve(a) => resolve(&a),
    }
}

fn print_json(value: &serde_json::Value) -> Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(ExitCode::SUCCESS)
}

fn class_counts(catalog: &Catalog) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for control in catalog.controls() {
        *counts
            .entry(
                control
                    .class
                    .clone()
                    .unwrap_or_else(|| "control".to_owned()),
            )
            .or_insert(0) += 1;
    }
    counts
}

fn list(bundle: &Bundle, as_json: bool) -> Result<ExitCode> {
    if as_json {
        let items: Vec<_> = bundle
            .catalogs()
            .iter()
            .map(|c| {
                json!({
                    "key": c.key,
                    "title": c.catalog.metadata.title,
                    "publication_version": c.publication_version(),
                    "version": c.catalog.metadata.version,
                    "controls": c.catalog.controls().len(),
                    "classes": class_counts(&c.catalog),
                })
            })
            .collect();
        let mappings: Vec<_> = bundle
            .mappings()
            .iter()
            .map(|m| json!({"key": m.key, "source": m.source_catalog, "target": m.target_catalog, "maps": m.collection.mappings.iter().map(|x| x.maps.len()).sum::<usize>()}))
            .collect();
        return print_json(&json!({"catalogs": items, "mappings": mappings}));
    }
    let style = Style::stdout();
    outln!(
        "{}",
        style.bold(&format!("{:<13} {:>8}  {}", "KEY", "CONTROLS", "TITLE"))
    );
    for c in bundle.catalogs() {
        let version = c
            .publication_version()
            .map(|v| format!(" ({v})"))
            .unwrap_or_default();
        outln!(
            "{:<13} {:>8}  {}{}",
            style.accent(&c.key),
            c.catalog.controls().len(),
            c.catalog.metadata.title,
            style.dim(&version)
        );
    }
    outln!();
    outln!(
        "{}",
        style.bold(&format!("{:<28} {:>5}", "MAPPING", "MAPS"))
    );
    for m in bundle.mappings() {
        let maps: usize = m.collection.mappings.iter().map(|x| x.maps.len()).sum();
        outln!("{:<28} {:>5}", style.accent(&m.key), maps);
    }
    outln!("\n{}", style.dim("Show one with `iotmark catalog show KEY`; follow mappings with `iotmark catalog map ID --to KEY`."));
    Ok(ExitCode::SUCCESS)
}

fn not_found(bundle: &Bundle, what: &str) -> anyhow::Error {
    let mut suggestions: Vec<String> = bundle
        .search(what, None)
        .into_iter()
        .take(3)
        .map(|h| h.id)
        .collect();
    if suggestions.is_empty() {
        // Try the last piece of a dotted or dashed ID (a label such as 5.1-1).
        let tail = what.rsplit(['-', ':']).next().unwrap_or(what);
        suggestions = bundle
            .catalogs()
            .iter()
            .flat_map(|c| {
                c.catalog
                    .controls()
                    .into_iter()
                    .filter(|ctl| ctl.label().eq_ignore_ascii_case(tail) || ctl.id.ends_with(what))
                    .map(|ctl| ctl.id.clone())
                    .collect::<Vec<_>>()
            })
            .take(3)
            .collect();
    }
    let keys = bundle
        .catalogs()
        .iter()
        .map(|c| c.key.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    if suggestions.is_empty() {
        anyhow!(
            "no catalog or requirement \"{what}\"\nhint: catalogs are {keys}; `iotmark catalog search WORDS` finds requirements"
        )
    } else {
        anyhow!(
            "no catalog or requirement \"{what}\"\nhint: did you mean {}?",
            suggestions.join(", ")
        )
    }
}

fn show(bundle: &Bundle, id: &str, as_json: bool) -> Result<ExitCode> {
    if let Some(c) = bundle.catalog(id) {
        return show_catalog(c, as_json);
    }
    let hit = bundle
        .find_control(id)
        .ok_or_else(|| not_found(bundle, id))?;
    show_control(bundle, &hit, as_json)
}

fn show_catalog(c: &BundledCatalog, as_json: bool) -> Result<ExitCode> {
    if as_json {
        return print_json(&json!({
            "key": c.key,
            "title": c.catalog.metadata.title,
            "publication_version": c.publication_version(),
            "version": c.catalog.metadata.version,
            "classes": class_counts(&c.catalog),
            "sources": c.catalog.back_matter.iter().flat_map(|b| &b.resources).map(|r| json!({"title": r.title, "href": r.rlinks.first().map(|l| &l.href)})).collect::<Vec<_>>(),
            "groups": c.catalog.groups().iter().map(|g| json!({"id": g.id, "title": g.title, "class": g.class})).collect::<Vec<_>>(),
        }));
    }
    let style = Style::stdout();
    outln!("{}", style.bold(&c.catalog.metadata.title));
    outln!(
        "{} {}{}",
        style.dim("key"),
        c.key,
        c.publication_version()
            .map(|v| format!("   {} {v}", style.dim("edition")))
            .unwrap_or_default()
    );
    let counts = class_counts(&c.catalog)
        .into_iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    outln!("{} {counts}", style.dim("contains"));
    for r in c.catalog.back_matter.iter().flat_map(|b| &b.resources) {
        if let Some(link) = r.rlinks.first() {
            outln!(
                "{} {} <{}>",
                style.dim("source"),
                r.title.as_deref().unwrap_or(""),
                link.href
            );
        }
    }
    if let Some(remarks) = &c.catalog.metadata.remarks {
        outln!("{}", style.dim(remarks.trim()));
    }
    outln!();
    fn tree(style: Style, controls: &[iotmark_oscal::Control], depth: usize) -> Result<()> {
        for control in controls {
            let pad = "  ".repeat(depth);
            let mut marks = Vec::new();
            if let Some(status) = control.prop("status", None) {
                marks.push(status.to_owned());
            }
            let conditions: Vec<&str> = control.props_named("condition", None).collect();
            if !conditions.is_empty() {
                marks.push(format!("if {}", conditions.join("+")));
            }
            if control.prop("unconfirmed", None) == Some("true") {
                marks.push("unconfirmed".to_owned());
            }
            let marks = if marks.is_empty() {
                String::new()
            } else {
                format!("  [{}]", marks.join(", "))
            };
            // Some publications number their requirements (5.1-1), others only name them.
            let name = if control.label() == control.title {
                style.accent(&control.title)
            } else {
                format!("{} {}", style.accent(control.label()), control.title)
            };
            outln!("{pad}{name}{}", style.dim(&marks));
            if depth < 2 {
                tree(style, &control.controls, depth + 1)?;
            }
        }
        Ok(())
    }
    tree(style, &c.catalog.controls, 0)?;
    fn groups(style: Style, list: &[iotmark_oscal::Group], depth: usize) -> Result<()> {
        for g in list {
            let label = g
                .prop("label", None)
                .map(|l| format!("{l} "))
                .unwrap_or_default();
            outln!(
                "{}{}",
                "  ".repeat(depth),
                style.bold(&format!("{label}{}", g.title))
            );
            tree(style, &g.controls, depth + 1)?;
            groups(style, &g.groups, depth + 1)?;
        }
        Ok(())
    }
    groups(style, &c.catalog.groups, 0)?;
    Ok(ExitCode::SUCCESS)
}

fn show_control(bundle: &Bundle, hit: &ControlHit<'_>, as_json: bool) -> Result<ExitCode> {
    let control = hit.control;
    let groups = bundle.groups_of(hit);
    let neighbours = bundle.crosswalk().neighbours(&control.id);
    if as_json {
        return print_json(&json!({
            "catalog": hit.catalog.key,
            "id": control.id,
            "label": control.label(),
            "class": control.class,
            "title": control.title,
            "statement": control.statement(),
            "groups": groups.iter().map(|g| json!({"id": g.id, "title": g.title})).collect::<Vec<_>>(),
            "parent": hit.parent.map(|p| &p.id),
            "props": control.props,
            "parts": control.parts,
            "children": control.controls.iter().map(|c| json!({"id": c.id, "label": c.label(), "title": c.title})).collect::<Vec<_>>(),
            "mappings": neighbours,
        }));
    }
    let style = Style::stdout();
    outln!(
        "{}  {}",
        style.bold(control.label()),
        style.bold(&control.title)
    );
    let mut place: Vec<String> = vec![hit.catalog.catalog.metadata.title.clone()];
    place.extend(groups.iter().map(|g| g.title.clone()));
    if let Some(p) = hit.parent {
        place.push(format!("{} {}", p.label(), p.title));
    }
    outln!(
        "{}",
        style.dim(&format!("{} · {}", control.id, place.join(" › ")))
    );
    outln!();
    for part in &control.parts {
        let text = iotmark_oscal::model::catalog::part_text(part);
        if text.is_empty() {
            continue;
        }
        if part.name == "statement" {
            outln!("{text}");
        } else {
            outln!(
                "{} {text}",
                style.dim(&format!("{}:", part.title.as_deref().unwrap_or(&part.name)))
            );
        }
    }
    let props: Vec<_> = control.props.iter().filter(|p| p.name != "label").collect();
    if !props.is_empty() {
        outln!();
        for p in props {
            let remark = p
                .remarks
                .as_deref()
                .map(|r| format!("  ({})", r.trim()))
                .unwrap_or_default();
            outln!(
                "  {:<18} {}{}",
                style.dim(&p.name),
                p.value,
                style.dim(&remark)
            );
        }
    }
    if !control.controls.is_empty() {
        outln!("\n{}", style.bold("Contains"));
        for child in &control.controls {
            outln!("  {:<12} {}", style.accent(child.label()), child.title);
        }
    }
    if !neighbours.is_empty() {
        outln!("\n{}", style.bold("Mapped to"));
        for hop in &neighbours {
            print_hop(style, hop)?;
        }
        outln!(
            "{}",
            style.dim("Follow further with `iotmark catalog map ID --to KEY`.")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn print_hop(style: Style, hop: &Hop) -> Result<()> {
    let confidence = hop
        .confidence
        .as_deref()
        .map(|c| format!(", {c} confidence"))
        .unwrap_or_default();
    outln!(
        "  {} {} {}  {}",
        style.dim(&format!("{:<16}", hop.relationship.as_str())),
        style.accent(&hop.to),
        style.dim(&format!("({})", hop.to_catalog)),
        style.dim(&format!("[{}{confidence}]", hop.provenance)),
    );
    if let Some(remarks) = &hop.remarks {
        outln!("  {:<16} {}", "", style.dim(remarks.trim()));
    }
    Ok(())
}

fn search(bundle: &Bundle, args: &SearchArgs) -> Result<ExitCode> {
    if let Some(key) = &args.catalog
        && bundle.catalog(key).is_none()
    {
        return Err(not_found(bundle, key));
    }
    let text = args.text.join(" ");
    let hits = bundle.search(&text, args.catalog.as_deref());
    let total = hits.len();
    let shown: Vec<_> = hits.into_iter().take(args.limit).collect();
    if args.out.json {
        return print_json(&json!({"query": text, "total": total, "hits": shown}));
    }
    let style = Style::stdout();
    if shown.is_empty() {
        outln!("no requirement matches \"{text}\"");
        return Ok(ExitCode::from(1));
    }
    for hit in &shown {
        outln!(
            "{:<26} {}  {}",
            style.accent(&hit.id),
            hit.title,
            style.dim(&format!("({})", hit.catalog))
        );
    }
    if total > shown.len() {
        outln!(
            "{}",
            style.dim(&format!(
                "… {} more; raise --limit to see them",
                total - shown.len()
            ))
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn map(bundle: &Bundle, args: &MapArgs) -> Result<ExitCode> {
    let keys = bundle.known_catalog_keys();
    if !keys.contains(&args.to.as_str()) {
        bail!(
            "unknown catalog \"{}\"\nhint: choose one of {}",
            args.to,
            keys.join(", ")
        );
    }
    let start = match bundle.find_control(&args.id) {
        Some(hit) => hit.control.id.clone(),
        // SP 800-53 controls are not bundled but appear in mappings.
        None if !bundle.crosswalk().neighbours(&args.id).is_empty() => args.id.clone(),
        None => return Err(not_found(bundle, &args.id)),
    };
    let results = bundle
        .crosswalk()
        .map(&start, &args.to, usize::from(args.max_hops));
    if args.out.json {
        return print_json(
            &json!({"from": start, "to": args.to, "max_hops": args.max_hops, "results": results}),
        );
    }
    let style = Style::stdout();
    if results.is_empty() {
        outln!(
            "no mapping from {start} reaches {} within {} hop(s)",
            args.to,
            args.max_hops
        );
        outln!(
            "{}",
            style.dim(
                "hint: raise --max-hops, or see the direct mappings with `iotmark catalog show ID`"
            )
        );
        return Ok(ExitCode::from(1));
    }
    for r in &results {
        let title = bundle
            .find_control(&r.id)
            .map(|h| h.control.title.clone())
            .unwrap_or_default();
        let basis = if r.all_published() {
            style.good("published")
        } else {
            style.warn("analysis")
        };
        outln!(
            "{} {} {}  {}",
            style.dim(&format!("{:<16}", r.relationship.as_str())),
            style.accent(&r.id),
            title,
            basis
        );
        for hop in &r.hops {
            let dir = if hop.reversed {
                " (read backwards)"
            } else {
                ""
            };
            let confidence = hop
                .confidence
                .as_deref()
                .map(|c| format!(", {c}"))
                .unwrap_or_default();
            outln!(
                "    {} {} {} {}",
                style.dim(&hop.from),
                style.dim(&format!("─{}→", hop.relationship.as_str())),
                hop.to,
                style.dim(&format!(
                    "[{}{confidence}; {}{dir}]",
                    hop.provenance, hop.collection
                )),
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn export_cmd(bundle: &Bundle, args: &ExportArgs) -> Result<ExitCode> {
    let text = if let Some(c) = bundle.catalog(&args.catalog) {
        render_catalog(&c.catalog, Some(c.source), args.format)
    } else if let Some(m) = bundle.mappings().iter().find(|m| m.key == args.catalog) {
        let doc = Document::MappingCollection(Box::new(m.collection.clone()));
        match args.format {
            ExportFormat::OscalJson => m.source.to_owned(),
            ExportFormat::OscalYaml => write_yaml(&doc),
            ExportFormat::Markdown | ExportFormat::Csv => bail!(
                "mapping collections export as oscal-json or oscal-yaml; use `iotmark catalog map` to read them"
            ),
        }
    } else if Path::new(&args.catalog).is_file() {
        let catalog = Loader::default().load_catalog(Path::new(&args.catalog))?;
        render_catalog(&catalog, None, args.format)
    } else {
        return Err(not_found(bundle, &args.catalog));
    };
    emit(args.output.as_deref(), &text)
}

fn render_catalog(catalog: &Catalog, source: Option<&str>, format: ExportFormat) -> String {
    match format {
        ExportFormat::OscalJson => source
            .map(str::to_owned)
            .unwrap_or_else(|| write_json(&Document::Catalog(Box::new(catalog.clone())))),
        ExportFormat::OscalYaml => write_yaml(&Document::Catalog(Box::new(catalog.clone()))),
        ExportFormat::Markdown => export::to_markdown(catalog),
        ExportFormat::Csv => export::to_csv(catalog),
    }
}

/// Writes to a file atomically (temporary file, then rename), or to standard output.
fn emit(output: Option<&Path>, text: &str) -> Result<ExitCode> {
    match output {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let tmp = dir.join(format!(
                ".{}.tmp",
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("iotmark-output")
            ));
            std::fs::write(&tmp, text)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            std::fs::rename(&tmp, path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn import(args: &ImportArgs) -> Result<ExitCode> {
    let doc = args.maps.loader().load_path(&args.file)?;
    let kind = doc.kind();
    let mut summary = json!({"file": args.file, "model": kind.root_key(), "valid": true});
    let mut warnings: Vec<String> = Vec::new();
    let catalog = match &doc {
        Document::Catalog(c) => Some((**c).clone()),
        Document::Profile(p) => {
            summary["imports"] = json!(p.imports.iter().map(|i| &i.href).collect::<Vec<_>>());
            let resolution = args.maps.resolver().resolve_path(&args.file)?;
            warnings = resolution.warnings;
            Some(resolution.catalog)
        }
        Document::MappingCollection(m) => {
            summary["title"] = json!(m.metadata.title);
            summary["maps"] = json!(m.mappings.iter().map(|x| x.maps.len()).sum::<usize>());
            None
        }
        Document::ComponentDefinition(c) => {
            summary["title"] = json!(c.metadata.title);
            summary["components"] = json!(c.components.len());
            None
        }
        Document::AssessmentPlan(p) => {
            summary["title"] = json!(p.metadata.title);
            None
        }
        Document::AssessmentResults(r) => {
            summary["title"] = json!(r.metadata.title);
            summary["results"] = json!(r.results.len());
            None
        }
        Document::SystemSecurityPlan(s) => {
            summary["title"] = json!(s.metadata.title);
            summary["components"] = json!(s.system_implementation.components.len());
            None
        }
        Document::PlanOfActionAndMilestones(p) => {
            summary["title"] = json!(p.metadata.title);
            summary["poam-items"] = json!(p.poam_items.len());
            None
        }
    };
    if let Some(catalog) = &catalog {
        summary["title"] = json!(catalog.metadata.title);
        summary["controls"] = json!(catalog.controls().len());
        summary["groups"] = json!(catalog.groups().len());
        summary["classes"] = json!(class_counts(catalog));
        summary["parameters"] = json!(count_params(catalog));
    }
    summary["warnings"] = json!(warnings);
    if args.out.json {
        return print_json(&summary);
    }
    let style = Style::stdout();
    outln!(
        "{} {} is a valid OSCAL {}",
        style.good("✓"),
        args.file.display(),
        kind.root_key()
    );
    if let Some(title) = summary["title"].as_str() {
        outln!("  {:<12} {title}", style.dim("title"));
    }
    for key in [
        "imports",
        "controls",
        "groups",
        "parameters",
        "maps",
        "components",
        "results",
    ] {
        match &summary[key] {
            serde_json::Value::Null => {}
            serde_json::Value::Array(a) => outln!(
                "  {:<12} {}",
                style.dim(key),
                a.iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            v => outln!("  {:<12} {v}", style.dim(key)),
        }
    }
    if matches!(doc, Document::Profile(_)) {
        outln!(
            "  {}",
            style.dim("resolved: the counts above are of the resolved catalog")
        );
    }
    for w in &warnings {
        outln!("{} {w}", style.warn("warning:"));
    }
    Ok(ExitCode::SUCCESS)
}

fn count_params(catalog: &Catalog) -> usize {
    catalog.params.len()
        + catalog
            .controls()
            .iter()
            .map(|c| c.params.len())
            .sum::<usize>()
}

fn resolve(args: &ResolveArgs) -> Result<ExitCode> {
    let mut resolver = args.maps.resolver();
    if let Some(t) = &args.timestamp {
        resolver.timestamp(t.clone());
    }
    let resolution = resolver.resolve_path(&args.profile)?;
    let style = Style::stderr();
    for w in &resolution.warnings {
        eprintln!("{} {w}", style.warn("warning:"));
    }
    let doc = Document::Catalog(Box::new(resolution.catalog));
    // A resolver bug must not hand the user an invalid catalog; the check costs milliseconds.
    let violations =
        iotmark_oscal::validate_value(iotmark_oscal::ModelKind::Catalog, &doc.to_value());
    if let Some(first) = violations.first() {
        bail!(
            "the resolved catalog fails the OSCAL schema at {}: {} ({} violation(s) in all)\nhint: this is a bug in iotmark; please report it with the profile",
            first.pointer,
            first.message,
            violations.len()
        );
    }
    let text = match args.format {
        OscalFormat::Json => write_json(&doc),
        OscalFormat::Yaml => write_yaml(&doc),
    };
    emit(args.output.as_deref(), &text)
}
