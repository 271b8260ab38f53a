#!/usr/bin/env bash
# The token's story told with HTTPie (`http`): log in, read the business data with each
# header form, log in on a second device, list the sessions and end the second device's,
# watch the token die after its idle lifetime, log out.
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
# HTTPie: `apt-get install httpie`, `brew install httpie` or `pipx install httpie`.
set -euo pipefail
source "$(dirname "$0")/demo-lib.sh"

command -v http > /dev/null || fail "HTTPie's http command is not installed"

# send EXPECTED_STATUS TITLE METHOD URL [HEADER: VALUE]... [-- HTTPIE_ITEMS...]
# HTTPie prints the status line and headers, a blank line, then the body (--print=hb).
send () {
  local expected=$1 title=$2 method=$3 url=$4 answer
  shift 4
  local arguments=("$method" "$url")
  [ -z "$CA_FILE" ] || arguments=("--verify=$CA_FILE" "${arguments[@]}")
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; arguments+=("$@"); break; fi
    arguments+=("${1%%: *}:${1#*: }")
    shift
  done
  begin_step "$title"
  show_command http "${arguments[@]}"
  answer=$(http --ignore-stdin --pretty=none --print=hb --timeout=10 "${arguments[@]}") || unreachable http
  answer=$(printf '%s\n' "$answer" | tr -d '\r')
  STATUS=$(printf '%s\n' "$answer" | sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p')
  HEADERS=$(printf '%s\n' "$answer" | sed '/^$/q')
  BODY=$(printf '%s\n' "$answer" | sed '1,/^$/d')
  check_status "$expected" "$title"
}

# send_login TITLE [HEADER: VALUE]...; HTTPie sends `name=value` items as a JSON object.
send_login () {
  send 200 "$1" POST "$BASE_URL/auth/login" "${@:2}" -- "username=$DEMO_USERNAME" "password=$DEMO_PASSWORD"
}

tell_story HTTPie
