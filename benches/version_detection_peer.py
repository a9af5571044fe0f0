"""Runs cve-bin-tool's VersionScanner (the peer named in the reference notes) over the same
condensed corpus `examples/version_detection.rs` reads, and scores it the same way: a
package counts as found when a detected (product, version) equals the expected pair.

Usage: python benches/version_detection_peer.py  (with cve-bin-tool installed; see
benches/version_detection.sh). No network: only the version scanner runs, no CVE lookup.
"""
import json
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import cve_bin_tool.util

# Its SQLite checker downloads sqlite.org's changelog when it is imported; this machine has
# no network, so that one mapping is empty (SQLite is not in the corpus's expectations).
cve_bin_tool.util.make_http_requests = lambda *a, **k: ""

from cve_bin_tool.version_scanner import VersionScanner  # noqa: E402

root = Path(__file__).resolve().parent.parent.parent / "shared/reference/version-detection"
expected = json.loads((root / "expected.json").read_text())["package_test_data"]

import logging  # noqa: E402

logging.disable(logging.INFO)
scanner = VersionScanner()
found = wrong = 0
start = time.monotonic()
for case in expected:
    archive = root / "condensed" / (case["package_name"] + ".tar.gz")
    if not archive.exists():
        continue
    hits = set()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(archive) as t:
                t.extractall(tmp, filter="data")
        except tarfile.ReadError:
            continue  # the three empty inputs: a miss for both tools
        for path in Path(tmp).rglob("*"):
            if path.is_file() and not path.is_symlink():
                for info in scanner.scan_file(str(path)) or []:
                    hits.add((info.product_info.product, info.product_info.version))
    if (case["product"], case["version"]) in hits:
        found += 1
    wrong += sum(1 for p, v in hits if p == case["product"] and v != case["version"])
elapsed = time.monotonic() - start
total = len(expected)
print(f"cve-bin-tool VersionScanner: {found}/{total} found, recall {found/total:.3f}, "
      f"{wrong} wrong versions of the expected product, {elapsed:.2f} s")
