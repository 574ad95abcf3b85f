#!/usr/bin/env bash
# The benchmark suite: Rapport against the Express + better-sqlite3 peer, same data, same run.
#
#   bash benches/suite.sh [--scale medium|large] [--rounds N] [--only rapport|peer] [-- LOAD.SH OPTIONS]
#
#   --scale S     dataset size of ../shared/bench/gen_dataset.py (default medium)
#   --rounds N    rounds; each runs both servers, in alternating order (default 3)
#   --only NAME   measure one server (its ratio column then stays empty)
#   --out DIR     where the raw result lines and the report go (default target/bench-results/<time>)
#   after --       options passed to every ../shared/bench/load.sh run (e.g. -d 5s)
#
# What it does:
#   1. builds Rapport in release (cargo build --release --locked);
#   2. generates the dataset once into target/bench-data/<scale>/ (gen_dataset.py, seed 42);
#   3. loads it once per server into target/bench-data/<scale>/{rapport,peer}.db: Rapport with
#      `rapport import` (the same CSVs the peer's loader reads; the admin gets the password
#      load.sh is given), then `rapport backup` for a compact, checkpointed file; the peer with
#      its own loader (peer-express/load.sh);
#   4. per round and server: copies the loaded file (create_lead adds rows), starts the
#      server, times the start until /healthz answers, reads its idle RSS, then runs load.sh
#      under rss.sh (the server's peak RSS while the five workloads run), and stops it;
#   5. prints a Markdown table of medians: req/s, p50, p99, errors, the ratio to the peer and
#      the issue's target for each workload, and RSS, start time and binary size.
# Needs: cargo, python3, node + npm (the peer installs its modules on first use), wrk, curl.
set -euo pipefail

scale=medium
rounds=3
only=""
out=""
load_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) scale=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --only) only=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --) shift; load_args=("$@"); break ;;
        -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "suite.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
bench=${RAPPORT_BENCH_TOOLS:-$root/../shared/bench}
[ -x "$bench/load.sh" ] || { echo "suite.sh: $bench/load.sh not found (set RAPPORT_BENCH_TOOLS)" >&2; exit 2; }
for tool in cargo python3 node npm wrk curl; do
    command -v "$tool" >/dev/null || { echo "suite.sh: $tool not found" >&2; exit 2; }
done

email=admin@harborpine.example
password=rapport-bench-pw
data=$root/target/bench-data/$scale
out=${out:-$root/target/bench-results/$(date -u +%Y%m%dT%H%M%SZ)-$scale}
mkdir -p "$data" "$out"
bin=$root/target/release/rapport
note() { printf '[suite %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

note "building the release binary"
(cd "$root" && cargo build --release --locked --quiet)

if [ ! -s "$data/manifest.json" ]; then
    note "generating the $scale dataset into $data"
    python3 "$bench/gen_dataset.py" "$data" --scale "$scale" --seed 42
fi

# A loaded database is reused while the binary's schema is the same; a new migration reloads.
schema_version() { sha256sum "$root/schema.sql" "$root"/src/db/migrations/* 2>/dev/null | sha256sum | cut -c1-16; }
load_rapport() {
    local db=$data/rapport.db stamp
    stamp=$(schema_version)
    if [ -s "$db" ] && [ "$(cat "$db.schema" 2>/dev/null)" = "$stamp" ]; then return; fi
    note "loading the dataset into Rapport (rapport import)"
    local work=$data/rapport-loading.db
    rm -f "$work" "$work-wal" "$work-shm" "$db"
    export RAPPORT_DB=$work RAPPORT_LOG=warn
    "$bin" migrate >/dev/null
    printf '%s\n' "$password" | "$bin" user create --email "$email" --name "Bench Admin" --role admin --password-stdin >/dev/null
    RAPPORT_BCRYPT_COST=4 "$bin" import users "$data/users.csv" >/dev/null
    for entity in customers contacts leads tasks activities; do
        local started=$SECONDS
        "$bin" import "$entity" "$data/$entity.csv" >/dev/null 2>"$out/import-$entity.log" ||
            { echo "suite.sh: import of $entity failed, see $out/import-$entity.log" >&2; exit 1; }
        note "  $entity: $((SECONDS - started)) s"
    done
    "$bin" backup "$db" --force >/dev/null
    unset RAPPORT_DB RAPPORT_LOG
    rm -f "$work" "$work-wal" "$work-shm"
    echo "$stamp" > "$db.schema"
}
load_peer() {
    [ -s "$data/peer.db" ] && return
    note "loading the dataset into the peer (peer-express/load.sh)"
    "$bench/peer-express/load.sh" "$data" "$data/peer.db.loading" "$password" >&2
    mv "$data/peer.db.loading" "$data/peer.db"
    rm -f "$data/peer.db.loading-wal" "$data/peer.db.loading-shm"
}
[ "$only" != peer ] && load_rapport
[ "$only" != rapport ] && load_peer

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}
cleanup() { stop_server; rm -f "$out"/run.db "$out"/run.db-*; }
trap cleanup EXIT

# One measured run of one server: start, idle RSS, the five loads under rss.sh, stop.
measure() {
    local name=$1 round=$2 port start_ns ready_ms
    port=$(free_port)
    rm -f "$out"/run.db "$out"/run.db-*
    cp "$data/$name.db" "$out/run.db"
    sync
    start_ns=$(date +%s%N)
    if [ "$name" = rapport ]; then
        RAPPORT_LOG=warn "$bin" --db "$out/run.db" serve --bind "127.0.0.1:$port" 2>"$out/$name-$round.log" &
    else
        "$bench/peer-express/start.sh" "$port" "$out/run.db" >"$out/$name-$round.log" 2>&1 &
    fi
    server_pid=$!
    until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; do
        kill -0 "$server_pid" 2>/dev/null || { echo "suite.sh: $name did not start, see $out/$name-$round.log" >&2; exit 1; }
        sleep 0.005
    done
    ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
    # The peer's start.sh execs node, so the PID is the server's in both cases.
    sleep 2
    local idle
    idle=$("$bench/rss.sh" "$server_pid" --label "$name")
    "$bench/rss.sh" "$server_pid" --label "$name" --out "$out/$name-$round.rss" -- \
        "$bench/load.sh" "http://127.0.0.1:$port" "$email" "$password" --label "$name" "${load_args[@]}" \
        > "$out/$name-$round.jsonl" 2>"$out/$name-$round.load.log"
    printf '{"server":"%s","round":%d,"ready_ms":%d,"idle":%s,"load":%s}\n' \
        "$name" "$round" "$ready_ms" "$idle" "$(cat "$out/$name-$round.rss")" >> "$out/servers.jsonl"
    stop_server
}

servers=(rapport peer)
[ -n "$only" ] && servers=("$only")
for round in $(seq 1 "$rounds"); do
    order=("${servers[@]}")
    # Alternate who goes first, so neither always gets the cooler machine.
    if (( round % 2 == 0 )) && [ ${#order[@]} -eq 2 ]; then order=("${order[1]}" "${order[0]}"); fi
    for name in "${order[@]}"; do
        note "round $round/$rounds: $name"
        measure "$name" "$round"
    done
done

python3 "$root/benches/suite_report.py" "$out" "$bin" "$scale" | tee "$out/report.md"
note "raw results in $out"
