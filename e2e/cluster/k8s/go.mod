// Wrapper module that pins the Kubernetes release of the local control plane
// (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl).
//
// It is not built in place: build.sh copies this file into the binary cache,
// appends one `replace k8s.io/<staging> => k8s.io/<staging> v0.X.Y` line for
// every staging module that k8s.io/kubernetes' own go.mod replaces with
// ./staging/src/..., and runs `go build -mod=mod k8s.io/kubernetes/cmd/...`.
// To move to another release, change the version below; the cache directory
// is keyed by it, so the next `cluster.sh up` rebuilds.
module rpa.dev/e2e/cluster/k8s

go 1.26.0

require k8s.io/kubernetes v1.36.4
