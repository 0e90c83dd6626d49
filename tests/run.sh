#!/usr/bin/env bash
# The one test command. On a fresh machine of this kind it installs what is missing (apt), starts a
# throwaway PostgreSQL cluster, Redis, Dovecot IMAP and an SMTP sink on free loopback ports, builds
# once, runs every test project against them, stops them, and exits non-zero if anything failed.
#   tests/run.sh                 everything
#   tests/run.sh Domain Web      only those test projects (ProDesk.<Name>.Tests)
#   TEST_FILTER=Channels tests/run.sh Web    only the tests matching a dotnet test --filter
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ART="$ROOT/tests/.artifacts"
rm -rf "$ART" && mkdir -p "$ART"
log() { printf '\n== %s\n' "$*"; }

# --- 1. what this machine lacks ------------------------------------------------------------
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
missing=()
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)
command -v dovecot >/dev/null || missing+=(dovecot-imapd)
# Debian's own Python, not whichever python3 comes first on PATH: the package installs into it.
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || missing+=(python3-aiosmtpd)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$ART/apt.log" 2>&1 \
    || { echo "apt-get install ${missing[*]} failed; see $ART/apt.log" >&2; tail -20 "$ART/apt.log" >&2; exit 1; }
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# --- 2. throwaway servers on loopback ----------------------------------------------------------
PGDATA_DIR=$(mktemp -d /tmp/prodesk-pg.XXXXXX)
PG_PORT=$(free_port)
REDIS_PORT=$(free_port)
REDIS_DIR=$(mktemp -d /tmp/prodesk-redis.XXXXXX)
source tests/mail/servers.sh
cleanup() {
  local status=$?
  # The mail servers' logs (and dovecot's config) go to $ART when the run failed.
  if [ "$status" -ne 0 ]; then mail_servers_stop "$ART"; else mail_servers_stop; fi
  [ -f "$PGDATA_DIR/data/postmaster.pid" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -m immediate stop >/dev/null 2>&1
  [ -f "$REDIS_DIR/redis.pid" ] && kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null
  rm -rf "$PGDATA_DIR" "$REDIS_DIR"
}
trap cleanup EXIT

log "PostgreSQL ($("$PG_BIN/postgres" --version | awk '{print $3}')) on 127.0.0.1:$PG_PORT"
chown postgres "$PGDATA_DIR"
runuser -u postgres -- "$PG_BIN/initdb" -D "$PGDATA_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$ART/initdb.log" 2>&1 \
  || { cat "$ART/initdb.log" >&2; exit 1; }
# Throwaway cluster: durability off, enough connections for the load tests.
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/server.log" -w -t 60 \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PGDATA_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c shared_buffers=256MB" \
  start >/dev/null || { cat "$PGDATA_DIR/server.log" >&2; exit 1; }

log "Redis on 127.0.0.1:$REDIS_PORT"
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
  --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" --dir "$REDIS_DIR" || exit 1

# Exports PRODESK_TEST_IMAP (127.0.0.1:PORT), PRODESK_TEST_IMAP_PASSWORD (any user name logs in with
# it), PRODESK_TEST_SMTP (127.0.0.1:PORT) and PRODESK_TEST_SMTP_DIR (one .eml per message sent).
mail_servers_start "$ART" || exit 1
log "Dovecot IMAP ($(dovecot --version | awk '{print $1}')) on $PRODESK_TEST_IMAP, SMTP sink on $PRODESK_TEST_SMTP"

# The tests create their own databases and a non-superuser role through this superuser connection.
export PRODESK_TEST_PG="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"
export PRODESK_TEST_REDIS="127.0.0.1:$REDIS_PORT"
export PRODESK_CHROMIUM=/usr/bin/chromium
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# --- 3. build once, run every test project ----------------------------------------------------
log "build"
dotnet build ProDesk.sln -c Release -nologo -v q -clp:NoSummary >"$ART/build.log" 2>&1 \
  || { grep -E "error|Error" "$ART/build.log" | sort -u | head -50 >&2; echo "build failed" >&2; exit 1; }

projects=(Domain Web Browser)
[ $# -gt 0 ] && projects=("$@")
failed=0 passed_total=0 failed_total=0
for name in "${projects[@]}"; do
  project="tests/ProDesk.$name.Tests"
  log "test $project"
  dotnet test "$project" -c Release --no-build -nologo --logger "console;verbosity=normal" ${TEST_FILTER:+--filter "$TEST_FILTER"} \
    --results-directory "$ART/$name" 2>&1 | tee "$ART/$name.log" | grep -E "^\s+(Failed|Passed|Skipped) |Failed!|Passed!|error" | grep -vE "^\s+Passed " 
  status=${PIPESTATUS[0]}
  # VSTest's closing block: "Total tests: N", "Passed: N", "Failed: N".
  p=$(grep -oP '^\s+Passed: +\K[0-9]+' "$ART/$name.log" | tail -n 1)
  f=$(grep -oP '^\s+Failed: +\K[0-9]+' "$ART/$name.log" | tail -n 1)
  summary=$(grep -E '^Total tests: ' "$ART/$name.log" | tail -n 1)
  [ -n "$summary" ] && echo "$summary, passed ${p:-0}, failed ${f:-0}"
  passed_total=$((passed_total + ${p:-0})); failed_total=$((failed_total + ${f:-0}))
  if [ "$status" -ne 0 ]; then
    failed=1
    [ -z "$summary" ] && { echo "test run of $project failed without a summary:" >&2; tail -40 "$ART/$name.log" >&2; }
  fi
done

# --- 4. the benchmark harness still runs (a few seconds; real figures: see its README) -----------
if [ $# -eq 0 ]; then
  log "benchmark smoke"
  if dotnet run --project tests/ProDesk.Benchmarks -c Release --no-build -- --smoke >"$ART/bench-smoke.log" 2>&1; then
    tail -n 3 "$ART/bench-smoke.log"
  else
    echo "benchmark smoke failed:" >&2; tail -30 "$ART/bench-smoke.log" >&2; failed=1
  fi
fi

echo
echo "tests: $passed_total passed, $failed_total failed"
exit $failed
