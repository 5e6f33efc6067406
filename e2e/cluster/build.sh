#!/usr/bin/env bash
# Builds the local control plane's binaries from the Go module proxy and caches
# them outside the work tree, in
#   ${RPA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rpa-operator}/k8s-<version>/
# Each component is rebuilt only when its pinned version changes (a stamp file
# per component records what was built).
#
# Usage: build.sh [k8s] [etcd] [kwok] [helm] [all]    (default: k8s etcd; CLUSTER_KWOK=1 adds kwok)
#        build.sh --check [components]          (exit 0 if they are built at the pinned versions)
#        build.sh --print-dir                   (prints the cache directory and exits)
#
# Versions are pinned in k8s/go.mod, etcd/go.mod, kwok/go.mod and helm/go.mod beside this script.
# Needs: Go (the `go` directive of k8s.io/kubernetes, 1.26 for v1.36), bash, sed, flock.
# Logs go to stderr; nothing is printed on stdout except with --print-dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Use the machine's Go, never a downloaded toolchain.
export GOTOOLCHAIN=local
if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin /usr/lib/go/bin; do
    if [[ -x "$d/go" ]]; then PATH="$d:$PATH"; break; fi
  done
fi
command -v go >/dev/null 2>&1 || { echo "build.sh: Go is required (see e2e/cluster/README.md)" >&2; exit 1; }

log() { printf '[build.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The version a wrapper go.mod requires for a module path.
pinned() { # go.mod module
  sed -n "s|^[[:space:]]*\(require[[:space:]]\{1,\}\)\{0,1\}$2[[:space:]]\{1,\}\(v[^[:space:]]*\).*|\2|p" "$1" | head -n 1
}

K8S_VERSION="$(pinned "$HERE/k8s/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(pinned "$HERE/etcd/go.mod" go.etcd.io/etcd/server/v3)"
KWOK_VERSION="$(pinned "$HERE/kwok/go.mod" sigs.k8s.io/kwok)"
HELM_VERSION="$(pinned "$HERE/helm/go.mod" helm.sh/helm/v3)"
[[ -n "$K8S_VERSION" && -n "$ETCD_VERSION" && -n "$KWOK_VERSION" && -n "$HELM_VERSION" ]] || { echo "build.sh: cannot read pinned versions" >&2; exit 1; }
# Bump when this script's build flags change, to rebuild at the same versions.
BUILD_REV=1
# helm's own revision: bumped when its build flags change (the others are unaffected).
HELM_BUILD_REV=2
# Staging modules are tagged v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>.
STAGING_VERSION="v0.${K8S_VERSION#v1.}"

CACHE_ROOT="${RPA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rpa-operator}"
OUT="$CACHE_ROOT/k8s-$K8S_VERSION"

if [[ "${1:-}" == "--print-dir" ]]; then
  echo "$OUT"
  exit 0
fi

CHECK_ONLY=0
if [[ "${1:-}" == "--check" ]]; then CHECK_ONLY=1; shift; fi

want=()
for a in "$@"; do
  case "$a" in
    k8s|etcd|kwok|helm) want+=("$a") ;;
    all) want+=(k8s etcd kwok helm) ;;
    *) echo "build.sh: unknown component '$a' (k8s, etcd, kwok, helm, all)" >&2; exit 2 ;;
  esac
done
if [[ ${#want[@]} -eq 0 ]]; then
  want=(k8s etcd)
  [[ "${CLUSTER_KWOK:-0}" == "1" ]] && want+=(kwok)
fi

is_built() { # component version binaries...
  local c="$1" v="$2"; shift 2
  [[ "$(cat "$OUT/.stamp-$c" 2>/dev/null || true)" == "$v" ]] || return 1
  local b
  for b in "$@"; do [[ -x "$OUT/$b" ]] || return 1; done
}
is_built_k8s() { is_built k8s "$K8S_VERSION rev$BUILD_REV" kube-apiserver kube-controller-manager kube-scheduler kubectl; }
is_built_etcd() { is_built etcd "$ETCD_VERSION rev$BUILD_REV" etcd; }
is_built_kwok() { is_built kwok "$KWOK_VERSION rev$BUILD_REV" kwok && [[ -d "$OUT/kwok-stages" ]]; }
is_built_helm() { is_built helm "$HELM_VERSION rev$HELM_BUILD_REV" helm; }

if [[ $CHECK_ONLY -eq 1 ]]; then
  for c in "${want[@]}"; do "is_built_$c" || exit 1; done
  exit 0
fi

mkdir -p "$OUT"
# One build at a time per cache directory: parallel `cluster.sh up` runs wait
# for the first one's build instead of building twice.
exec 9>"$OUT/.build.lock"
flock 9

# nice: the build takes both cores for many minutes; let interactive work through.
NICE=(nice -n "${BUILD_NICE:-10}")
# -p: parallel compile jobs (default: number of CPUs).
GO_P=(-p "${BUILD_JOBS:-$(nproc)}")

# Prepares $OUT/src/<name>: a copy of the wrapper module (builds never touch the work tree).
prepare_src() { # name
  local src="$OUT/src/$1"
  rm -rf "$src"
  mkdir -p "$src"
  cp "$HERE/$1/go.mod" "$src/go.mod"
  printf '%s' "$src"
}

# Release date of a module version from the module cache's .info file (for a reproducible buildDate).
release_time() { # module version
  local info
  info="$(cd "$OUT" && go mod download -json "$1@$2" | sed -n 's/.*"Info": "\(.*\)".*/\1/p')"
  sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "$info" 2>/dev/null || true
}

build_k8s() {
  local bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  if is_built_k8s; then
    log "kubernetes $K8S_VERSION already built in $OUT"
    return
  fi
  log "building kubernetes $K8S_VERSION (staging modules $STAGING_VERSION) into $OUT"
  local src gomod
  src="$(prepare_src k8s)"
  # k8s.io/kubernetes' go.mod replaces its staging modules with ./staging/src/...,
  # which `go` ignores in a dependency: read that list from the .mod file in the
  # module cache and replace each one with its published v0.X.Y module.
  # (Run outside any module, so that the wrapper's unreplaced go.mod is not loaded.)
  gomod="$(cd "$OUT" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [[ -f "$gomod" ]] || { echo "build.sh: go mod download k8s.io/kubernetes@$K8S_VERSION gave no go.mod" >&2; exit 1; }
  local staging=()
  mapfile -t staging < <(sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/.*|\1|p' "$gomod")
  [[ ${#staging[@]} -gt 0 ]] || { echo "build.sh: no staging replaces found in $gomod" >&2; exit 1; }
  log "${#staging[@]} staging modules: ${staging[*]}"
  local m edits=()
  for m in "${staging[@]}"; do edits+=("-replace=$m=$m@$STAGING_VERSION"); done
  (cd "$src" && go mod edit "${edits[@]}")

  local minor date ldflags=() key val kv
  minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
  date="$(release_time k8s.io/kubernetes "$K8S_VERSION")"
  # The same -X flags as kubernetes' hack/lib/version.sh, so /version and
  # `kubectl version` report the release instead of v0.0.0. The module proxy
  # does not say which git commit a release is, so gitCommit is left empty.
  for kv in "gitVersion=$K8S_VERSION" "gitMajor=1" "gitMinor=$minor" "gitTreeState=clean" "gitCommit=" "buildDate=${date:-1970-01-01T00:00:00Z}"; do
    key="${kv%%=*}"; val="${kv#*=}"
    ldflags+=("-X k8s.io/component-base/version.$key=$val" "-X k8s.io/client-go/pkg/version.$key=$val")
  done
  local pkgs=()
  for m in "${bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$m"); done
  mkdir -p "$OUT/.tmp-k8s"
  # Static binaries with the tags kubernetes' own build uses (hack/lib/golang.sh).
  (cd "$src" && CGO_ENABLED=0 "${NICE[@]}" go build -mod=mod "${GO_P[@]}" -trimpath \
      -tags selinux,notest,grpcnotrace \
      -ldflags "-s -w ${ldflags[*]}" \
      -o "$OUT/.tmp-k8s/" "${pkgs[@]}")
  for m in "${bins[@]}"; do mv -f "$OUT/.tmp-k8s/$m" "$OUT/$m"; done
  rmdir "$OUT/.tmp-k8s"
  echo "$K8S_VERSION rev$BUILD_REV" > "$OUT/.stamp-k8s"
  log "kubernetes $K8S_VERSION built"
}

build_etcd() {
  if is_built_etcd; then
    log "etcd $ETCD_VERSION already built in $OUT"
    return
  fi
  log "building etcd $ETCD_VERSION into $OUT"
  local src
  src="$(prepare_src etcd)"
  (cd "$src" && CGO_ENABLED=0 "${NICE[@]}" go build -mod=mod "${GO_P[@]}" -trimpath -ldflags "-s -w" \
      -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv -f "$OUT/etcd.tmp" "$OUT/etcd"
  echo "$ETCD_VERSION rev$BUILD_REV" > "$OUT/.stamp-etcd"
  log "etcd $ETCD_VERSION built"
}

build_kwok() {
  if is_built_kwok; then
    log "kwok $KWOK_VERSION already built in $OUT"
    return
  fi
  log "building kwok $KWOK_VERSION into $OUT"
  local src dir
  src="$(prepare_src kwok)"
  (cd "$src" && CGO_ENABLED=0 "${NICE[@]}" go build -mod=mod "${GO_P[@]}" -trimpath -ldflags "-s -w" \
      -o "$OUT/kwok.tmp" sigs.k8s.io/kwok/cmd/kwok)
  mv -f "$OUT/kwok.tmp" "$OUT/kwok"
  # kwok only moves nodes and pods through the stages it is given: copy the
  # "fast" ones (node Ready at once, pod Running at once) out of its module.
  dir="$(cd "$src" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
  rm -rf "$OUT/kwok-stages"
  mkdir -p "$OUT/kwok-stages"
  local s
  for s in node/fast pod/fast; do
    find "$dir/kustomize/stage/$s" -maxdepth 1 -name '*.yaml' ! -name kustomization.yaml -exec cp {} "$OUT/kwok-stages/" \;
  done
  chmod -R u+w "$OUT/kwok-stages"
  echo "$KWOK_VERSION rev$BUILD_REV" > "$OUT/.stamp-kwok"
  log "kwok $KWOK_VERSION built"
}

build_helm() {
  if is_built_helm; then
    log "helm $HELM_VERSION already built in $OUT"
    return
  fi
  log "building helm $HELM_VERSION into $OUT"
  local src
  src="$(prepare_src helm)"
  # The ldflags of helm's Makefile: its version, and the Kubernetes version `helm template` and
  # `helm lint` assume (from the client-go it builds with; else they claim v1.20).
  local cg minor
  cg="$(cd "$src" && go mod download helm.sh/helm/v3 >/dev/null && go list -mod=mod -m -f '{{.Version}}' k8s.io/client-go)"
  minor="$(printf '%s' "$cg" | cut -d. -f2)"
  local lf="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  for p in pkg/lint/rules pkg/chartutil; do lf="$lf -X helm.sh/helm/v3/$p.k8sVersionMajor=1 -X helm.sh/helm/v3/$p.k8sVersionMinor=$minor"; done
  (cd "$src" && CGO_ENABLED=0 "${NICE[@]}" go build -mod=mod "${GO_P[@]}" -trimpath \
      -ldflags "$lf" \
      -o "$OUT/helm.tmp" helm.sh/helm/v3/cmd/helm)
  mv -f "$OUT/helm.tmp" "$OUT/helm"
  echo "$HELM_VERSION rev$HELM_BUILD_REV" > "$OUT/.stamp-helm"
  log "helm $HELM_VERSION built"
}

log "go: $(go version); cache: $OUT"
for c in "${want[@]}"; do "build_$c"; done
