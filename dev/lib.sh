# Shared shell helpers for the local stack scripts in dev/. Sourced, never executed.
# Every service binds to 127.0.0.1 on a fixed, non-default port (see dev/stack.env).
set -euo pipefail

DEV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$DEV_DIR/.." && pwd)"
# Heavy tools live outside the checkout, keyed by pinned version, so a fresh clone reuses them.
PM_CACHE="${PM_CACHE:-$HOME/.cache/pulp-manager-dev}"
# Runtime state (data dirs, logs, pid files) also lives outside the checkout.
PM_STATE="${PM_STATE:-$PM_CACHE/state}"
PM_LOGS="$PM_STATE/logs"
PM_RUN="$PM_STATE/run"
mkdir -p "$PM_CACHE" "$PM_STATE" "$PM_LOGS" "$PM_RUN"
# shellcheck source=stack.env
source "$DEV_DIR/stack.env"

log() { printf '[dev %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# timed NAME CMD...: run CMD and report how long it took (install steps say what they cost).
timed() {
  local name="$1"; shift
  local t0=$SECONDS
  log "installing $name ..."
  "$@"
  log "installed $name in $((SECONDS - t0))s"
}

# go_install NAME BIN_DIR PACKAGE@VERSION...: builds Go tools from their modules at pinned
# releases into BIN_DIR, with Go's module and build caches in the stack's cache (shared by every
# tool, so a rebuild is quick); the build log goes to $PM_LOGS/NAME-install.log.
go_install() {
  local name="$1" bin="$2"; shift 2
  command -v go >/dev/null || die "go is required to build $name"
  mkdir -p "$bin" "$PM_CACHE/go"
  env GOBIN="$bin" GOMODCACHE="$PM_CACHE/go/mod" GOCACHE="$PM_CACHE/go/build" GOFLAGS=-mod=mod \
    go install "$@" >"$PM_LOGS/$name-install.log" 2>&1 \
    || { tail -20 "$PM_LOGS/$name-install.log"; die "go install $name failed (log: $PM_LOGS/$name-install.log)"; }
}

# pinned_venv VENV REQUIREMENTS LOGNAME: a Python 3.11 venv made afresh with exactly the pinned
# requirements (--no-deps: the file lists every dependency, `pip check` proves it complete); pip's
# output goes to $PM_LOGS/LOGNAME-pip.log. The caller checks what it needs, then marks VENV done.
pinned_venv() {
  local venv="$1" reqs="$2" logf="$PM_LOGS/$3-pip.log" py
  py="$(command -v python3)" || die "python3 not found"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' \
    || die "python3 must be 3.11 (found $("$py" --version 2>&1))"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --disable-pip-version-check --prefer-binary --no-deps -r "$reqs" >"$logf" 2>&1 \
    || { tail -30 "$logf"; die "pip install failed (log: $logf)"; }
  "$venv/bin/pip" check >>"$logf" 2>&1 || { tail -10 "$logf"; die "pip check failed (log: $logf)"; }
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT NAME [TIMEOUT_S]
wait_port() {
  local port="$1" name="$2" timeout="${3:-120}" t0=$SECONDS
  until port_open "$port"; do
    (( SECONDS - t0 > timeout )) && die "$name did not open 127.0.0.1:$port within ${timeout}s (logs: $PM_LOGS)"
    sleep 0.5
  done
}

# wait_http URL NAME [TIMEOUT_S]
wait_http() {
  local url="$1" name="$2" timeout="${3:-180}" t0=$SECONDS
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    (( SECONDS - t0 > timeout )) && die "$name did not answer $url within ${timeout}s (logs: $PM_LOGS)"
    sleep 1
  done
}

pid_alive() { local f="$PM_RUN/$1.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

# start_bg NAME CMD...: start a long-running process detached, pid in $PM_RUN/NAME.pid,
# output in $PM_LOGS/NAME.log. A no-op when it already runs.
start_bg() {
  local name="$1"; shift
  if pid_alive "$name"; then log "$name already running (pid $(cat "$PM_RUN/$name.pid"))"; return 0; fi
  log "starting $name"
  setsid "$@" >>"$PM_LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PM_RUN/$name.pid"
}

# stop_bg NAME: stop the process group started by start_bg.
stop_bg() {
  local name="$1" f="$PM_RUN/$1.pid"
  [[ -f "$f" ]] || return 0
  local pid; pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# apt_install PKG...: install Debian packages only when missing, without starting their
# system services (we run private instances on our own ports).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then log "apt packages present: $* (skipping install)"; return 0; fi
  # dev/up runs installers side by side: one apt at a time, so one installer's clean-up of
  # policy-rc.d never lets another's package start its system service.
  (
    flock 9
    local t0=$SECONDS
    log "apt-get install ${missing[*]}"
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    if [[ ! -f "$PM_STATE/.apt-updated" ]] || [[ -n "$(find "$PM_STATE/.apt-updated" -mmin +720 2>/dev/null)" ]]; then
      apt-get update -qq && touch "$PM_STATE/.apt-updated"
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -o DPkg::Lock::Timeout=300 -y -qq --no-install-recommends \
        "${missing[@]}" >"$PM_LOGS/apt-$$.log" 2>&1; then
      rm -f /usr/sbin/policy-rc.d; tail -30 "$PM_LOGS/apt-$$.log"; die "apt-get install ${missing[*]} failed"
    fi
    rm -f /usr/sbin/policy-rc.d
    log "installed ${missing[*]} in $((SECONDS - t0))s"
  ) 9>"$PM_STATE/.apt.lock"
}
