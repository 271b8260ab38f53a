#!/usr/bin/env bash
# Runs the test suite on other Node.js versions than the machine's, each taken from the
# npm registry's `node` package through npx (nothing installed system-wide, nothing
# rebuilt: argon2 loads its N-API binary on every version, and node_modules stays as
# `npm ci` made it). The type check and lint do not depend on Node; `npm test` runs them.
#
#   scripts/test-node-versions.sh            # Node 22 and 24, what .ci/run adds to `npm test`
#   scripts/test-node-versions.sh 20 22 24   # any majors
#
# Tests that start processes start them with the Node that runs the suite (process.execPath,
# or that Node first on PATH for npm and sh). In CI each run writes its JSON report to
# .ci/results-node<major>.json, for .ci/run's closing line.
set -euo pipefail
cd "$(dirname "$0")/.."

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)

for major in "${majors[@]}"; do
  echo
  echo "== the test suite on Node.js $major (npx node@$major)"
  CI_RESULTS_FILE=".ci/results-node$major.json" \
    npx --yes --package "node@$major" -- node node_modules/vitest/vitest.mjs run
done
