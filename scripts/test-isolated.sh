#!/usr/bin/env bash
# `npm test` on a machine where nothing listens: in a network namespace of its own with only
# the loopback up, so the tests reach no server but those they start themselves (Redis,
# PostgreSQL), whatever runs on this machine. Arguments go to vitest, e.g. a test folder.
# With TEST_NODE=<path of a node binary>, vitest alone runs on that Node instead of `npm test`
# (scripts/test-node-versions.sh: the type check and lint do not depend on Node).
# Linux only: unshare (util-linux) and ip (iproute2). As root (CI), a network namespace;
# as another user, inside a user namespace, then back to that user's own uid for npm.
set -euo pipefail
cd "$(dirname "$0")/.."

PATH="$PATH:/usr/sbin:/sbin"   # ip, where a user's PATH lacks the sbin folders
for tool in unshare ip; do
  command -v "$tool" >/dev/null || { echo "scripts/test-isolated.sh needs $tool (Debian: util-linux, iproute2)" >&2; exit 1; }
done

# The servers these would name are out of reach in the namespace: the tests start their own.
unset REDIS_URL DATABASE_URL

if [ -n "${TEST_NODE:-}" ]; then
  tests=("$TEST_NODE" node_modules/vitest/vitest.mjs run)
else
  tests=(npm test --)
fi

if [ "$(id -u)" -eq 0 ]; then
  exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "${tests[@]}" "$@"
else
  export OUTER_UID OUTER_GID
  OUTER_UID=$(id -u) OUTER_GID=$(id -g)
  exec unshare --user --map-root-user --net -- sh -c \
    'ip link set lo up && exec unshare --user --map-user="$OUTER_UID" --map-group="$OUTER_GID" -- "$@"' sh "${tests[@]}" "$@"
fi
