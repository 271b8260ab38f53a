# The token's story, shared by demo-curl.sh and demo-httpie.sh: each of them defines
#   send EXPECTED_STATUS TITLE METHOD URL [HEADER: VALUE]...
#   send_login TITLE [HEADER: VALUE]...
# which make one request, show it as a person would type it, and set STATUS, HEADERS
# and BODY. Everything else (settings, checks, the story) is here. Not run on its own.

BASE_URL="${BASE_URL:-http://127.0.0.1:3000}"
BASE_URL="${BASE_URL%/}"
DEMO_USERNAME="${DEMO_USERNAME:-jsf.fusco@gmail.com}"
DEMO_PASSWORD="${DEMO_PASSWORD:-postman}"
CA_FILE="${CA_FILE:-}"
# The User-Agent of the second login, by which the session list tells its session apart.
SECOND_DEVICE='token-auth demo (second device)'

STATUS='' HEADERS='' BODY='' STEPS=0

fail () {
  echo "FAILED: $*" >&2
  # Step 1 is the login: the usual reason for a 401 there is a server without the demo user.
  if [ "$STEPS" = 1 ] && [ "$STATUS" = 401 ]; then
    echo "The demo user exists only with the in-memory users and no USERS_FILE. With USER_STORE=postgres," >&2
    echo "add it (npm run users -- add-demo) or give DEMO_USERNAME and DEMO_PASSWORD of a user of yours." >&2
  fi
  exit 1
}

# Why a client may not reach an https:// service: a certificate the system does not trust.
unreachable () {
  local hint=''
  case "$BASE_URL" in
    https://*) [ -n "$CA_FILE" ] || hint=' (a self-signed certificate? set CA_FILE to its PEM file)' ;;
  esac
  fail "$1 could not reach $BASE_URL$hint"
}

# Prints a command as a person would type it: arguments with spaces or quotes in single quotes.
show_command () {
  local argument line='$'
  for argument in "$@"; do
    if [[ $argument =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      line+=" $argument"
    else
      line+=" '${argument//\'/\'\\\'\'}'"
    fi
  done
  printf '%s\n' "$line"
}

# Numbers the step and prints its title; called by each client's send.
begin_step () {
  STEPS=$((STEPS + 1))
  printf '\n== %d. %s\n' "$STEPS" "$1"
}

# Checks the answer that send stored against the status expected.
check_status () {
  local expected=$1 title=$2
  echo "-> ${STATUS:-nothing} ${BODY:-(no body)}"
  [ "$STATUS" = "$expected" ] || fail "step $STEPS ($title) answered ${STATUS:-nothing}, expected $expected"
}

expect_body () {
  case "$BODY" in
    *"$1"*) ;;
    *) fail "step $STEPS: the body does not contain $1" ;;
  esac
}

expect_header () {
  printf '%s\n' "$HEADERS" | grep -qixF "$1" || fail "step $STEPS: no header $1"
}

# The server answers compact JSON, so a field is found without a JSON tool.
json_string () { printf '%s' "$BODY" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
json_number () { printf '%s' "$BODY" | sed -n "s/.*\"$1\":\\([0-9][0-9]*\\).*/\\1/p"; }

login () {
  send_login "$@"
  TOKEN=$(json_string token)
  EXPIRES_IN=$(json_number expiresIn)
  [ -n "$TOKEN" ] || fail "the login answer has no token"
  [ -n "$EXPIRES_IN" ] || fail "the login answer has no expiresIn"
  echo "   token stored; it lives $EXPIRES_IN s without use"
}

tell_story () {
  echo "Token authentication demo against $BASE_URL ($1)"

  login 'Log in'

  send 200 'Read data with Authorization: Bearer' GET "$BASE_URL/business/data" "Authorization: Bearer $TOKEN"
  expect_body "\"user\":\"$DEMO_USERNAME\""

  send 200 'Read data with the token header (original clients)' GET "$BASE_URL/business/data" "token: $TOKEN"
  expect_body "\"user\":\"$DEMO_USERNAME\""

  local first_token=$TOKEN
  login 'Log in on a second device' "User-Agent: $SECOND_DEVICE"
  local second_token=$TOKEN
  TOKEN=$first_token

  send 200 'List the sessions, told apart by device' GET "$BASE_URL/auth/sessions" "Authorization: Bearer $TOKEN"
  expect_body '"current":true'
  expect_body "\"userAgent\":\"$SECOND_DEVICE\""
  # The id of the second device's session: the one just before its userAgent.
  local second_id
  second_id=$(printf '%s' "$BODY" | sed -n "s/.*\"id\":\"\([^\"]*\)\",\"userAgent\":\"$SECOND_DEVICE\".*/\1/p")
  [ -n "$second_id" ] || fail "step $STEPS: no session id for the second device"
  echo "   the second device's session: $second_id"

  send 204 "End the second device's session" DELETE "$BASE_URL/auth/sessions/$second_id" "Authorization: Bearer $TOKEN"

  send 401 "Read data with the ended session's token" GET "$BASE_URL/business/data" "Authorization: Bearer $second_token"
  expect_header 'WWW-Authenticate: Bearer error="invalid_token"'

  send 401 'Read data without a token' GET "$BASE_URL/business/data"
  expect_header 'WWW-Authenticate: Bearer'

  local wait_seconds="${TTL_WAIT:-$((EXPIRES_IN + 1))}"
  echo
  echo "   leaving the token unused for $wait_seconds s (its idle lifetime is $EXPIRES_IN s)..."
  sleep "$wait_seconds"
  send 401 'Read data with the expired token' GET "$BASE_URL/business/data" "Authorization: Bearer $TOKEN"
  expect_header 'WWW-Authenticate: Bearer error="invalid_token"'

  login 'Log in again'

  send 204 'Log out' POST "$BASE_URL/auth/logout" "Authorization: Bearer $TOKEN"

  send 401 'Read data with the logged-out token' GET "$BASE_URL/business/data" "token: $TOKEN"
  expect_header 'WWW-Authenticate: Bearer error="invalid_token"'

  echo
  echo "All $STEPS steps answered as expected."
}
