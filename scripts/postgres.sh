#!/usr/bin/env bash
# A private PostgreSQL server for the registry's tests, under target/postgres/.
#
#   bash scripts/postgres.sh --install   install Debian's postgresql when it is missing (root)
#   bash scripts/postgres.sh start       create (first time) and start the server; prints
#                                        TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/iotmark_test
#   bash scripts/postgres.sh stop        stop it
#
# Use it as: eval "$(bash scripts/postgres.sh start)" && export TEST_DATABASE_URL
# Only that line goes to standard output; progress goes to standard error.
#
# The server listens on 127.0.0.1 only, port $PGPORT (default 55432), with trust
# authentication, and fsync off: it holds throwaway test data, never anything to keep. Starting
# it when it runs already, or stopping it when it does not, is fine.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PGPORT:-55432}
database=iotmark_test

say() { echo "postgres.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

find_bin() {
  local dir
  # The newest installed major version.
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install() {
  if find_bin >/dev/null; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
  say "installing Debian's postgresql"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  find_bin >/dev/null || die "postgresql installed, but no /usr/lib/postgresql/*/bin/initdb"
}

# initdb and the server refuse to run as root: as root, they run as the postgres user (from /,
# as it may not be allowed into the working directory; every path here is absolute).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# The cluster's directory: target/postgres, unless the postgres user cannot reach it (a
# checkout under a private home directory), then a directory of ours under /tmp.
base_dir() {
  local base=$PWD/target/postgres
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$base"
    chown postgres: "$base"
    if ! runuser -u postgres -- test -w "$base"; then
      base=${TMPDIR:-/tmp}/iotmark-postgres-$(printf '%s' "$PWD" | cksum | cut -d' ' -f1)
      mkdir -p "$base"
      chown postgres: "$base"
      chmod 700 "$base"
      say "the postgres user cannot write to target/postgres; using $base"
    fi
  else
    mkdir -p "$base"
  fi
  echo "$base"
}

start() {
  local bin base data sockets log
  bin=$(find_bin) || die "PostgreSQL is not installed; run: bash scripts/postgres.sh --install"
  base=$(base_dir)
  data=$base/data
  sockets=$base/sockets
  log=$base/server.log
  # A Unix socket path longer than this does not fit in sockaddr_un: TCP only then.
  if [ ${#sockets} -gt 100 ]; then
    sockets=
  else
    as_owner mkdir -p "$sockets"
  fi

  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating a cluster in $data"
    as_owner "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C -A trust >/dev/null
    # Local connections only, and no password: the server listens on 127.0.0.1 alone.
    as_owner sh -c "printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' > '$data/pg_hba.conf'"
  fi

  if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "already running ($data)"
  else
    # Another cluster (another checkout's, a developer's) may hold the default port: without
    # an explicit PGPORT, take the next free one.
    if [ -z "${PGPORT:-}" ]; then
      while (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; do
        port=$((port + 1))
      done
    fi
    say "starting on 127.0.0.1:$port"
    if ! as_owner "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k '$sockets' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null; then
      tail -n 20 "$log" >&2 || true
      die "the server did not start (log: $log); is port $port taken? Set PGPORT to another"
    fi
  fi

  # The port it really listens on: a server that was already running keeps its own.
  port=$(sed -n 4p "$data/postmaster.pid")
  local psql=("$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
  if [ -z "$("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
    "${psql[@]}" -c "CREATE DATABASE $database" >/dev/null
  fi
  echo "TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$port/$database"
}

stop() {
  local bin base
  bin=$(find_bin) || { say "PostgreSQL is not installed; nothing to stop"; return 0; }
  base=$(base_dir)
  if [ -f "$base/data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null
    say "stopped"
  else
    say "not running"
  fi
}

case "${1:-}" in
  --install) install ;;
  start) start ;;
  stop) stop ;;
  *) die "usage: bash scripts/postgres.sh --install | start | stop" ;;
esac
