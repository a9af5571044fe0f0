"""Chooses a held-out set for version detection: Debian or Ubuntu binary packages of the
products in cve-bin-tool's corpus (../shared/reference/version-detection), from releases and
architectures the corpus does not hold, so that no signature was written from them.

Steps (called by benches/version_detection_heldout.sh):
  choose LISTS CORPUS OUT PLAN
                            read the apt Packages indexes in LISTS and write the candidate
                            packages (name, product, version, suite, arch, archive path);
                            PLAN names one architecture per release, `suite=arch,...`, so
                            each release adds another build as well as another version
  unseen MANIFEST OUT OTHER...
                            keep the packages of MANIFEST whose product and upstream
                            version no OTHER manifest holds (Ubuntu syncs many packages from
                            Debian: this is the part that is new in every respect)
  installed LISTS MANIFEST OUT
                            add to each package of MANIFEST the packages of its own
                            source (same source version) it depends on, directly or through
                            another, from the same release and architecture: `with` lists
                            their files and `fetch` their archive paths. A package whose
                            program sits in a sibling (dnsmasq's in dnsmasq-base, ghostscript's
                            library in libgs10) is then measured as an image installing it
                            holds it
  keep CANDIDATES DEBS CORPUS OUT
                            keep the candidates that hold a file of the same name as a
                            file of the corpus's package of that product (sonames compared
                            without their version), so the held-out package contains the
                            program or library the corpus package did, whatever its version
                            prints; write the manifest the Rust example reads

A package of the corpus is named for its product by expected.json; the Debian package with
the same name (lower case) is the candidate.
"""
import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

def corpus_packages(corpus):
    """(lower-case package base name, product, package file) for every corpus package."""
    expected = json.loads((corpus / "expected.json").read_text())["package_test_data"]
    for case in expected:
        name = case["package_name"]
        if name.endswith((".deb", ".ipk")):
            base = name.split("_")[0]
        else:
            m = re.match(r"(.+?)-\d", name)
            base = m.group(1) if m else name
        yield base.lower(), case["product"], name


def stanzas(text):
    for stanza in text.split("\n\n"):
        fields = {}
        for line in stanza.split("\n"):
            if ": " in line and not line.startswith(" "):
                k, v = line.split(": ", 1)
                fields[k] = v
        if "Package" in fields:
            yield fields


def choose(lists, corpus, out, plan):
    plan = dict(pair.split("=") for pair in plan.split(","))
    products = {base: product for base, product, _ in corpus_packages(corpus)}
    rows = {}
    # Ubuntu's universe holds most of these products; its main and universe are both read.
    for index in sorted(Path(lists).glob("*_Packages")):
        m = re.search(r"dists_([\w-]+)_(?:main|universe)_binary-(\w+)_Packages", index.name)
        if not m:
            continue
        suite, arch = m.groups()
        for f in stanzas(index.read_text(encoding="utf-8", errors="replace")):
            if f["Package"] in products:
                rows.setdefault(f["Package"], []).append((suite, arch, f["Version"], f["Filename"]))
    chosen = []
    for name, found in sorted(rows.items()):
        versions = set()
        for suite, arch in plan.items():
            pick = [r for r in found if r[0] == suite and r[1] in (arch, "all")]
            if pick and pick[0][2] not in versions:
                versions.add(pick[0][2])
                _, arch, version, filename = pick[0]
                chosen.append(dict(package=name, product=products[name], version=version,
                                   suite=suite, arch=arch, path=filename,
                                   file=os.path.basename(filename)))
    Path(out).write_text(json.dumps(chosen, indent=1))
    print(f"{len(chosen)} candidate packages of {len(rows)} names", file=sys.stderr)


def file_key(name):
    name = os.path.basename(name.rstrip("/"))
    return re.sub(r"\.so(\.\d+)*$", ".so", name)


def deb_files(path):
    """Names of the regular files a .deb installs, outside /usr/share. dpkg-deb reads the
    data member whatever its compression (Ubuntu's are zstd, which tarfile cannot open)."""
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(path)], capture_output=True,
                         check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        return {file_key(m.name) for m in t.getmembers()
                if m.isfile() and not m.name.lstrip("./").startswith("usr/share/")}


def keep(candidates, debs, corpus, out):
    own = {}
    for base, _, package in corpus_packages(corpus):
        try:
            with tarfile.open(corpus / "condensed" / f"{package}.tar.gz") as t:
                own.setdefault(base, set()).update(file_key(m.name) for m in t.getmembers() if m.isfile())
        except (tarfile.ReadError, OSError):
            continue
    kept = [c for c in json.loads(Path(candidates).read_text())
            if (Path(debs) / c["file"]).exists()
            and deb_files(Path(debs) / c["file"]) & own.get(c["package"], set())]
    Path(out).write_text(json.dumps(kept, indent=1))
    print(f"kept {len(kept)} packages of {len({c['product'] for c in kept})} products",
          file=sys.stderr)


def upstream(version):
    """The upstream part of a Debian or Ubuntu version, as the Rust example's
    `debian_upstream` takes it."""
    v = version.split(":", 1)[-1]
    v = v.rsplit("-", 1)[0] if "-" in v else re.sub(r"(?:ubuntu|build)[\d.]+$", "", v)
    v = v.split("+really", 1)[1] if "+really" in v else v
    release = re.split(r"[+~]", v)[0]
    for suffix in (".dfsg", ".ds"):
        release = release[: -len(suffix)] if release.endswith(suffix) else release
    # A snapshot after a release (7.8.git20221117.28daf24) is that release.
    release = re.sub(r"\.git\d.*$", "", release)
    # A pre-release keeps its tag: 3.8.0~beta1 is 3.8.0beta1.
    tag = re.match(r"~((?:alpha|beta)\d*|(?:pre|rc)\d+)(?![A-Za-z])", v[len(release):])
    return release + (tag.group(1) if tag else "")


def unseen(manifest, out, others):
    seen = {(e["product"], upstream(e["version"]))
            for other in others for e in json.loads(Path(other).read_text())}
    kept = [e for e in json.loads(Path(manifest).read_text())
            if (e["product"], upstream(e["version"])) not in seen]
    Path(out).write_text(json.dumps(kept, indent=1))
    print(f"{len(kept)} packages of versions no other set holds", file=sys.stderr)


def source_of(fields):
    """(source name, source version) of a binary package's stanza."""
    m = re.match(r"(\S+)(?: \((\S+)\))?", fields.get("Source", fields["Package"]))
    return m.group(1), m.group(2) or fields["Version"]


def installed(lists, manifest, out):
    index = {}
    for path in sorted(Path(lists).glob("*_Packages")):
        m = re.search(r"dists_([\w-]+)_(?:main|universe)_binary-(\w+)_Packages", path.name)
        if not m:
            continue
        for f in stanzas(path.read_text(encoding="utf-8", errors="replace")):
            index.setdefault((*m.groups(), f["Package"]), []).append(f)
    entries = json.loads(Path(manifest).read_text())
    for e in entries:
        found = [f for f in index.get((e["suite"], e["arch"], e["package"]), [])
                 if f["Version"] == e["version"]]
        e["with"], e["fetch"] = [], []
        if not found:
            continue
        source = source_of(found[0])
        pending, seen = [found[0]], {e["package"]}
        while pending:
            fields = pending.pop()
            depends = ", ".join(fields.get(k, "") for k in ("Pre-Depends", "Depends"))
            for clause in filter(None, (c.strip() for c in depends.split(","))):
                # The first alternative of its own source is the one an install takes.
                for alternative in clause.split("|"):
                    name = re.split(r"[\s(:\[]", alternative.strip(), maxsplit=1)[0]
                    sibling = next((f for f in index.get((e["suite"], e["arch"], name), [])
                                    if source_of(f) == source), None)
                    if sibling:
                        if name not in seen:
                            seen.add(name)
                            pending.append(sibling)
                            e["with"].append(os.path.basename(sibling["Filename"]))
                            e["fetch"].append(sibling["Filename"])
                        break
    Path(out).write_text(json.dumps(entries, indent=1))
    grown = sum(1 for e in entries if e["with"])
    print(f"{grown} of {len(entries)} packages depend on others of their own source",
          file=sys.stderr)


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    if step == "choose":
        choose(args[0], Path(args[1]), args[2], args[3])
    elif step == "unseen":
        unseen(args[0], args[1], args[2:])
    elif step == "installed":
        installed(args[0], args[1], args[2])
    elif step == "keep":
        keep(args[0], args[1], Path(args[2]), args[3])
    else:
        sys.exit(f"unknown step {step}")
