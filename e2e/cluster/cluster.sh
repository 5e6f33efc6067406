#!/usr/bin/env bash
# A local Kubernetes control plane on 127.0.0.1, built from source (see build.sh
# and README.md): etcd + kube-apiserver + kube-controller-manager + kube-scheduler
# (+ kwok with CLUSTER_KWOK=1). There is no kubelet: pods are created and, with
# the scheduler, bound, but never run (kwok can fake nodes that "run" them).
#
# Usage:
#   cluster.sh up            start a cluster; the LAST line of stdout is the kubeconfig's absolute path
#   cluster.sh down [DIR]    stop a cluster and remove its state dir (DIR, or the kubeconfig path in it)
#   cluster.sh status [DIR]  print which components of a cluster are running
#
# Environment:
#   CLUSTER_DIR          state dir (default: a new ${TMPDIR:-/tmp}/rpa-cluster-XXXXXX per `up`)
#   CLUSTER_KWOK=1       also build (first time) and start kwok with the "fast" node and pod stages
#   CLUSTER_NO_SCHEDULER=1  do not start kube-scheduler
#   CLUSTER_OWNER_PID    if set, a watchdog runs `down` when that process exits (used by cluster.ts)
#   CLUSTER_START_TIMEOUT  seconds to wait for each component (default 120)
#   RPA_CACHE_DIR        binary cache root (default ~/.cache/rpa-operator), see build.sh
#
# The state dir holds: kubeconfig, cluster.env (KUBECONFIG=, APISERVER_URL=, ...),
# <component>.pid, logs/<component>.log, the etcd data, the generated keys and token.
# Component logs never go to stdout; progress messages go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
LAST_FILE="${TMPDIR:-/tmp}/rpa-cluster-last"
MARKER=".rpa-cluster"
COMPONENTS=(watchdog kwok kube-scheduler kube-controller-manager kube-apiserver etcd)

log() { printf '[cluster.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------
# helpers

# Prints N distinct free TCP ports on 127.0.0.1 (one per line). The kernel picks
# them (bind to port 0), so parallel runs do not collide.
free_ports() { # N
  local n="$1"
  if command -v node >/dev/null 2>&1; then
    node -e '
      const net = require("node:net");
      const n = Number(process.argv[1]);
      const servers = [];
      let done = 0;
      for (let i = 0; i < n; i++) {
        const s = net.createServer();
        servers.push(s);
        s.listen(0, "127.0.0.1", () => {
          if (++done === n) {
            process.stdout.write(servers.map((x) => x.address().port).join("\n") + "\n");
            servers.forEach((x) => x.close());
          }
        });
      }' "$n"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c '
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print("\n".join(str(s.getsockname()[1]) for s in socks))
for s in socks: s.close()' "$n"
  else
    local used p got=0
    used="$(ss -Htln 2>/dev/null | awk '{print $4}' | sed 's/.*://')"
    while [[ $got -lt $n ]]; do
      p=$((20000 + RANDOM % 40000))
      if ! grep -qx "$p" <<<"$used"; then echo "$p"; used+=$'\n'"$p"; got=$((got + 1)); fi
    done
  fi
}

# True if PID is alive and its command line mentions the state dir, so that a
# recycled pid of some other process is never signalled.
owns_pid() { # pid dir
  local pid="$1" dir="$2"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir"
}

# Starts a component in the background, in its own session (so a Ctrl-C or a
# hang-up of the caller does not kill it), logs to logs/<name>.log, writes <name>.pid.
start_bg() { # name cmd...
  local name="$1"; shift
  setsid "$@" >"$DIR/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/$name.pid"
}

# Waits until CHECK succeeds; fails early if the component's process died.
wait_for() { # name check-cmd...
  local name="$1"; shift
  local pid deadline
  pid="$(cat "$DIR/$name.pid")"
  deadline=$((SECONDS + ${CLUSTER_START_TIMEOUT:-120}))
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited; last lines of $DIR/logs/$name.log:"
      tail -n 25 "$DIR/logs/$name.log" >&2 || true
      return 1
    fi
    if [[ $SECONDS -ge $deadline ]]; then
      log "$name not ready after ${CLUSTER_START_TIMEOUT:-120}s; last lines of $DIR/logs/$name.log:"
      tail -n 25 "$DIR/logs/$name.log" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

port_in_use_error() { # name
  grep -qiE 'address already in use|bind: ' "$DIR/logs/$1.log" 2>/dev/null
}

# Starts a component up to 3 times: another process may grab a port between
# free_ports and the bind.
start_with_retry() { # name  (uses start_<name> and check_<name>)
  local name="$1" try
  for try in 1 2 3; do
    "start_$name"
    if wait_for "$name" "check_$name"; then return 0; fi
    stop_component "$name"
    if port_in_use_error "$name" && [[ $try -lt 3 ]]; then
      log "$name: port taken, retrying with new ports"
      continue
    fi
    return 1
  done
  return 1
}

stop_component() { # name
  local name="$1" pid i
  local pidfile="$DIR/$name.pid"
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  if [[ -n "$pid" && "$pid" != "$$" ]] && owns_pid "$pid" "$DIR"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name ($pid) did not stop in 10s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -f "$pidfile"
}

# Resolves the state dir for down/status: an argument (dir or a file inside it),
# else CLUSTER_DIR, else the last cluster started on this machine.
resolve_dir() { # [dir]
  local d="${1:-${CLUSTER_DIR:-}}"
  if [[ -z "$d" && -f "$LAST_FILE" ]]; then d="$(cat "$LAST_FILE")"; fi
  [[ -n "$d" ]] || die "no cluster dir given (cluster.sh down DIR, or set CLUSTER_DIR)"
  [[ -f "$d" ]] && d="$(dirname "$d")"
  [[ -d "$d" ]] || { log "no such cluster dir: $d"; return 1; }
  (cd "$d" && pwd -P)
}

# ---------------------------------------------------------------------------
# components

start_etcd() {
  mapfile -t _p < <(free_ports 2); ETCD_PORT="${_p[0]}"; ETCD_PEER_PORT="${_p[1]}"
  rm -rf "$DIR/etcd"
  start_bg etcd "$BIN/etcd" \
    --name=rpa \
    --data-dir="$DIR/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="rpa=http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster-state=new \
    --unsafe-no-fsync=true \
    --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) \
    --log-level=warn
}
check_etcd() { curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" | grep -q '"health":"true"'; }

start_kube-apiserver() {
  if [[ -n "${APISERVER_RESTART_PORT:-}" ]]; then
    # A restart keeps port and serving cert, so existing kubeconfigs and clients stay valid.
    APISERVER_PORT="$APISERVER_RESTART_PORT"
  else
    mapfile -t _p < <(free_ports 1); APISERVER_PORT="${_p[0]}"
    rm -f "$DIR/certs/apiserver.crt" "$DIR/certs/apiserver.key"
  fi
  APISERVER_URL="https://127.0.0.1:$APISERVER_PORT"
  # Flags after controller-runtime envtest's defaults (pkg/internal/testing/
  # controlplane/apiserver.go), with a token admin instead of client certs.
  start_bg kube-apiserver "$BIN/kube-apiserver" \
    --advertise-address=127.0.0.1 \
    --bind-address=127.0.0.1 \
    --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --cert-dir="$DIR/certs" \
    --token-auth-file="$DIR/tokens.csv" \
    --authorization-mode=RBAC \
    --service-cluster-ip-range=10.0.0.0/24 \
    --allow-privileged=true \
    --disable-admission-plugins=ServiceAccount \
    --service-account-issuer="$APISERVER_URL" \
    --service-account-key-file="$DIR/sa.pub" \
    --service-account-signing-key-file="$DIR/sa.key" \
    --endpoint-reconciler-type=none \
    --profiling=false \
    --v="${CLUSTER_LOG_LEVEL:-1}"
}
check_kube-apiserver() {
  [[ -s "$DIR/certs/apiserver.crt" ]] &&
    [[ "$(curl -fsS --max-time 3 --cacert "$DIR/certs/apiserver.crt" -H "Authorization: Bearer $TOKEN" "$APISERVER_URL/readyz")" == "ok" ]]
}

start_kube-controller-manager() {
  mapfile -t _p < <(free_ports 1); KCM_PORT="${_p[0]}"
  # Default controllers ("*"): among them garbagecollector, deployment,
  # replicaset, namespace, serviceaccount. One instance, so no leader election.
  start_bg kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$DIR/kubeconfig" \
    --authentication-kubeconfig="$DIR/kubeconfig" \
    --authorization-kubeconfig="$DIR/kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$KCM_PORT" \
    --cert-dir="$DIR/certs/kcm" \
    --leader-elect=false \
    --controllers='*' \
    --service-account-private-key-file="$DIR/sa.key" \
    --root-ca-file="$DIR/certs/apiserver.crt" \
    --use-service-account-credentials=false \
    --profiling=false \
    --v="${CLUSTER_LOG_LEVEL:-1}"
}
check_kube-controller-manager() { curl -fsSk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" | grep -qx ok; }

start_kube-scheduler() {
  mapfile -t _p < <(free_ports 1); SCHEDULER_PORT="${_p[0]}"
  start_bg kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$DIR/kubeconfig" \
    --authentication-kubeconfig="$DIR/kubeconfig" \
    --authorization-kubeconfig="$DIR/kubeconfig" \
    --bind-address=127.0.0.1 \
    --secure-port="$SCHEDULER_PORT" \
    --cert-dir="$DIR/certs/scheduler" \
    --leader-elect=false \
    --profiling=false \
    --v="${CLUSTER_LOG_LEVEL:-1}"
}
check_kube-scheduler() { curl -fsSk --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz" | grep -qx ok; }

start_kwok() {
  mapfile -t _p < <(free_ports 1); KWOK_PORT="${_p[0]}"
  local configs=() f
  for f in "$BIN"/kwok-stages/*.yaml; do configs+=("--config=$f"); done
  # Manages only nodes annotated kwok.x-k8s.io/node=fake (and the pods bound to
  # them). The fake node and pod IPs are loopback addresses on purpose: nothing
  # listens there, and a test that dials one by mistake never leaves the machine.
  start_bg kwok "$BIN/kwok" \
    "${configs[@]}" \
    --kubeconfig="$DIR/kubeconfig" \
    --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=127.100.0.1/16 \
    --node-ip=127.99.0.1 \
    --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:$KWOK_PORT"
}
check_kwok() { curl -fsS --max-time 2 "http://127.0.0.1:$KWOK_PORT/healthz" | grep -qx ok; }

# ---------------------------------------------------------------------------
# commands

# curl (health checks), openssl (keys, token), flock and setsid (util-linux).
# Installed from Debian's packages when missing and we are root with apt-get.
ensure_tools() {
  local missing=() t
  for t in curl openssl flock setsid; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages for: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl openssl util-linux >&2 ||
      { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl openssl util-linux >&2; } ||
      die "could not install curl openssl util-linux"
  else
    die "missing tools: ${missing[*]} (Debian: apt-get install -y curl openssl util-linux)"
  fi
}

cmd_up() {
  ensure_tools

  BIN="$("$HERE/build.sh" --print-dir)"
  local need=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl) b need_build=0
  local comps=(k8s etcd)
  if [[ "${CLUSTER_KWOK:-0}" == "1" ]]; then need+=(kwok); comps+=(kwok); fi
  for b in "${need[@]}"; do [[ -x "$BIN/$b" ]] || need_build=1; done
  # build.sh --check: are the binaries there and built at the pinned versions?
  if [[ $need_build -eq 1 ]] || ! "$HERE/build.sh" --check "${comps[@]}" </dev/null; then
    log "building the control plane binaries into $BIN (the first build takes a while; see README.md)"
    "$HERE/build.sh" "${comps[@]}" </dev/null >&2
  fi

  if [[ -n "${CLUSTER_DIR:-}" ]]; then
    DIR="$CLUSTER_DIR"
    if [[ -d "$DIR" && -f "$DIR/$MARKER" ]]; then
      local c
      for c in "${COMPONENTS[@]}"; do
        if [[ -f "$DIR/$c.pid" ]] && owns_pid "$(cat "$DIR/$c.pid")" "$(cd "$DIR" && pwd -P)"; then
          die "a cluster is already running in $DIR (cluster.sh down $DIR first)"
        fi
      done
    fi
    mkdir -p "$DIR"
  else
    DIR="$(mktemp -d "${TMPDIR:-/tmp}/rpa-cluster-XXXXXX")"
  fi
  DIR="$(cd "$DIR" && pwd -P)"
  touch "$DIR/$MARKER"
  mkdir -p "$DIR/logs" "$DIR/certs/kcm" "$DIR/certs/scheduler"
  echo "$DIR" >"$LAST_FILE"

  # On any failure from here on, stop what was started (and leave the logs for a look).
  trap 'rc=$?; if [[ $rc -ne 0 ]]; then log "up failed; stopping what was started (logs kept in $DIR/logs)"; stop_all; fi' EXIT

  # Admin identity: a bearer token in group system:masters.
  TOKEN="$(openssl rand -hex 32)"
  umask 077
  printf '%s,rpa-admin,rpa-admin,"system:masters"\n' "$TOKEN" >"$DIR/tokens.csv"
  # Service-account signing key pair.
  openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null
  openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null
  umask 022

  log "starting etcd"
  start_with_retry etcd
  log "starting kube-apiserver"
  start_with_retry kube-apiserver
  write_kubeconfig
  log "starting kube-controller-manager"
  start_with_retry kube-controller-manager
  if [[ "${CLUSTER_NO_SCHEDULER:-0}" != "1" ]]; then
    log "starting kube-scheduler"
    start_with_retry kube-scheduler
  fi
  if [[ "${CLUSTER_KWOK:-0}" == "1" ]]; then
    log "starting kwok"
    start_with_retry kwok
  fi

  if [[ -n "${CLUSTER_OWNER_PID:-}" ]]; then
    # Tears the cluster down when the owning process (a test runner) exits,
    # even if it is killed before it can call `down`.
    # shellcheck disable=SC2016 # $1..$3 are the inner shell's arguments
    setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" down "$3"' \
      rpa-cluster-watchdog "$CLUSTER_OWNER_PID" "$SELF" "$DIR" >/dev/null 2>&1 </dev/null &
    echo $! >"$DIR/watchdog.pid"
  fi

  cat >"$DIR/cluster.env" <<EOF
CLUSTER_DIR=$DIR
KUBECONFIG=$DIR/kubeconfig
APISERVER_URL=$APISERVER_URL
APISERVER_TOKEN=$TOKEN
ETCD_URL=http://127.0.0.1:$ETCD_PORT
KUBE_BIN_DIR=$BIN
KUBECTL=$BIN/kubectl
EOF
  trap - EXIT
  log "cluster ready in $((SECONDS))s: $APISERVER_URL (state: $DIR)"
  echo "$DIR/kubeconfig"
}

write_kubeconfig() {
  local ca
  ca="$(base64 -w0 <"$DIR/certs/apiserver.crt")"
  umask 077
  cat >"$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: rpa-local
    cluster:
      server: $APISERVER_URL
      certificate-authority-data: $ca
users:
  - name: rpa-admin
    user:
      token: $TOKEN
contexts:
  - name: rpa-local
    context:
      cluster: rpa-local
      user: rpa-admin
      namespace: default
current-context: rpa-local
EOF
  umask 022
}

stop_all() {
  # Everything but etcd at once (about 3 s instead of 9 s one by one), then
  # etcd: an API server whose etcd is gone takes 10 s more to shut down.
  local c pids=()
  for c in "${COMPONENTS[@]}"; do
    [[ "$c" == etcd ]] && continue
    stop_component "$c" &
    pids+=($!)
  done
  wait "${pids[@]}"
  stop_component etcd
}

cmd_down() {
  DIR="$(resolve_dir "${1:-}")" || return 0
  [[ -f "$DIR/$MARKER" ]] || die "$DIR is not a cluster dir made by cluster.sh (no $MARKER); not touching it"
  stop_all
  rm -rf "$DIR"
  if [[ -f "$LAST_FILE" && "$(cat "$LAST_FILE" 2>/dev/null)" == "$DIR" ]]; then rm -f "$LAST_FILE"; fi
  log "cluster in $DIR stopped and removed"
}

# Stops and starts kube-apiserver on the same port with the same cert (etcd keeps the
# data): what a control-plane upgrade or crash looks like to clients and their watches.
cmd_restart_apiserver() {
  DIR="$(resolve_dir "${1:-}")" || die "no cluster dir"
  [[ -f "$DIR/$MARKER" && -f "$DIR/cluster.env" ]] || die "$DIR is not a running cluster made by cluster.sh"
  local url etcd
  url="$(grep '^APISERVER_URL=' "$DIR/cluster.env" | cut -d= -f2-)"
  etcd="$(grep '^ETCD_URL=' "$DIR/cluster.env" | cut -d= -f2-)"
  TOKEN="$(grep '^APISERVER_TOKEN=' "$DIR/cluster.env" | cut -d= -f2-)"
  BIN="$(grep '^KUBE_BIN_DIR=' "$DIR/cluster.env" | cut -d= -f2-)"
  ETCD_PORT="${etcd##*:}"
  APISERVER_RESTART_PORT="${url##*:}"
  stop_component kube-apiserver
  start_kube-apiserver
  wait_for kube-apiserver check_kube-apiserver || die "kube-apiserver did not come back"
  log "kube-apiserver restarted on $APISERVER_URL"
}

cmd_status() {
  DIR="$(resolve_dir "${1:-}")" || exit 1
  local c pid rc=0
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler kwok watchdog; do
    [[ -f "$DIR/$c.pid" ]] || continue
    pid="$(cat "$DIR/$c.pid")"
    if owns_pid "$pid" "$DIR"; then echo "$c running (pid $pid)"; else echo "$c stopped"; rc=1; fi
  done
  [[ -f "$DIR/cluster.env" ]] && grep -v '^APISERVER_TOKEN=' "$DIR/cluster.env"
  return $rc
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down "${2:-}" ;;
  status) cmd_status "${2:-}" ;;
  restart-apiserver) cmd_restart_apiserver "${2:-}" ;;
  *) echo "usage: $0 up | down [DIR] | status [DIR] | restart-apiserver [DIR]" >&2; exit 2 ;;
esac
