#!/usr/bin/env bash
# cargo deny check, offline: licences, bans, sources, and advisories read from the copy of the
# RustSec database in ../shared (turned into a throwaway git repository, which cargo-deny
# needs). Installs cargo-deny when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

db_src=../shared/reference/rustsec-advisory-db
[ -d "$db_src" ] || { echo "error: $db_src not found; clone the project beside ../shared" >&2; exit 1; }
command -v cargo-deny >/dev/null || cargo install cargo-deny --locked --version 0.20.2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$db_src" "$work/advisory-db"
git -C "$work/advisory-db" init -q -b main
git -C "$work/advisory-db" add -A
git -C "$work/advisory-db" -c user.name=ci -c user.email=ci@localhost commit -q -m snapshot

# cargo-deny fetches the database with the git command line and insists on a URL with a
# host; git's insteadOf sends that URL to the local snapshot.
url=https://advisory-db.invalid/rustsec/advisory-db
sed "s|^db-urls = .*|db-urls = [\"$url\"]\ndb-path = \"$work/dbs\"|" deny.toml > "$work/deny.toml"
GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.file://$work/advisory-db.insteadOf" GIT_CONFIG_VALUE_0="$url" \
  cargo deny --locked --config "$work/deny.toml" check "$@"
