#!/usr/bin/env bash
# The token's story told with curl: log in, read the business data with each header
# form, log in on a second device, list the sessions and end the second device's, watch
# the token die after its idle lifetime, log out.
# Each step says what it expects; the script stops with exit 1 at the first step that
# answers otherwise.
#
#   BASE_URL       the service                      (default http://127.0.0.1:3000)
#   DEMO_USERNAME  DEMO_PASSWORD   who logs in     (default: the demo user)
#   TTL_WAIT       seconds to leave a token unused  (default: the login's expiresIn + 1)
#   CA_FILE        PEM certificate to trust for an https:// BASE_URL, such as the
#                  self-signed one of TLS_CERT_FILE (default: the system's CAs)
#
# The demo user (jsf.fusco@gmail.com) exists only with the in-memory users and no
# USERS_FILE. With USER_STORE=postgres, add it first (npm run users -- add-demo), or
# set DEMO_USERNAME and DEMO_PASSWORD to a user of yours.
#
# Start the server with TOKEN_TTL_SECONDS=2 to make the expiry step take 3 seconds.
set -euo pipefail
source "$(dirname "$0")/demo-lib.sh"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# send EXPECTED_STATUS TITLE METHOD URL [HEADER: VALUE]... [-- CURL_ARGUMENTS...]
send () {
  local expected=$1 title=$2 method=$3 url=$4
  shift 4
  local arguments=(-X "$method" "$url")
  [ -z "$CA_FILE" ] || arguments=(--cacert "$CA_FILE" "${arguments[@]}")
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; arguments+=("$@"); break; fi
    arguments+=(-H "$1")
    shift
  done
  begin_step "$title"
  show_command curl "${arguments[@]}"
  STATUS=$(curl --silent --show-error --max-time 10 --dump-header "$WORK/headers" --output "$WORK/body" \
    --write-out '%{http_code}' "${arguments[@]}") || unreachable curl
  HEADERS=$(tr -d '\r' < "$WORK/headers")
  BODY=$(cat "$WORK/body")
  check_status "$expected" "$title"
}

# send_login TITLE [HEADER: VALUE]...
send_login () {
  send 200 "$1" POST "$BASE_URL/auth/login" 'Content-Type: application/json' "${@:2}" \
    -- --data "{\"username\":\"$DEMO_USERNAME\",\"password\":\"$DEMO_PASSWORD\"}"
}

tell_story curl
