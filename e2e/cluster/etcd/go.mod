// Wrapper module that pins the etcd server of the local control plane.
// build.sh copies it into the binary cache and runs
// `go build -mod=mod go.etcd.io/etcd/server/v3` there.
module rpa.dev/e2e/cluster/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 v3.6.16
