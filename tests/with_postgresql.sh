#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL server: `tests/with_postgresql.sh COMMAND...`.
#
# Starts Debian's PostgreSQL (apt-get install postgresql) in a fresh temporary folder, listening
# on 127.0.0.1 only, at a free port, with one database `digits` that user `tuner` may use without
# a password (nothing but this machine can reach it, and it lives only as long as the command).
# The command sees the database URL in DNN_WEEK3_POSTGRES_URL. The server is stopped and its
# folder deleted when the command ends, fails or is interrupted.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
    echo "with_postgresql.sh: no PostgreSQL server found under /usr/lib/postgresql;" \
         "install it with: apt-get install postgresql" >&2
    exit 1
fi

folder=$(mktemp -d "${TMPDIR:-/tmp}/dnn-week3-postgres.XXXXXX")
as_server=()
if [[ $(id -u) == 0 ]]; then  # PostgreSQL refuses to run as root: use the package's user
    chown postgres: "$folder"
    as_server=(runuser -u postgres --)
fi

child=""
stop_server() {
    [[ -n "$child" ]] && kill "$child" 2>/dev/null || true
    "${as_server[@]}" "$bindir/pg_ctl" -D "$folder/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$folder"
}
trap stop_server EXIT
trap 'exit 130' INT TERM  # run the EXIT trap on Ctrl-C or kill too

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${as_server[@]}" "$bindir/initdb" -D "$folder/data" -U tuner --auth=trust -E UTF8 >"$folder/initdb.log"
"${as_server[@]}" "$bindir/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $folder" start >/dev/null
"${as_server[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U tuner digits
echo "with_postgresql.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"

export DNN_WEEK3_POSTGRES_URL="postgresql+psycopg://tuner@127.0.0.1:$port/digits"
# In the background and waited for: bash runs a trap only between commands, and `wait` is one
# it can interrupt, so a kill stops the server now rather than when the command finishes.
"$@" &
child=$!
wait "$child"
