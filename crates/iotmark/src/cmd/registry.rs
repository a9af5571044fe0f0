//! `iotmark registry`: run the registry, administer it, and submit to it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use iotmark_attest::keys::PublicKey;
use iotmark_registry::service::{Config, Registry};
use iotmark_registry::store::{self, Role, Store};
use serde_json::json;

use crate::style::Style;

#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Run the registry: API, public pages, the log's tiles, metrics
    #[command(
        after_help = "The data directory holds the log (tiles, checkpoint, envelopes), the log's key and,\nby default, the SQLite database. Nothing else needs installing. The server runs the\nmonitor (--monitor-every) and delivers webhooks (subscribe with POST /api/v1/webhooks).\n\nExamples:\n  iotmark registry serve\n  iotmark registry serve --listen 0.0.0.0:8080 --public-url https://registry.example.org\n  iotmark registry serve --label-administrator \"Example Labels\" \\\n    --label-administrator-contact labels@example.org\n  iotmark registry serve --db postgres://iotmark@db.internal/iotmark --data /var/lib/iotmark"
    )]
    Serve(ServeArgs),
    /// Run the post-market monitor once: vulnerabilities in attested SBOMs, deadlines to
    /// fix, support ends and expiries, each change logged as a signed status attestation
    #[command(
        after_help = "A running `registry serve` holds the data directory and runs the monitor itself (see
--monitor-every); ask it with `curl -X POST -H 'Authorization: Bearer TOKEN' URL/api/v1/monitor`.
This command is for a registry that is not serving. Running it twice changes nothing twice.

Exit codes:
  0  the run finished (with or without changes)
  1  the registry or the vulnerability store cannot be opened

Examples:
  iotmark vulns import nvdcve-2.0-2026.json.gz known_exploited_vulnerabilities.json
  iotmark registry monitor
  iotmark registry monitor --json --data /var/lib/iotmark"
    )]
    Monitor(MonitorArgs),
    /// Administer organisations, keys, tokens and accreditations (straight to the database)
    #[command(subcommand)]
    Admin(AdminCommand),
}

/// Where the registry's data is.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// The data directory
    #[arg(
        long,
        value_name = "DIR",
        default_value = "iotmark-data",
        env = "IOTMARK_DATA"
    )]
    data: PathBuf,
    /// The database: sqlite://PATH or postgres://… [default: SQLite in the data directory]
    #[arg(long, value_name = "URL", env = "IOTMARK_DB")]
    db: Option<String>,
}

impl DataArgs {
    fn url(&self) -> String {
        self.db
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data.join("registry.sqlite3").display()))
    }

    async fn open(&self) -> Result<Store> {
        let url = self.url();
        store::open(&url)
            .await
            .with_context(|| format!("cannot open the database {}", redact(&url)))
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Where the vulnerability store the monitor matches against is.
#[derive(Debug, Args)]
pub struct VulnsStoreArgs {
    /// The vulnerability store (`iotmark vulns import`): sqlite://PATH or postgres://…
    /// [default: SQLite in the data directory, as `iotmark vulns` uses]
    #[arg(long, value_name = "URL", env = "IOTMARK_VULNS_DB")]
    vulns_db: Option<String>,
}

impl VulnsStoreArgs {
    async fn open(&self, data: &std::path::Path) -> Result<iotmark_vulns::store::Store> {
        let url = self
            .vulns_db
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", data.join("vulns.sqlite3").display()));
        iotmark_vulns::store::Store::open(&url)
            .await
            .with_context(|| format!("cannot open the vulnerability store {}", redact(&url)))
    }
}

#[derive(Debug, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    vulns: VulnsStoreArgs,
    /// The log's name, as `registry serve` was given it
    #[arg(long, value_name = "NAME", default_value = "iotmark.localhost/log")]
    origin: String,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    vulns: VulnsStoreArgs,
    /// Seconds between monitor runs (the first runs at start); 0 runs it only on demand
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    monitor_every: u64,
    /// Who administers the label this registry serves, shown in every product's registry
    /// record (with --label-administrator-contact)
    #[arg(long, value_name = "NAME", requires = "label_administrator_contact")]
    label_administrator: Option<String>,
    /// How to reach the label administrator: an e-mail address or a URL
    #[arg(long, value_name = "CONTACT", requires = "label_administrator")]
    label_administrator_contact: Option<String>,
    /// MiB of log tiles kept in memory for receipts and proofs; about 400 per million log
    /// entries holds all of them
    #[arg(long, value_name = "MIB", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    tile_cache_mib: u64,
    /// Send webhooks to receivers on loopback, private and link-local addresses too (a
    /// registry inside a closed network); by default only public addresses are sent to
    #[arg(long)]
    webhooks_to_private_networks: bool,
    /// Seconds before the first retry of a failed webhook; each later retry waits four
    /// times longer, up to 10 hours, 13 attempts in all
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    webhook_first_retry: u64,
    /// Address to listen on
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The public base URL, for product links and QR codes [default: http://LISTEN]
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// The log's name (origin line of its checkpoints); fixed once the log exists
    #[arg(long, value_name = "NAME", default_value = "iotmark.localhost/log")]
    origin: String,
    /// Seconds a client has to send a request's headers, and a kept-alive connection to start
    /// its next request
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Seconds a connection may pass with no byte moving either way before it is closed
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    idle_timeout: u64,
    /// Connections served at once; more wait until one closes
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
}

impl ServeArgs {
    fn server_limits(&self) -> iotmark_registry::server::ServerLimits {
        iotmark_registry::server::ServerLimits {
            header_read_timeout: std::time::Duration::from_secs(self.header_timeout),
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Register an organisation
    #[command(
        after_help = "Examples:\n  iotmark registry admin org-add acme --name \"Acme Devices Ltd\" --role manufacturer\n  iotmark registry admin org-add testlab --name \"Example Test Lab\" --role lab"
    )]
    OrgAdd(OrgAddArgs),
    /// List the organisations
    Orgs(AdminJson),
    /// Register a signing key for an organisation
    #[command(
        after_help = "Examples:\n  iotmark registry admin key-add acme keys/acme.pub --label \"release key 2026\""
    )]
    KeyAdd(KeyAddArgs),
    /// Create an API token (the secret is shown once)
    #[command(after_help = "Examples:\n  iotmark registry admin token-create acme --label ci")]
    TokenCreate(TokenCreateArgs),
    /// Revoke an API token by its ID
    TokenRevoke(TokenRevokeArgs),
    /// Accredit a lab for a scheme
    #[command(
        after_help = "Examples:\n  iotmark registry admin accredit testlab us-cyber-trust-mark"
    )]
    Accredit(AccreditArgs),
}

#[derive(Debug, Args)]
pub struct AdminJson {
    #[command(flatten)]
    data: DataArgs,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct OrgAddArgs {
    /// Short identifier: a-z, 0-9 and '-'
    id: String,
    /// Display name; for a manufacturer, exactly as its declarations name it
    #[arg(long)]
    name: String,
    /// operator, manufacturer or lab
    #[arg(long)]
    role: Role,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
pub struct KeyAddArgs {
    organisation: String,
    /// The public key (SPKI PEM or verifier key from `iotmark key generate`)
    key: PathBuf,
    #[arg(long, default_value = "")]
    label: String,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    organisation: String,
    #[arg(long, default_value = "")]
    label: String,
    #[command(flatten)]
    data: DataArgs,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's ID (tok_…)
    id: String,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
pub struct AccreditArgs {
    organisation: String,
    /// A scheme ID (`iotmark scheme list`)
    scheme: String,
    #[command(flatten)]
    data: DataArgs,
}

pub fn run(command: RegistryCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        match command {
            RegistryCommand::Serve(a) => serve(a).await,
            RegistryCommand::Monitor(a) => monitor(a).await,
            RegistryCommand::Admin(c) => admin(c).await,
        }
    })
}

async fn serve(args: ServeArgs) -> Result<ExitCode> {
    // Request errors and start-up go to standard error; RUST_LOG overrides the level.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(Style::stderr().colour())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let store = args.data.open().await?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen))
        .trim_end_matches('/')
        .to_owned();
    let registry = Registry::open(
        store,
        Config {
            data_dir: args.data.data.clone(),
            log_origin: args.origin.clone(),
            limits: Default::default(),
            public_url: public_url.clone(),
        },
    )
    .await
    .with_context(|| format!("cannot open the registry in {}", args.data.data.display()))?;
    registry.attach_vulnerability_store(args.vulns.open(&args.data.data).await?);
    let registry = Arc::new(registry);
    if args.monitor_every > 0 {
        let every = std::time::Duration::from_secs(args.monitor_every);
        let monitored = registry.clone();
        tokio::spawn(async move {
            loop {
                match monitored.monitor_now().await {
                    Ok(run) => tracing::info!(
                        attestations = run.attestations,
                        sboms = run.sboms_matched,
                        open = run.open_vulnerabilities,
                        changes = run.changes.len(),
                        "monitor run"
                    ),
                    Err(e) => tracing::error!(error = %e, "monitor run failed"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }
    registry
        .set_tile_cache_budget(usize::try_from(args.tile_cache_mib << 20).unwrap_or(usize::MAX));
    if let (Some(name), Some(contact)) = (
        args.label_administrator.clone(),
        args.label_administrator_contact.clone(),
    ) {
        registry.set_label_administrator(iotmark_registry::record::LabelAdministrator {
            name,
            contact,
        });
    }
    registry.set_webhook_policy(iotmark_registry::webhooks::WebhookPolicy {
        private_networks: args.webhooks_to_private_networks,
        first_retry: std::time::Duration::from_secs(args.webhook_first_retry),
        ..Default::default()
    });
    tokio::spawn(
        registry
            .clone()
            .deliver_webhooks_forever(std::time::Duration::from_secs(1)),
    );
    let app = iotmark_registry::http::router(registry.clone());
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let style = Style::stderr();
    eprintln!(
        "{} {public_url}/  (log {}; verifier key {})",
        style.good("iotmark registry on"),
        registry.log_origin(),
        registry.verifier_key
    );
    iotmark_registry::server::serve(listener, app, args.server_limits(), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the server stopped")?;
    registry.shutdown();
    Ok(ExitCode::SUCCESS)
}

async fn monitor(args: MonitorArgs) -> Result<ExitCode> {
    let store = args.data.open().await?;
    let registry = Registry::open(
        store,
        Config {
            data_dir: args.data.data.clone(),
            log_origin: args.origin.clone(),
            limits: Default::default(),
            public_url: String::new(),
        },
    )
    .await
    .with_context(|| {
        format!(
            "cannot open the registry in {} (if `registry serve` is running on it, ask the server: POST /api/v1/monitor)",
            args.data.data.display()
        )
    })?;
    registry.attach_vulnerability_store(args.vulns.open(&args.data.data).await?);
    let registry = Arc::new(registry);
    let run = registry.monitor_now().await;
    registry.shutdown();
    let run = run.context("the monitor run failed")?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&run)?);
        return Ok(ExitCode::SUCCESS);
    }
    let style = Style::stdout();
    outln!(
        "looked at {} living attestations: {} SBOMs matched ({} named but not uploaded), {} open vulnerabilities",
        run.attestations,
        run.sboms_matched,
        run.sboms_missing,
        run.open_vulnerabilities
    );
    if run.changes.is_empty() {
        outln!("{}", style.good("no status changed"));
    }
    for c in &run.changes {
        outln!(
            "{} {} {}: {} ({}, log entry {})",
            style.warn(c.status.as_str()),
            c.product_id,
            c.version,
            c.reason,
            c.trigger,
            c.log_index
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn admin(command: AdminCommand) -> Result<ExitCode> {
    use iotmark_registry::admin;
    match command {
        AdminCommand::OrgAdd(a) => {
            let store = a.data.open().await?;
            let org = admin::add_organisation(&store, &a.id, &a.name, a.role).await?;
            outln!(
                "{} {} ({}, {})",
                Style::stdout().good("added"),
                org.id,
                org.name,
                org.role.as_str()
            );
        }
        AdminCommand::Orgs(a) => {
            let store = a.data.open().await?;
            let orgs = store.organisations().await?;
            if a.json {
                outln!("{}", serde_json::to_string_pretty(&orgs)?);
            } else {
                for o in orgs {
                    outln!("{:<24} {:<13} {}", o.id, o.role.as_str(), o.name);
                }
            }
        }
        AdminCommand::KeyAdd(a) => {
            let store = a.data.open().await?;
            let key = PublicKey::load(&a.key)?;
            let added = admin::add_key(&store, &a.organisation, &key, &a.label).await?;
            outln!(
                "{} key {} for {}",
                Style::stdout().good("registered"),
                added.key_id,
                added.organisation
            );
        }
        AdminCommand::TokenCreate(a) => {
            let store = a.data.open().await?;
            let (token, secret) = admin::create_token(&store, &a.organisation, &a.label).await?;
            if a.json {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"id": token.id, "organisation": token.organisation, "role": token.role, "token": secret})
                    )?
                );
            } else {
                outln!(
                    "{} {} for {} ({})",
                    Style::stdout().good("token"),
                    token.id,
                    token.organisation,
                    token.role.as_str()
                );
                outln!("{secret}");
                eprintln!(
                    "Store it now: the registry keeps only its hash and cannot show it again."
                );
            }
        }
        AdminCommand::TokenRevoke(a) => {
            let store = a.data.open().await?;
            if !store.revoke_token(&a.id, jiff::Timestamp::now()).await? {
                bail!("no active token has ID {}", a.id);
            }
            outln!("{} {}", Style::stdout().good("revoked"), a.id);
        }
        AdminCommand::Accredit(a) => {
            let store = a.data.open().await?;
            let schemes = iotmark_assess::bundled_schemes(iotmark_catalogs::Bundle::get())?;
            let acc = admin::accredit(&store, &a.organisation, &a.scheme, &schemes).await?;
            outln!(
                "{} {} for {}",
                Style::stdout().good("accredited"),
                acc.organisation,
                acc.scheme
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
