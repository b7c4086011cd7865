//! Tamper evidence: no single changed byte anywhere in a signed envelope verifies.

mod common;
mod evidence_support;

use common::{random_token, write};
use evidence_support::*;
use scour::evidence::keys::PublicKey;
use scour::evidence::policy::Policy;
use scour::evidence::verify::verify as verify_envelope;

#[test]
fn flipping_any_single_bit_of_any_byte_of_the_envelope_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "closer");
    let tree = dir.path().join("tree");
    write(&tree, "a.txt", "clean\n");
    let scan = signed_scan(&random_token(20), &[&tree], &keys.private, &[]);
    let envelope = scan.report_bytes;
    let public = [PublicKey::load(&keys.public).unwrap()];
    let policy = Policy::default();
    let now = chrono::Utc::now();
    assert!(verify_envelope(&envelope, &public, &policy, &[], now).may_close());

    let mut accepted = Vec::new();
    for at in 0..envelope.len() {
        for bit in (0..8).map(|b| 1u8 << b) {
            let mut changed = envelope.clone();
            changed[at] ^= bit;
            if verify_envelope(&changed, &public, &policy, &[], now).may_close() {
                accepted.push((at, bit));
            }
        }
    }
    assert!(
        accepted.is_empty(),
        "{} of {} single-bit changes still verified, e.g. at {:?}",
        accepted.len(),
        envelope.len() * 8,
        &accepted[..accepted.len().min(5)]
    );
}
