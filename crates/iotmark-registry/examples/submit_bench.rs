//! Submissions end to end against a running registry: signs N distinct conformity
//! attestations of the example product first, then submits them over HTTP from C concurrent
//! clients and reports throughput and latency percentiles. Every answer must be 201.
//!
//! ```text
//! submit_bench URL TOKEN KEY.pem N CLIENTS
//! ```
//!
//! `benches/registry.sh` sets up the registry (organisation, key, token) and runs this.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use iotmark_attest::keys::{FileSigner, Signer};
use iotmark_attest::statement::{ConformityInput, Route, conformity_statement};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, token, key, n, clients] = args.as_slice() else {
        return Err("usage: submit_bench URL TOKEN KEY.pem N CLIENTS".into());
    };
    let n: i64 = n.parse()?;
    let clients: usize = clients.parse()?;
    let signer = FileSigner::load(Path::new(key))?;
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let declaration_path = repo.join("examples/acme-securecam-fixed/declaration.yaml");
    let bytes = std::fs::read(&declaration_path)?;
    let declaration = iotmark_declare::check(
        &declaration_path,
        &bytes,
        &|_| true,
        jiff::Zoned::now().date(),
    )
    .declaration
    .ok_or("the example declaration does not check")?;
    let results = std::fs::read(std::env::var("RESULTS")?)?;
    let now = jiff::Timestamp::now().as_second();
    let started = Instant::now();
    let envelopes: Vec<Vec<u8>> = (0..n)
        .map(|i| -> Result<Vec<u8>, Box<dyn std::error::Error>> {
            let statement = conformity_statement(
                &results,
                Path::new("assessment-results.json"),
                &declaration,
                &ConformityInput {
                    sbom_sha256: None,
                    route: Route::Sdoc,
                    profile: None,
                    organisation: declaration.product.manufacturer.name.clone(),
                    key_id: signer.key_id(),
                    issued: jiff::Timestamp::from_second(now - 60 - i)?,
                    valid_until: jiff::Timestamp::from_second(now + 86_400 * 365)?,
                },
            )?;
            Ok(iotmark_attest::sign_statement(&statement, &signer)?
                .to_json()
                .into_bytes())
        })
        .collect::<Result<_, _>>()?;
    eprintln!(
        "signed {n} envelopes in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let queue = Arc::new(Mutex::new(envelopes));
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (queue, latencies, url, token) =
                (queue.clone(), latencies.clone(), url.clone(), token.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .new_agent();
                loop {
                    let Some(envelope) = queue.lock().map_err(|e| e.to_string())?.pop() else {
                        return Ok(());
                    };
                    let t = Instant::now();
                    let response = agent
                        .post(&format!("{url}/api/v1/attestations"))
                        .header("Authorization", &format!("Bearer {token}"))
                        .send(&envelope[..])
                        .map_err(|e| e.to_string())?;
                    let status = response.status().as_u16();
                    if status != 201 {
                        let body = response.into_body().read_to_string().unwrap_or_default();
                        return Err(format!("HTTP {status}: {body}"));
                    }
                    latencies
                        .lock()
                        .map_err(|e| e.to_string())?
                        .push(t.elapsed());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().map_err(|_| "a client panicked")??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut l = latencies.lock().map_err(|e| e.to_string())?.clone();
    l.sort();
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "submissions {} clients {clients} seconds {elapsed:.2} per_second {:.0} p50_ms {:.1} p99_ms {:.1} max_ms {:.1}",
        l.len(),
        l.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
