// Wrapper module that pins KWOK (fake nodes and pods for scale tests).
// Optional: build.sh builds it only when asked (`build.sh kwok` or
// CLUSTER_KWOK=1), with `go build -mod=mod sigs.k8s.io/kwok/cmd/kwok`.
module rpa.dev/e2e/cluster/kwok

go 1.26.0

require sigs.k8s.io/kwok v0.8.0
