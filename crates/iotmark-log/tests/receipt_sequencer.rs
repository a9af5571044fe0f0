//! Receipts (C2SP tlog-proof) verify offline and refuse any change; the sequencer batches
//! concurrent submissions and answers each with its durable index.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::time::Duration;

use iotmark_log::log::Log;
use iotmark_log::note::NoteSigner;
use iotmark_log::receipt::{Receipt, ReceiptError};
use iotmark_log::sequencer::Sequencer;
use iotmark_log::storage::DirStorage;

const ORIGIN: &str = "log.iotmark.example/receipts";

fn log(dir: &std::path::Path) -> Log<DirStorage> {
    Log::open(
        DirStorage::open(dir).unwrap(),
        NoteSigner::from_seed(ORIGIN, &[3; 32]).unwrap(),
    )
    .unwrap()
}

#[test]
fn a_receipt_proves_its_entry_offline_and_any_change_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = log(dir.path());
    let entries: Vec<Vec<u8>> = (0..300)
        .map(|i| format!("declaration {i}").into_bytes())
        .collect();
    log.append_batch(&entries).unwrap();
    let v = log.verifier();
    let r = log.receipt(123).unwrap();
    let text = r.encode();
    assert!(text.starts_with("c2sp.org/tlog-proof@v1\nindex 123\n"));
    assert!(text.ends_with(log.signed_checkpoint()));
    let back = Receipt::parse(text.as_bytes()).unwrap();
    assert_eq!(back, r);
    let cp = back
        .verify(&entries[123], ORIGIN, std::slice::from_ref(&v))
        .unwrap();
    assert_eq!(cp.size, 300);
    assert!(
        back.verify(&entries[124], ORIGIN, std::slice::from_ref(&v))
            .is_err()
    );

    // Flip every bit of the receipt text, one at a time: it never verifies, never panics.
    let bytes = text.as_bytes();
    for bit in 0..bytes.len() * 8 {
        let mut b = bytes.to_vec();
        b[bit / 8] ^= 1 << (bit % 8);
        if let Ok(r) = Receipt::parse(&b) {
            assert!(
                r.verify(&entries[123], ORIGIN, std::slice::from_ref(&v))
                    .is_err(),
                "bit {bit} flipped still verifies"
            );
        }
    }

    let with_extra = Receipt {
        extra: Some(b"ctx".to_vec()),
        ..r.clone()
    }
    .encode();
    assert!(with_extra.contains("\nextra Y3R4\nindex 123\n"));
    assert_eq!(
        Receipt::parse(with_extra.as_bytes())
            .unwrap()
            .extra
            .unwrap(),
        b"ctx"
    );
    let err = Receipt::parse(text.replacen("index 123", "index 0123", 1).as_bytes()).unwrap_err();
    assert_eq!(
        err,
        ReceiptError::BadLine {
            line: 2,
            reason: "index \"0123\" is not a decimal number without leading zeros".into()
        }
    );
}

#[test]
fn the_sequencer_batches_by_count_and_answers_each_submitter_with_its_index() {
    let dir = tempfile::tempdir().unwrap();
    // A wait far longer than the test: batches can only close by count.
    let seq = Sequencer::start(log(dir.path()), 8, Duration::from_secs(3600));
    let handles: Vec<_> = (0..64)
        .map(|i| {
            let s = seq.submitter();
            std::thread::spawn(move || (i, s.submit(format!("sub {i}").into_bytes()).unwrap()))
        })
        .collect();
    let mut got: Vec<(u32, u64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let (log, stats) = seq.stop().unwrap();
    assert_eq!(stats.batches, 8);
    assert_eq!(stats.entries, 64);
    got.sort_by_key(|g| g.1);
    assert_eq!(
        got.iter().map(|g| g.1).collect::<Vec<_>>(),
        (0..64).collect::<Vec<_>>()
    );
    for (i, index) in got {
        assert_eq!(log.entry(index).unwrap(), format!("sub {i}").into_bytes());
    }
    assert_eq!(log.checkpoint().size, 64);
}

#[test]
fn the_sequencer_closes_a_short_batch_after_its_wait() {
    let dir = tempfile::tempdir().unwrap();
    let seq = Sequencer::start(log(dir.path()), 1000, Duration::from_millis(5));
    let s = seq.submitter();
    assert_eq!(s.submit(b"alone".to_vec()).unwrap(), 0);
    assert_eq!(s.submit(b"second".to_vec()).unwrap(), 1);
    drop(s);
    let (log, stats) = seq.stop().unwrap();
    assert_eq!(stats.batches, 2);
    assert_eq!(log.entry(1).unwrap(), b"second");
}

#[test]
fn envelopes_submitted_with_entries_are_stored_by_the_batch_that_logs_them() {
    let dir = tempfile::tempdir().unwrap();
    let seq = Sequencer::start(log(dir.path()), 4, Duration::from_secs(3600));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let s = seq.submitter();
            std::thread::spawn(move || {
                let envelope = format!("envelope {i}").into_bytes();
                let index = s
                    .submit_with_envelope(format!("leaf {i}").into_bytes(), envelope.clone())
                    .unwrap();
                (envelope, index)
            })
        })
        .collect();
    let got: Vec<(Vec<u8>, u64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let (log, stats) = seq.stop().unwrap();
    assert_eq!(stats.batches, 2);
    for (envelope, index) in got {
        let digest = iotmark_log::merkle::sha256(&envelope);
        assert_eq!(log.envelope(&digest).unwrap(), envelope);
        assert!(log.entry(index).unwrap().starts_with(b"leaf "));
    }
}
