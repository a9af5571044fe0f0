"""The independent side of the DSSE interop tests (tests/interop.rs).

Uses securesystemslib's DSSE Envelope and CryptoSigner/SSlibKey (Ed25519 via pyca/cryptography)
and in-toto's Metadata loader, installed by scripts/interop-dsse.sh. Prints one line per
check; exits non-zero with the reason on the first failure.

  verify ENVELOPE PUBLIC_PEM KEYID      verify an envelope iotmark wrote
  sign PRIVATE_PEM PAYLOAD OUT          sign PAYLOAD with iotmark's PKCS#8 key
  generate-and-sign PAYLOAD OUTDIR      sign with a fresh key; write envelope.json, public.pem
  bench ENVELOPE PUBLIC_PEM KEYID N     parse and verify the envelope N times, print per second
"""

import json
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from in_toto.models.metadata import Metadata
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"


def load_public(pem_path, keyid):
    with open(pem_path, "rb") as f:
        public = serialization.load_pem_public_key(f.read())
    return SSlibKey.from_crypto(public, keyid=keyid)


def verify(envelope_path, pem_path, keyid):
    key = load_public(pem_path, keyid)
    with open(envelope_path, encoding="utf-8") as f:
        data = json.load(f)
    envelope = Envelope.from_dict(json.loads(json.dumps(data)))
    accepted = envelope.verify([key], 1)
    assert keyid in accepted, accepted
    print(f"securesystemslib: signature by {keyid} verified")

    # in-toto's own loader picks the DSSE path by payloadType and verifies through it.
    metadata = Metadata.from_dict(json.loads(json.dumps(data)))
    metadata.verify_signature(dict(key.to_dict(), keyid=keyid))
    print("in-toto: envelope verified")

    statement = json.loads(envelope.payload)
    assert envelope.payload_type == PAYLOAD_TYPE, envelope.payload_type
    assert statement["_type"] == "https://in-toto.io/Statement/v1", statement["_type"]
    for subject in statement["subject"]:
        assert len(subject["digest"]["sha256"]) == 64, subject
    print(f"statement: {statement['predicateType']} with {len(statement['subject'])} subject(s)")


def write_envelope(envelope, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(envelope.to_dict(), f)


def sign(private_pem, payload_path, out):
    with open(private_pem, "rb") as f:
        private = serialization.load_pem_private_key(f.read(), password=None)
    signer = CryptoSigner(private)
    with open(payload_path, "rb") as f:
        envelope = Envelope(f.read(), PAYLOAD_TYPE, {})
    envelope.sign(signer)
    write_envelope(envelope, out)
    print(f"signed with keyid {signer.public_key.keyid}")


def generate_and_sign(payload_path, outdir):
    private = Ed25519PrivateKey.generate()
    signer = CryptoSigner(private)
    with open(payload_path, "rb") as f:
        envelope = Envelope(f.read(), PAYLOAD_TYPE, {})
    envelope.sign(signer)
    write_envelope(envelope, f"{outdir}/envelope.json")
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with open(f"{outdir}/public.pem", "wb") as f:
        f.write(pem)
    print(f"signed with keyid {signer.public_key.keyid}")


def bench(envelope_path, pem_path, keyid, n):
    key = load_public(pem_path, keyid)
    with open(envelope_path, encoding="utf-8") as f:
        text = f.read()
    start = time.perf_counter()
    for _ in range(n):
        envelope = Envelope.from_dict(json.loads(text))
        envelope.verify([key], 1)
        json.loads(envelope.payload)
    elapsed = time.perf_counter() - start
    print(f"securesystemslib: {n} verifications in {elapsed:.3f} s = {n / elapsed:.0f}/s")


def main(argv):
    command, args = argv[1], argv[2:]
    if command == "verify":
        verify(*args)
    elif command == "sign":
        sign(*args)
    elif command == "generate-and-sign":
        generate_and_sign(*args)
    elif command == "bench":
        bench(args[0], args[1], args[2], int(args[3]))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
