"""pymerkle 7.0.0 side of benches/log.sh: inclusion proofs over the same leaves as
crates/iotmark-log/examples/log_bench.rs, and a cross-check of its proofs and roots.

pymerkle hashes as RFC 6962 / RFC 9162 do by default ("security" mode: leaf SHA-256(0x00 ||
entry), node SHA-256(0x01 || left || right), the left subtree the largest power of two below
the size), which is the mode used here. Its proofs count leaves from one, and their path
starts with the leaf hash; the rest of the path is the RFC 9162 audit path, leaf sibling first.

Usage: log_peer.py RUST_OUTPUT N WORKDIR SIZE...
  RUST_OUTPUT: the output of `log_bench proofs`, whose `proofs` and `xcheck` lines give our
  roots and proofs. N: proofs to time per tree. WORKDIR: where the SQLite tree is kept.
"""

import hashlib
import os
import random
import sys
import time

import pymerkle
from pymerkle import InclusionProof, InmemoryTree, SqliteTree, verify_inclusion

# Must match record() in crates/iotmark-log/examples/log_bench.rs and the layout in
# crates/iotmark-log/src/leaf.rs.
SIGNER_KEY_ID = b"conformity-lab.example.com+4f2a9c1e"
T0 = 1_790_000_000


def record(i):
    kind = 2 if i % 100 == 99 else 1
    return (
        bytes([1, kind])
        + hashlib.sha256(b"statement %d" % i).digest()
        + hashlib.sha256(b"envelope %d" % i).digest()
        + bytes([len(SIGNER_KEY_ID)])
        + SIGNER_KEY_ID
        + (T0 + i).to_bytes(8, "big")
    )


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def parse_rust(path):
    roots, xchecks = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, *fields = line.split()
            kv = dict(field.split("=", 1) for field in fields if "=" in field)
            if word == "proofs":
                roots[int(kv["size"])] = kv["root"]
            elif word == "xcheck":
                proof = kv.get("proof", "")
                xchecks.setdefault(int(kv["size"]), []).append(
                    (int(kv["index"]), proof.split(",") if proof else [])
                )
    return roots, xchecks


def time_proofs(tree, size, n, rng):
    indices = [rng.randrange(size) for _ in range(n)]
    start = time.perf_counter()
    proofs = [tree.prove_inclusion(i + 1) for i in indices]
    prove = time.perf_counter() - start
    root = tree.get_root()
    leaves = [tree.get_leaf(i + 1) for i in indices]
    start = time.perf_counter()
    for leaf, proof in zip(leaves, proofs):
        verify_inclusion(leaf, root, proof)
    verify = time.perf_counter() - start
    return n / prove, n / verify


def cross_check(tree, size, root_hex, checks):
    """Our root and proofs against pymerkle's; and pymerkle's verifier on our proofs."""
    root = tree.get_root()
    if root.hex() != root_hex:
        sys.exit(f"error: size {size}: pymerkle root {root.hex()} != iotmark root {root_hex}")
    agree = 0
    for index, ours in checks:
        theirs = tree.prove_inclusion(index + 1)
        leaf = leaf_hash(record(index))
        if theirs.path[0] != leaf:
            sys.exit(f"error: size {size} leaf {index}: pymerkle's leaf hash differs from RFC 6962's")
        if [h.hex() for h in theirs.path[1:]] != ours:
            sys.exit(f"error: size {size} leaf {index}: the proofs differ")
        mine = InclusionProof("sha256", True, size, index + 1, theirs.rule,
                              [leaf] + [bytes.fromhex(h) for h in ours])
        verify_inclusion(leaf, root, mine)
        agree += 1
    return agree


def main(argv):
    rust_output, n, workdir, sizes = argv[1], int(argv[2]), argv[3], [int(a) for a in argv[4:]]
    roots, xchecks = parse_rust(rust_output)
    rng = random.Random(5)
    print(f"pymerkle {pymerkle.__version__}, RFC 6962 hashing (security mode, the default)")
    for k, size in enumerate(sizes):
        entries = [record(i) for i in range(size)]
        start = time.perf_counter()
        tree = InmemoryTree.init_from_entries(entries)
        build = time.perf_counter() - start
        prove, verify = time_proofs(tree, size, n, rng)
        agree = cross_check(tree, size, roots[size], xchecks[size])
        print(f"pymerkle size={size} backend=InmemoryTree n={n} build_s={build:.2f} "
              f"prove_per_s={prove:.0f} verify_per_s={verify:.0f}")
        print(f"xcheck size={size} root=equal proofs_equal={agree}/{len(xchecks[size])} "
              f"pymerkle_verifies_ours={agree}/{len(xchecks[size])}")
        del tree
        if k == 0:
            # pymerkle's persistent backend, the closer match to tiles on disk; it computes
            # subtree roots from the stored leaves and caches the large ones, so its first
            # proofs are slower than later ones. Both passes are reported.
            db = os.path.join(workdir, f"pymerkle-{size}.db")
            with SqliteTree(db) as sql:
                start = time.perf_counter()
                sql.append_entries(entries)
                build = time.perf_counter() - start
                m = max(1, n // 10)
                first, _ = time_proofs(sql, size, m, rng)
                warm, verify = time_proofs(sql, size, m, rng)
                if sql.get_root().hex() != roots[size]:
                    sys.exit(f"error: size {size}: pymerkle's SQLite root differs")
            os.remove(db)
            print(f"pymerkle size={size} backend=SqliteTree n={m} build_s={build:.2f} "
                  f"prove_first_pass_per_s={first:.0f} prove_per_s={warm:.0f} verify_per_s={verify:.0f}")


if __name__ == "__main__":
    main(sys.argv)
