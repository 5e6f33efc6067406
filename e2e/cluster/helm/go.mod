// Wrapper module that pins helm, for the chart tests (helm lint / template).
// Built only when asked (`build.sh helm`), with `go build -mod=mod helm.sh/helm/v3/cmd/helm`.
module rpa.dev/e2e/cluster/helm

go 1.26.0

require helm.sh/helm/v3 v3.22.0
