//! Throughput of DSSE verification, for benches/dsse.sh.
//!
//! `dsse_verify prepare STATEMENT DIR`: signs STATEMENT (an in-toto Statement file) with a
//! fresh key and writes DIR/envelope.json, DIR/key.pub and DIR/keyid, and for verifiers
//! outside this crate the signed message (DIR/message.pae), the signature (DIR/sig.bin) and
//! the raw public key (DIR/key.raw).
//! `dsse_verify run ENVELOPE KEY N`: parses, verifies and parses the statement of ENVELOPE
//! N times in one thread, and prints the rate.
//! `dsse_verify compare ENVELOPE KEY N ROUNDS`: times the Ed25519 verifiers on the
//! envelope's signature in this one process, ROUNDS rounds of N calls each, the verifiers
//! interleaved within each round (in a rotating order) so that a busy machine slows all of
//! them alike; prints each verifier's range over the rounds.
use std::path::Path;
use std::time::Instant;

use ed25519_dalek::{Verifier as _, VerifyingKey};
use iotmark_attest::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE, pae};
use iotmark_attest::keys::{FileSigner, PublicKey, Signature, Signer};
use iotmark_attest::statement::Statement;
use sha2::{Digest, Sha512};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("prepare") if args.len() == 4 => prepare(Path::new(&args[2]), Path::new(&args[3])),
        Some("run") if args.len() == 5 => run(&args[2], &args[3], args[4].parse()?),
        Some("compare") if args.len() == 6 => {
            compare(&args[2], &args[3], args[4].parse()?, args[5].parse()?)
        }
        _ => {
            eprintln!(
                "usage: dsse_verify prepare STATEMENT DIR | run ENVELOPE KEY N | compare ENVELOPE KEY N ROUNDS"
            );
            std::process::exit(2);
        }
    }
}

fn prepare(statement: &Path, dir: &Path) -> Result<(), Error> {
    let payload = std::fs::read(statement)?;
    let signer = FileSigner::generate()?;
    let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload, &[&signer])?;
    std::fs::write(dir.join("envelope.json"), env.to_json())?;
    std::fs::write(dir.join("key.pub"), signer.public_key().to_spki_pem()?)?;
    std::fs::write(dir.join("keyid"), signer.key_id())?;
    std::fs::write(
        dir.join("message.pae"),
        pae(&env.payload_type, &env.payload),
    )?;
    std::fs::write(dir.join("sig.bin"), &env.signatures[0].sig)?;
    std::fs::write(dir.join("key.raw"), signer.public_key().to_bytes())?;
    Ok(())
}

fn run(envelope: &str, key: &str, n: u32) -> Result<(), Error> {
    let bytes = std::fs::read(envelope)?;
    let key = PublicKey::load(Path::new(key))?;
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
    Ok(())
}

/// One verifier under test: a name and one call, which must return true on the envelope.
type Candidate<'a> = (&'static str, Box<dyn Fn() -> bool + 'a>);

fn compare(envelope: &str, key: &str, n: u32, rounds: u32) -> Result<(), Error> {
    use std::hint::black_box as bb;
    let bytes = std::fs::read(envelope)?;
    let key = PublicKey::load(Path::new(key))?;
    let env = Envelope::parse(&bytes)?;
    let message = pae(&env.payload_type, &env.payload);
    let sig_bytes: [u8; 64] = env.signatures[0].sig.as_slice().try_into()?;
    let signature = Signature::from_bytes(&sig_bytes);
    let raw = key.to_bytes();
    let dalek = VerifyingKey::from_bytes(&raw)?;
    let ring_key = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, raw);
    let (message, signature, env) = (&message, &signature, &env);
    let candidates: Vec<Candidate<'_>> = vec![
        (
            "iotmark PublicKey::verify (strict)",
            Box::new(|| key.verify(bb(message), signature)),
        ),
        (
            "ed25519-dalek verify_strict",
            Box::new(|| dalek.verify_strict(bb(message), signature).is_ok()),
        ),
        (
            "ed25519-dalek verify_strict, key decoded each call",
            Box::new(|| {
                VerifyingKey::from_bytes(bb(&raw))
                    .is_ok_and(|k| k.verify_strict(bb(message), signature).is_ok())
            }),
        ),
        (
            "ed25519-dalek verify (not strict)",
            Box::new(|| dalek.verify(bb(message), signature).is_ok()),
        ),
        (
            "ring ED25519 verify (not strict)",
            Box::new(|| ring_key.verify(bb(message), &sig_bytes).is_ok()),
        ),
        (
            "point decompression alone (VerifyingKey::from_bytes)",
            Box::new(|| VerifyingKey::from_bytes(bb(&raw)).is_ok()),
        ),
        (
            "SHA-512 of R, A and the PAE alone",
            Box::new(|| {
                let mut h = Sha512::new();
                h.update(&sig_bytes[..32]);
                h.update(raw);
                h.update(bb(message));
                bb(h.finalize());
                true
            }),
        ),
        (
            "Envelope::verify (PAE + iotmark verify)",
            Box::new(|| env.verify(bb(&key)).is_ok()),
        ),
    ];
    for (name, f) in &candidates {
        if !f() {
            return Err(format!("{name} does not verify the envelope").into());
        }
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); candidates.len()];
    for round in 0..rounds as usize {
        for i in 0..candidates.len() {
            let i = (i + round) % candidates.len();
            let f = &candidates[i].1;
            let start = Instant::now();
            for _ in 0..n {
                bb(f());
            }
            times[i].push(start.elapsed().as_secs_f64() * 1e6 / f64::from(n));
        }
    }
    println!("== Ed25519 signature check, {rounds} interleaved rounds of {n} calls, µs per call");
    println!("   (min–max over the rounds, median)");
    for ((name, _), t) in candidates.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        println!(
            "{name:<54} {:>6.1}–{:<6.1} median {:.1}",
            t[0],
            t[t.len() - 1],
            t[t.len() / 2]
        );
    }
    Ok(())
}
