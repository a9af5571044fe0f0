//! Throughput of DSSE verification, for benches/dsse.sh.
//!
//! `dsse_verify prepare STATEMENT DIR`: signs STATEMENT (an in-toto Statement file) with a
//! fresh key and writes DIR/envelope.json, DIR/key.pub and DIR/keyid.
//! `dsse_verify run ENVELOPE KEY N`: parses, verifies and parses the statement of ENVELOPE
//! N times in one thread, and prints the rate.
use std::path::Path;
use std::time::Instant;

use iotmark_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use iotmark_attest::keys::{FileSigner, PublicKey, Signer};
use iotmark_attest::statement::Statement;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("prepare") if args.len() == 4 => {
            let payload = std::fs::read(&args[2])?;
            let dir = Path::new(&args[3]);
            let signer = FileSigner::generate()?;
            let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload, &[&signer])?;
            std::fs::write(dir.join("envelope.json"), env.to_json())?;
            std::fs::write(dir.join("key.pub"), signer.public_key().to_spki_pem()?)?;
            std::fs::write(dir.join("keyid"), signer.key_id())?;
        }
        Some("run") if args.len() == 5 => {
            let bytes = std::fs::read(&args[2])?;
            let key = PublicKey::load(Path::new(&args[3]))?;
            let n: u32 = args[4].parse()?;
            let start = Instant::now();
            for _ in 0..n {
                let env = Envelope::parse(&bytes)?;
                let (_, payload) = env.verify(&key)?;
                std::hint::black_box(Statement::parse(payload).is_ok());
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "iotmark: {n} verifications in {secs:.3} s = {:.0}/s",
                f64::from(n) / secs
            );
            // Where the time goes: parsing alone, and the signature check alone.
            let env = Envelope::parse(&bytes)?;
            let start = Instant::now();
            for _ in 0..n {
                let env = Envelope::parse(&bytes)?;
                std::hint::black_box(Statement::parse(&env.payload).is_ok());
            }
            let parse = start.elapsed().as_secs_f64();
            let start = Instant::now();
            for _ in 0..n {
                std::hint::black_box(env.verify(&key)?);
            }
            let verify = start.elapsed().as_secs_f64();
            println!(
                "  of which parsing (envelope + statement) {:.1} µs, signature {:.1} µs per envelope",
                parse * 1e6 / f64::from(n),
                verify * 1e6 / f64::from(n)
            );
        }
        _ => {
            eprintln!("usage: dsse_verify prepare STATEMENT DIR | run ENVELOPE KEY N");
            std::process::exit(2);
        }
    }
    Ok(())
}
