#!/usr/bin/env bash
# `make run`: the product on this machine. Installs what is missing, then scripts/demo.ts
# brings up a Kubernetes API (yours or the local control plane), the CRDs, Redis and the operator
# (process runtime), applies examples/ and prints the results. `make run ARGS=--keep` keeps it up.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx scripts/demo.ts "$@"
