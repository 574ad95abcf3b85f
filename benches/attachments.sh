#!/usr/bin/env bash
# Attachment benchmark: upload and download of one large file (default 20 MiB) through the
# release server, with throughput and the server's peak RSS growth during them.
#
#   benches/attachments.sh [--bin PATH] [--size-mib N] [--runs N] [--concurrency N]
#
# Figures (one JSON line each on stdout, a summary on stderr):
#   upload    median time and MiB/s of N uploads (curl -F, loopback), and the largest RSS
#             growth of the server during one of them (kernel VmHWM - RSS before), with
#             each run's growth.
#             Target: growth < 2x the file size.
#   download  median time and MiB/s of N single downloads.
#   downloads C concurrent downloads of the same file (three rounds: unthrottled, again,
#             and at 2 MiB/s per client): wall time, aggregate MiB/s, and RSS growth in
#             total and per download. Target: no growth per download beyond a buffer (each
#             response holds one 256 KiB chunk at a time).
# Runs on loopback against a server this script starts on a fresh database in a private
# temp dir, removed (and the server stopped) on exit. Needs curl, python3, sha256sum, and
# /work/shared/bench/rss.sh (or RSS_SH=path).
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN=""
SIZE_MIB=20
RUNS=3
CONC=16
RSS_SH="${RSS_SH:-$ROOT/../shared/bench/rss.sh}"
[[ -x "$RSS_SH" ]] || RSS_SH=/work/shared/bench/rss.sh

while (($#)); do
  case "$1" in
    --bin) BIN="$2"; shift 2 ;;
    --size-mib) SIZE_MIB="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --concurrency) CONC="$2"; shift 2 ;;
    -h|--help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) echo "attachments.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done

log() { printf '%s\n' "$*" >&2; }
die() { printf 'attachments.sh: %s\n' "$*" >&2; exit 1; }
for tool in curl python3 sha256sum; do command -v "$tool" >/dev/null || die "$tool is required"; done
[[ -x "$RSS_SH" ]] || die "no rss.sh (set RSS_SH)"
while read -r var; do unset "$var"; done < <(compgen -e | grep '^RAPPORT_' || true)

if [[ -z "$BIN" ]]; then
  BIN="$ROOT/target/release/rapport"
  if [[ ! -x "$BIN" ]]; then
    log "== building release binary"
    (cd "$ROOT" && cargo build --release --locked) >&2
  fi
fi
[[ -x "$BIN" ]] || die "no executable at $BIN"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DB="$WORK/bench.db"
EMAIL=bench@example.com
PASSWORD=rapport-bench-pw
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"

echo "$PASSWORD" | RAPPORT_BCRYPT_COST=4 "$BIN" user create --db "$DB" --email "$EMAIL" \
  --name Bench --role admin --password-stdin >/dev/null
RAPPORT_LOG=warn "$BIN" serve --db "$DB" --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done
curl -fsS "$BASE/healthz" >/dev/null || die "server did not start: $(cat "$WORK/server.log")"

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -fsS "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" | json "['token']")
AUTH="Authorization: Bearer $TOKEN"
CUSTOMER=$(curl -fsS "$BASE/api/v1/customers" -H "$AUTH" -H 'content-type: application/json' \
  -d '{"name":"Bench Inc"}' | json "['id']")

FILE="$WORK/file.bin"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >"$FILE"
SHA=$(sha256sum "$FILE" | cut -d' ' -f1)
BYTES=$(stat -c %s "$FILE")

rss_now() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

upload_once() {
  curl -fsS -o "$WORK/upload.json" -w '%{time_total}\n' -H "$AUTH" "$BASE/api/v1/attachments" \
    -F entity_type=customer -F "entity_id=$CUSTOMER" -F "file=@$FILE;filename=big.bin" >"$WORK/upload.time"
}

# Warm up: one small upload and download, so the figures exclude first-use allocations.
head -c 4096 /dev/urandom >"$WORK/small.bin"
curl -fsS -o /dev/null -H "$AUTH" "$BASE/api/v1/attachments" -F entity_type=customer \
  -F "entity_id=$CUSTOMER" -F "file=@$WORK/small.bin"

log "== $RUNS uploads of $SIZE_MIB MiB"
UP_TIMES=(); UP_RUNS=(); UP_GROWTH=0; RSS_BEFORE_UP=$(rss_now)
for _ in $(seq 1 "$RUNS"); do
  line=$("$RSS_SH" "$SERVER_PID" --interval 0.02 -- bash -c "$(declare -f upload_once); AUTH='$AUTH' BASE='$BASE' CUSTOMER='$CUSTOMER' FILE='$FILE' WORK='$WORK' upload_once")
  t=$(cat "$WORK/upload.time"); UP_TIMES+=("$t")
  [[ "$(json "['sha256']" <"$WORK/upload.json")" == "$SHA" ]] || die "upload hash mismatch"
  growth=$(python3 -c "import json; d=json.loads('$line'); print(max(d['rss_peak_kb'], d['hwm_kb']) - d['rss_start_kb'])")
  if ((growth > UP_GROWTH)); then UP_GROWTH=$growth; fi
  UP_RUNS+=("$growth")
done
ID=$(json "['id']" <"$WORK/upload.json")
UP_MED=$(printf '%s\n' "${UP_TIMES[@]}" | median)
UP_MIBS=$(awk -v s="$SIZE_MIB" -v t="$UP_MED" 'BEGIN { printf "%.1f", s / t }')
UP_RATIO=$(awk -v g="$UP_GROWTH" -v b="$BYTES" 'BEGIN { printf "%.2f", g * 1024 / b }')
printf '{"figure":"upload","size_mib":%s,"runs":%s,"median_s":%s,"mib_per_s":%s,"rss_growth_kb":%s,"growth_over_file":%s,"rss_before_kb":%s,"growth_per_run_kb":[%s]}\n' \
  "$SIZE_MIB" "$RUNS" "$UP_MED" "$UP_MIBS" "$UP_GROWTH" "$UP_RATIO" "$RSS_BEFORE_UP" "$(IFS=,; echo "${UP_RUNS[*]}")"

log "== $RUNS single downloads"
DOWN_TIMES=()
for _ in $(seq 1 "$RUNS"); do
  t=$(curl -fsS -o "$WORK/down.bin" -w '%{time_total}' -H "$AUTH" "$BASE/api/v1/attachments/$ID")
  [[ "$(sha256sum "$WORK/down.bin" | cut -d' ' -f1)" == "$SHA" ]] || die "download hash mismatch"
  DOWN_TIMES+=("$t")
done
rm -f "$WORK/down.bin"
DOWN_MED=$(printf '%s\n' "${DOWN_TIMES[@]}" | median)
DOWN_MIBS=$(awk -v s="$SIZE_MIB" -v t="$DOWN_MED" 'BEGIN { printf "%.1f", s / t }')
printf '{"figure":"download","size_mib":%s,"runs":%s,"median_s":%s,"mib_per_s":%s}\n' \
  "$SIZE_MIB" "$RUNS" "$DOWN_MED" "$DOWN_MIBS"

log "== $CONC concurrent downloads"
many() {
  local pids=() i
  for i in $(seq 1 "$CONC"); do
    curl -fsS -o /dev/null --limit-rate "${LIMIT_RATE:-0}" -H "$AUTH" "$BASE/api/v1/attachments/$ID" & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
}
run_many() {
  local start end line
  start=$(date +%s.%N)
  line=$("$RSS_SH" "$SERVER_PID" --interval 0.02 -- bash -c "$(declare -f many); CONC=$CONC AUTH='$AUTH' BASE='$BASE' ID='$ID' LIMIT_RATE='$1' many")
  end=$(date +%s.%N)
  python3 -c "
import json
d = json.loads('$line')
growth = max(d['rss_peak_kb'], d['hwm_kb']) - d['rss_start_kb']
wall = $end - $start
print(json.dumps({'figure': 'downloads', 'concurrency': $CONC, 'rate_limit': '$2',
  'size_mib': $SIZE_MIB, 'wall_s': round(wall, 2), 'aggregate_mib_per_s': round($CONC * $SIZE_MIB / wall, 1),
  'rss_before_kb': d['rss_start_kb'], 'rss_growth_kb': growth,
  'growth_per_download_kb': round(growth / $CONC)}))"
}
# As fast as loopback goes, twice: the first run also fills SQLite's page caches of the
# reader connections (bounded by cache_size, shared by all requests, not per download);
# the second shows what a download costs once they are warm. Then slow clients (2 MiB/s
# each), where every response is open for ~10 s and a server that buffered whole files
# would show it.
run_many 0 none
run_many 0 none-again
run_many 2M 2MiB/s-per-client

log "== done; server RSS now $(rss_now) kB"
