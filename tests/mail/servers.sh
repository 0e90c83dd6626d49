# Throwaway mail servers on loopback for the tests; sourced by tests/run.sh, or by hand:
#   source tests/mail/servers.sh && mail_servers_start && dotnet test ... ; mail_servers_stop
#
# mail_servers_start [ARTIFACTS_DIR]   starts, in a temp dir of their own,
#   - Dovecot IMAP (plain IMAP, no TLS) on 127.0.0.1:<free port>: any user name logs in with the one
#     password below, its mailbox (maildir) is made on first login, IDLE works;
#   - an SMTP sink (aiosmtpd + smtp_sink.py) on 127.0.0.1:<free port>: any sender and recipient, no
#     auth, no TLS; each message becomes one .eml file in a directory, envelope as X-Envelope-* headers;
#   and exports PRODESK_TEST_IMAP=127.0.0.1:PORT, PRODESK_TEST_IMAP_PASSWORD,
#   PRODESK_TEST_SMTP=127.0.0.1:PORT and PRODESK_TEST_SMTP_DIR. Returns non-zero (logs on stderr and
#   copied to ARTIFACTS_DIR) if either does not come up.
# mail_servers_stop [ARTIFACTS_DIR]    stops both and removes the temp dir, first copying the servers'
#   logs to ARTIFACTS_DIR when one is given.
#
# Needs the Debian packages dovecot-imapd and python3-aiosmtpd (tests/run.sh installs them). Runs as
# root: dovecot's own processes drop to dovecot/dovenull, the mail user is nobody.

MAIL_IMAP_PASSWORD=test-imap-pass
# Debian's Python: aiosmtpd is its package, and a python3 earlier on PATH (pyenv, a venv) lacks it.
MAIL_PYTHON=/usr/bin/python3
MAIL_SINK_MODULE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MAIL_DIR=

_mail_free_port() {
  "$MAIL_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# _mail_wait_banner PORT PREFIX SECONDS: until a connection to 127.0.0.1:PORT greets with PREFIX.
_mail_wait_banner() {
  "$MAIL_PYTHON" - "$1" "$2" "$3" <<'EOF'
import socket, sys, time
port, prefix, deadline = int(sys.argv[1]), sys.argv[2].encode(), time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            if s.recv(256).startswith(prefix):
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

_mail_keep_logs() {
  [ -n "${1:-}" ] && [ -n "$MAIL_DIR" ] || return 0
  mkdir -p "$1"
  for f in dovecot.log dovecot.conf smtp.log; do
    [ -f "$MAIL_DIR/$f" ] && cp "$MAIL_DIR/$f" "$1/mail-$f"
  done
  return 0
}

mail_servers_start() {
  local artifacts=${1:-} imap_port smtp_port
  MAIL_DIR=$(mktemp -d /tmp/prodesk-mail.XXXXXX) || return 1
  chmod 755 "$MAIL_DIR"            # dovecot's unprivileged processes must reach their dirs
  mkdir -p "$MAIL_DIR/mail" "$MAIL_DIR/sent"
  chown nobody:nogroup "$MAIL_DIR/mail"

  # --- Dovecot IMAP ---
  imap_port=$(_mail_free_port)
  cat >"$MAIL_DIR/dovecot.conf" <<EOF
# Throwaway test instance (tests/mail/servers.sh); nothing of /etc/dovecot is read.
base_dir = $MAIL_DIR/run
state_dir = $MAIL_DIR/state
log_path = $MAIL_DIR/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# A wrong password answers at once (the default waits 2 s).
auth_failure_delay = 0
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
mail_location = maildir:~/Maildir
# Tests hold several connections per mailbox (IDLE + fetch + append); the default allows 10.
mail_max_userip_connections = 100
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
# The imap processes run as nobody and report to stats like every other process.
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
# Any user name, one password; the user's maildir is made on first login.
passdb {
  driver = static
  args = password=$MAIL_IMAP_PASSWORD
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$MAIL_DIR/mail/%u allow_all_users=yes
}
EOF
  if ! dovecot -c "$MAIL_DIR/dovecot.conf" >"$MAIL_DIR/dovecot.start.log" 2>&1 \
     || ! _mail_wait_banner "$imap_port" "* OK" 30; then
    echo "Dovecot did not start on 127.0.0.1:$imap_port:" >&2
    cat "$MAIL_DIR/dovecot.start.log" "$MAIL_DIR/dovecot.log" 2>/dev/null | tail -30 >&2
    cat "$MAIL_DIR/dovecot.start.log" >>"$MAIL_DIR/dovecot.log" 2>/dev/null
    _mail_keep_logs "$artifacts"
    return 1
  fi

  # --- SMTP sink ---
  smtp_port=$(_mail_free_port)
  # No __pycache__ in the work tree.
  PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$MAIL_SINK_MODULE_DIR" "$MAIL_PYTHON" -m aiosmtpd -n -u -l "127.0.0.1:$smtp_port" \
    -c smtp_sink.Sink "$MAIL_DIR/sent" </dev/null >"$MAIL_DIR/smtp.log" 2>&1 &
  echo $! >"$MAIL_DIR/smtp.pid"
  if ! _mail_wait_banner "$smtp_port" "220" 30; then
    echo "The SMTP sink did not start on 127.0.0.1:$smtp_port:" >&2
    tail -30 "$MAIL_DIR/smtp.log" >&2
    _mail_keep_logs "$artifacts"
    return 1
  fi

  export PRODESK_TEST_IMAP="127.0.0.1:$imap_port"
  export PRODESK_TEST_IMAP_PASSWORD="$MAIL_IMAP_PASSWORD"
  export PRODESK_TEST_SMTP="127.0.0.1:$smtp_port"
  export PRODESK_TEST_SMTP_DIR="$MAIL_DIR/sent"
  # Each IMAP user's home (its Maildir inside): tests that break a stored message on the server reach it there.
  export PRODESK_TEST_IMAP_HOMES="$MAIL_DIR/mail"
}

mail_servers_stop() {
  [ -n "$MAIL_DIR" ] && [ -d "$MAIL_DIR" ] || return 0
  _mail_keep_logs "${1:-}"
  local pidfile pid i
  for pidfile in "$MAIL_DIR/smtp.pid" "$MAIL_DIR/run/master.pid"; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || continue
    # dovecot's master waits for its children; both are gone within a second or two.
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      pkill -KILL -P "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null
    fi
  done
  rm -rf "$MAIL_DIR"
  MAIL_DIR=
  unset PRODESK_TEST_IMAP PRODESK_TEST_IMAP_PASSWORD PRODESK_TEST_SMTP PRODESK_TEST_SMTP_DIR PRODESK_TEST_IMAP_HOMES
}
