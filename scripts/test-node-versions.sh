#!/usr/bin/env bash
# Runs the test suite on other Node.js versions than the machine's, each taken from the
# npm registry's `node` package through npx (into npx's cache: nothing installed
# system-wide, nothing rebuilt: argon2 loads its N-API binary on every version, and
# node_modules stays as `npm ci` made it). The type check and lint do not depend on Node;
# `npm test` runs them.
#
#   scripts/test-node-versions.sh            # Node 22 and 24, what .ci/run adds to `npm test`
#   scripts/test-node-versions.sh 20 22 24   # any majors
#
# Every version is fetched first, then each suite runs where nothing listens
# (scripts/test-isolated.sh, whose network namespace has no registry to fetch from).
# Tests that start processes start them with the Node that runs the suite (process.execPath,
# or that Node first on PATH for npm and sh). In CI each run writes its JSON report to
# .ci/results-node<major>.json, for .ci/run's closing lines.
set -euo pipefail
cd "$(dirname "$0")/.."

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)

declare -A node_of
for major in "${majors[@]}"; do
  echo "== fetching Node.js $major (npx node@$major)"
  node_of[$major]=$(npx --yes --package "node@$major" -- node -p process.execPath)
done

for major in "${majors[@]}"; do
  echo
  echo "== the test suite on Node.js $major (${node_of[$major]})"
  CI_RESULTS_FILE=".ci/results-node$major.json" TEST_NODE="${node_of[$major]}" scripts/test-isolated.sh
done
