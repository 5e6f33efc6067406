#!/usr/bin/env bash
# `make run`: the product's main job on an embedded default. Installs what is missing, uses the
# Redis on 127.0.0.1:6379 or starts one, starts two robots, submits examples/workflows/ and
# prints the results.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec npx tsx scripts/demo.ts "$@"
