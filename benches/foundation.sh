#!/usr/bin/env bash
# Foundation benchmark for Rapport: binary size, cold start, idle memory, login latency,
# and throughput/latency/peak memory of an authenticated read under wrk.
#
#   benches/foundation.sh [--bin PATH] [--quick]
#
# Prints one JSON object per figure on stdout and a readable summary on stderr.
# Everything runs on loopback against servers this script starts on fresh databases in a
# private temp dir, which is removed (and the servers stopped) on exit.
#
# Needs: bash >= 5, curl, awk, sort, and wrk for the throughput figures
#   (Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y wrk).
# See benches/README.md for what each figure means.
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_DIR="$ROOT/benches"
BIN=""
QUICK=0

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; }

while (($#)); do
  case "$1" in
    --bin) BIN="${2:?--bin needs a path}"; shift 2 ;;
    --bin=*) BIN="${1#--bin=}"; shift ;;
    --quick) QUICK=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "foundation.sh: unknown argument: $1" >&2; usage; exit 2 ;;
  esac
done

if ((QUICK)); then
  COLD_RUNS=3; LOGIN_SAMPLES=10; WRK_DURATION=3s
else
  COLD_RUNS=5; LOGIN_SAMPLES=30; WRK_DURATION=10s
fi
WRK_THREADS=2
WRK_CONNS=64
IDLE_SECS=2
POLL_SLEEP=0.005            # cold-start poll interval (plus one curl process per poll)
BCRYPT_COST=12              # the default; pinned so RAPPORT_BCRYPT_COST cannot change it
EMAIL=bench@example.com
PASSWORD=rapport-bench-pw

log() { printf '%s\n' "$*" >&2; }
die() { printf 'foundation.sh: %s\n' "$*" >&2; exit 1; }

# The server reads RAPPORT_* from the environment; start from a clean slate so a caller's
# RAPPORT_SECRET, RAPPORT_WORKERS, RAPPORT_BCRYPT_COST etc. cannot skew the figures.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^RAPPORT_' || true)

for tool in curl awk sort; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
command -v wrk >/dev/null || die "wrk is required for the throughput figures.
  Install it with: sudo apt-get update && sudo apt-get install -y wrk"

# ---------------------------------------------------------------------------- binary
if [[ -z "$BIN" ]]; then
  BIN="$ROOT/target/release/rapport"
  if [[ ! -x "$BIN" ]]; then
    log "== building release binary (cargo build --release --locked)"
    (cd "$ROOT" && cargo build --release --locked) >&2
  fi
fi
[[ -x "$BIN" ]] || die "no executable at $BIN"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
"$BIN" --version >/dev/null 2>&1 || die "$BIN --version failed"
"$BIN" serve --help 2>/dev/null | grep -q -- '--trusted-proxy' \
  || die "$BIN does not look like a rapport binary with 'serve --trusted-proxy'"

# A binary older than the sources measures old code; say so loudly (and in the JSON).
STALE=false
if [[ "$BIN" == "$ROOT/target/release/rapport" ]]; then
  newer="$(find "$ROOT/src" "$ROOT/assets" "$ROOT/schema.sql" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" \
             -newer "$BIN" -type f -print -quit 2>/dev/null || true)"
  if [[ -n "$newer" ]]; then
    STALE=true
    log "WARNING: $BIN is older than ${newer#"$ROOT"/}; run 'cargo build --release --locked' first."
  fi
fi
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
DIRTY=false
[[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null || true)" ]] && DIRTY=true

# ---------------------------------------------------------------------------- plumbing
TMP="$(mktemp -d "${TMPDIR:-/tmp}/rapport-bench.XXXXXX")"
declare -a SERVER_PIDS=()

cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_us() { local t="$EPOCHREALTIME"; printf '%s' "${t//[!0-9]/}"; }

# A port nobody listens on: random in 20000-40000, skipping ones that accept a connection.
# A race with another process is still possible; start_server retries on a failed bind.
pick_port() {
  local port i
  for ((i = 0; i < 50; i++)); do
    port=$((20000 + RANDOM % 20001))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      printf '%s' "$port"; return 0
    fi
  done
  die "no free port found in 20000-40000"
}

proc_kb() { # proc_kb PID FIELD -> kB value of FIELD (VmRSS, VmHWM) in /proc/PID/status
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# start_server NAME DB LOGLEVEL STDERR [extra serve flags...]
# Sets SERVER_PID, PORT, BASE, and START_US (launch time) / READY_US (first 200 from /healthz).
start_server() {
  local name="$1" db="$2" level="$3" errfile="$4"; shift 4
  local attempt code deadline
  for ((attempt = 1; attempt <= 5; attempt++)); do
    PORT="$(pick_port)"
    BASE="http://127.0.0.1:$PORT"
    START_US="$(now_us)"
    RAPPORT_LOG="$level" "$BIN" serve --db "$db" --bind "127.0.0.1:$PORT" \
      --bcrypt-cost "$BCRYPT_COST" "$@" >"$TMP/$name.out" 2>"$errfile" &
    SERVER_PID=$!
    SERVER_PIDS+=("$SERVER_PID")
    deadline=$((START_US + 30000000))
    while :; do
      code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/healthz" 2>/dev/null || true)"
      if [[ "$code" == 200 ]]; then
        READY_US="$(now_us)"
        return 0
      fi
      if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break # exited: most likely the port was taken meanwhile; retry on another
      fi
      (($(now_us) < deadline)) || die "$name: no 200 from $BASE/healthz within 30 s (last status $code)"
      sleep "$POLL_SLEEP"
    done
    wait "$SERVER_PID" 2>/dev/null || true
    log "  $name: server exited before answering (attempt $attempt); stdout/stderr:"
    cat "$TMP/$name.out" >&2 || true
    [[ "$errfile" != /dev/null ]] && { tail -n 20 "$errfile" >&2 || true; }
  done
  die "$name: the server did not start after 5 attempts"
}

stop_server() {
  local pid="$1" i keep=()
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for i in "${SERVER_PIDS[@]}"; do [[ "$i" != "$pid" ]] && keep+=("$i"); done
  SERVER_PIDS=("${keep[@]}")
}

# Nearest-rank percentile of the numbers in FILE (one per line).
pct() { sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { r = int((p / 100) * NR); if (r < (p / 100) * NR) r++; if (r < 1) r = 1; print v[r] }'; }
stat_of() { sort -n "$1" | awk -v what="$2" '{ v[NR] = $1; s += $1 } END { if (what == "min") print v[1]; else if (what == "max") print v[NR]; else printf "%.3f\n", s / NR }'; }
json_array() { paste -sd, "$1" | sed 's/^/[/; s/$/]/'; }

log "== rapport foundation benchmark: $BIN (commit $COMMIT$([[ $DIRTY == true ]] && echo ', dirty'))"
log "   $(nproc) cores, $(uname -sr), mode $([[ $QUICK == 1 ]] && echo quick || echo full)"

# ---------------------------------------------------------------------------- 1. size
SIZE="$(stat -c %s "$BIN")"
printf '{"figure":"binary_size","bytes":%d,"mib":%.2f,"commit":"%s","dirty":%s,"stale_vs_src":%s}\n' \
  "$SIZE" "$(awk -v b="$SIZE" 'BEGIN { print b / 1048576 }')" "$COMMIT" "$DIRTY" "$STALE"
log "binary size        $SIZE bytes ($(awk -v b="$SIZE" 'BEGIN { printf "%.2f", b / 1048576 }') MiB)"

# ---------------------------------------------------------------------------- 2+3. cold start, idle RSS
# Each run: a fresh, empty database (the server creates and migrates it), launch, and poll
# GET /healthz until the first 200. The poll costs one curl process per try plus a 5 ms
# sleep, so the figure is an upper bound with a resolution of a few ms. The same server then
# idles IDLE_SECS and we read VmRSS/VmHWM.
: >"$TMP/cold.ms"; : >"$TMP/idle_rss.kb"; : >"$TMP/idle_hwm.kb"
for ((i = 1; i <= COLD_RUNS; i++)); do
  mkdir "$TMP/cold$i"
  start_server "cold$i" "$TMP/cold$i/rapport.db" info "$TMP/cold$i.err"
  awk -v a="$START_US" -v b="$READY_US" 'BEGIN { printf "%.1f\n", (b - a) / 1000 }' >>"$TMP/cold.ms"
  sleep "$IDLE_SECS"
  proc_kb "$SERVER_PID" VmRSS >>"$TMP/idle_rss.kb"
  proc_kb "$SERVER_PID" VmHWM >>"$TMP/idle_hwm.kb"
  grep -q 'Rapport is listening' "$TMP/cold$i.out" || log "  cold$i: no 'Rapport is listening' line on stdout"
  stop_server "$SERVER_PID"
done
printf '{"figure":"cold_start","median_ms":%s,"min_ms":%s,"max_ms":%s,"runs_ms":%s,"poll_interval_ms":5}\n' \
  "$(pct "$TMP/cold.ms" 50)" "$(stat_of "$TMP/cold.ms" min)" "$(stat_of "$TMP/cold.ms" max)" "$(json_array "$TMP/cold.ms")"
log "cold start         median $(pct "$TMP/cold.ms" 50) ms over $COLD_RUNS runs ($(paste -sd' ' "$TMP/cold.ms") ms)"
printf '{"figure":"idle_rss","vmrss_kb":%s,"vmhwm_kb":%s,"runs_vmrss_kb":%s,"runs_vmhwm_kb":%s,"idle_s":%d}\n' \
  "$(pct "$TMP/idle_rss.kb" 50)" "$(pct "$TMP/idle_hwm.kb" 50)" \
  "$(json_array "$TMP/idle_rss.kb")" "$(json_array "$TMP/idle_hwm.kb")" "$IDLE_SECS"
log "idle memory        VmRSS $(pct "$TMP/idle_rss.kb" 50) kB, VmHWM $(pct "$TMP/idle_hwm.kb" 50) kB (median, after ${IDLE_SECS} s idle)"

# ---------------------------------------------------------------------------- 4. login latency
# One database for the rest of the run, with one admin (bcrypt cost 12).
DB="$TMP/bench/rapport.db"
mkdir "$TMP/bench"
printf '%s\n' "$PASSWORD" | "$BIN" --db "$DB" --bcrypt-cost "$BCRYPT_COST" user create \
  --email "$EMAIL" --name Bench --role admin --password-stdin >"$TMP/user-create.out" 2>&1 \
  || { cat "$TMP/user-create.out" >&2; die "rapport user create failed"; }

# Sign-in is rate-limited per client address (burst of 10, then 1/s). Rather than pacing
# requests >= 1.1 s apart, the server trusts 127.0.0.1 as a reverse proxy and every request
# carries its own X-Forwarded-For: 10.0.x.y, so each one counts as a different client and the
# limiter never delays or refuses one. Requests are sequential; one untimed warm-up first.
start_server login "$DB" warn "$TMP/login.err" --trusted-proxy 127.0.0.1
LOGIN_BODY="{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}"
login_once() { # login_once N OUTFILE -> prints "STATUS SECONDS"
  curl -s -o "$2" -w '%{http_code} %{time_total}\n' --max-time 30 \
    -H 'Content-Type: application/json' \
    -H "X-Forwarded-For: 10.0.$(($1 / 250)).$(($1 % 250 + 1))" \
    --data "$LOGIN_BODY" "$BASE/api/v1/auth/login"
}
read -r code _ < <(login_once 0 "$TMP/login.json")
[[ "$code" == 200 ]] || { cat "$TMP/login.json" >&2; die "login returned HTTP $code"; }
TOKEN="$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$TMP/login.json")"
[[ -n "$TOKEN" ]] || die "no token in the login response: $(cat "$TMP/login.json")"

: >"$TMP/login.ms"; LOGIN_NON200=0
for ((i = 1; i <= LOGIN_SAMPLES; i++)); do
  read -r code secs < <(login_once "$i" "$TMP/login-$i.json")
  if [[ "$code" != 200 ]]; then
    LOGIN_NON200=$((LOGIN_NON200 + 1))
    log "  login $i: HTTP $code $(head -c 200 "$TMP/login-$i.json")"
  fi
  awk -v s="$secs" 'BEGIN { printf "%.1f\n", s * 1000 }' >>"$TMP/login.ms"
done
LOGIN_HWM="$(proc_kb "$SERVER_PID" VmHWM)"
stop_server "$SERVER_PID"
printf '{"figure":"login_latency","bcrypt_cost":%d,"samples":%d,"p50_ms":%s,"p90_ms":%s,"min_ms":%s,"max_ms":%s,"mean_ms":%s,"non200":%d,"server_vmhwm_kb":%s}\n' \
  "$BCRYPT_COST" "$LOGIN_SAMPLES" "$(pct "$TMP/login.ms" 50)" "$(pct "$TMP/login.ms" 90)" \
  "$(stat_of "$TMP/login.ms" min)" "$(stat_of "$TMP/login.ms" max)" "$(stat_of "$TMP/login.ms" mean)" \
  "$LOGIN_NON200" "$LOGIN_HWM"
log "login (cost $BCRYPT_COST)    p50 $(pct "$TMP/login.ms" 50) ms, p90 $(pct "$TMP/login.ms" 90) ms over $LOGIN_SAMPLES sequential requests ($LOGIN_NON200 non-200)"

# ---------------------------------------------------------------------------- 5+6. wrk
# wrk and the server share the machine's cores. Each server gets a 1 s warm-up at one
# connection per thread, then the measured runs. Server stderr (the access log at `info`: one
# line per request) goes to /dev/null. The session token from the login server stays valid:
# the signing secret and the session live in the database.
run_wrk() { # run_wrk LABEL PATH LOGLEVEL -> one JSON line
  local label="$1" path="$2" level="$3" out="$TMP/wrk-$1.txt" line inner
  wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"$WRK_DURATION" -s "$BENCH_DIR/wrk_report.lua" \
    -H "Authorization: Bearer $TOKEN" "$BASE$path" >"$out" 2>&1 \
    || { cat "$out" >&2; die "wrk failed ($label)"; }
  line="$(sed -n 's/^WRK_JSON //p' "$out")"
  [[ -n "$line" ]] || { cat "$out" >&2; die "no WRK_JSON line from wrk ($label)"; }
  inner="${line#\{}"; inner="${inner%\}}"
  printf '{"figure":"throughput","endpoint":"%s","log":"%s","connections":%d,"threads":%d,%s,"server_vmhwm_kb":%s}\n' \
    "$path" "$level" "$WRK_CONNS" "$WRK_THREADS" "$inner" "$(proc_kb "$SERVER_PID" VmHWM)"
  awk -v l="$line" -v n="$path ($level)" 'BEGIN {
      match(l, /"rps":[0-9.]+/); rps = substr(l, RSTART + 6, RLENGTH - 6)
      match(l, /"p50_ms":[0-9.]+/); p50 = substr(l, RSTART + 9, RLENGTH - 9)
      match(l, /"p99_ms":[0-9.]+/); p99 = substr(l, RSTART + 9, RLENGTH - 9)
      match(l, /"non2xx":[0-9]+/); bad = substr(l, RSTART + 9, RLENGTH - 9)
      match(l, /"socket_errors":[0-9]+/); se = substr(l, RSTART + 16, RLENGTH - 16)
      printf "wrk %-26s %9.0f req/s  p50 %.2f ms  p99 %.2f ms  (%s non-2xx, %s socket errors)\n", n, rps, p50, p99, bad, se
    }' >&2
}

check_me() {
  local code
  code="$(curl -s -o "$TMP/me.json" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/auth/me")"
  [[ "$code" == 200 ]] || { cat "$TMP/me.json" >&2; die "GET /api/v1/auth/me returned HTTP $code"; }
}

warm_up() {
  wrk -t"$WRK_THREADS" -c"$WRK_THREADS" -d1s -H "Authorization: Bearer $TOKEN" "$BASE$1" >/dev/null 2>&1 || true
}

for level in warn info; do
  start_server "wrk-$level" "$DB" "$level" /dev/null
  check_me
  IDLE_BEFORE="$(proc_kb "$SERVER_PID" VmHWM)"
  warm_up /api/v1/auth/me
  run_wrk "me-$level" /api/v1/auth/me "$level"
  if [[ "$level" == warn ]]; then
    warm_up /healthz
    run_wrk "healthz-$level" /healthz "$level"
  fi
  printf '{"figure":"peak_rss","log":"%s","vmhwm_kb":%s,"vmrss_kb_after":%s,"vmhwm_kb_before_load":%s,"during":"%s"}\n' \
    "$level" "$(proc_kb "$SERVER_PID" VmHWM)" "$(proc_kb "$SERVER_PID" VmRSS)" "$IDLE_BEFORE" \
    "$([[ $level == warn ]] && echo 'wrk /api/v1/auth/me then /healthz' || echo 'wrk /api/v1/auth/me')"
  log "peak memory ($level)  VmHWM $(proc_kb "$SERVER_PID" VmHWM) kB, VmRSS after $(proc_kb "$SERVER_PID" VmRSS) kB (before load: VmHWM $IDLE_BEFORE kB)"
  stop_server "$SERVER_PID"
done
log "== done"
