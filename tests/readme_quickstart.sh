#!/usr/bin/env bash
# Follows the README as a newcomer does, with the commands taken from README.md
# itself, so that an edit that breaks them fails CI:
#   1. the set-up's first command (build, then serve on ws://127.0.0.1:7680),
#      until it prints `listening on`, and GET /healthz;
#   2. the same command again: the port is taken, so it must say so in one
#      line and exit non-zero, without installing or rebuilding anything;
#   3. the quick-start block as written (`tail` follows in the background and
#      must show a message sent after it);
#   4. SIGINT: the server stops cleanly and exits 0.
# Run from a checkout without ./data (the quick start makes its own).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "readme: $*" >&2
  exit 1
}

# The first ```sh block after a heading of README.md.
block_after() {
  awk -v heading="$1" '
    $0 == heading { in_section = 1; next }
    in_section && /^```sh$/ { in_block = 1; next }
    in_block && /^```$/ { exit }
    in_block { print }
  ' README.md
}

for made in data data-restauree sauvegarde.db; do
  [ -e "$made" ] && fail "./$made exists; move it aside first: the quick start makes its own"
done
setup=$(block_after "## Set-up (Debian 12, as root)" | grep -v '^#' | grep -v '^$')
quickstart=$(block_after "## Quick start")
[ "$(printf '%s\n' "$setup" | wc -l)" -eq 1 ] || fail "expected one set-up command, got: $setup"
[ -n "$quickstart" ] || fail "no quick-start block in README.md"

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2> /dev/null || true; fi
  rm -rf data data-restauree sauvegarde.db "$work"
}
trap cleanup EXIT
# A newcomer has no saved settings or session tokens yet.
export XDG_CONFIG_HOME="$work/config"

echo "== readme: $setup"
bash -c "$setup" > "$work/server.log" 2>&1 &
server_pid=$!
# The first run installs packages and builds: minutes, not seconds.
for _ in $(seq 1 1800); do
  grep -q '^listening on ws://127.0.0.1:7680$' "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; fail "the server did not start"; }
  sleep 1
done
grep -q '^listening on ws://127.0.0.1:7680$' "$work/server.log" ||
  { cat "$work/server.log"; fail "no 'listening on ws://127.0.0.1:7680' after 30 minutes"; }
grep -E 'warning:' "$work/server.log" && fail "the Release build printed warnings"

exec 3<> /dev/tcp/127.0.0.1/7680
printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
health=$(cat <&3)
exec 3<&-
[[ $health == "HTTP/1.1 200"* ]] || fail "GET /healthz answered: $health"
echo "== readme: /healthz answers 200"

echo "== readme: $setup (again, while the first one serves)"
start=$(date +%s)
if bash -c "$setup" > "$work/second.log" 2>&1; then
  fail "a second server on the same port exited 0"
fi
elapsed=$(( $(date +%s) - start ))
grep -q '^installing:' "$work/second.log" && fail "the second run installed packages again"
grep -q 'no work to do' "$work/second.log" || { cat "$work/second.log"; fail "the second run rebuilt"; }
[ "$(grep -c 'cannot listen on 127.0.0.1:7680' "$work/second.log")" -eq 1 ] ||
  { cat "$work/second.log"; fail "the second run did not say in one line that the port is taken"; }
echo "   $(grep 'cannot listen' "$work/second.log") (after ${elapsed}s)"

# `tail` follows forever: it runs in the background and is checked below. It
# shows only what is sent once it follows, and does not say when it does: the
# check sends until it shows.
script=$(printf '%s\n' "$quickstart" |
  sed -E 's|^(\$relais tail [^#]*)(#.*)?$|\1 > "$work/tail.out" 2>\&1 \& tail_pid=$!|')
echo "== readme: quick start"
printf '%s\n' "$script" | sed 's/^/   /'
work=$work bash -euo pipefail -c "trap 'kill \${tail_pid:-} 2> /dev/null || true' EXIT
$script
  # What the block did, as its own users see it.
  \$relais history accueil --json > \"\$work/history.json\"
  for _ in \$(seq 1 30); do
    \$relais send accueil 'Suivi en direct' > /dev/null
    sleep 1
    grep -q 'Suivi en direct' \"\$work/tail.out\" && break
  done
  RELAIS_USER=bob RELAIS_PASSWORD=autre-mot \$relais channels --json > \"\$work/bob.json\"
" > "$work/quickstart.log" 2>&1 || { cat "$work/quickstart.log"; fail "the quick start failed"; }
cat "$work/quickstart.log"

grep -q '"text":"Bonjour à tous"' "$work/history.json" || fail "history lacks the first message"
grep -q "\"text\":\"Compte rendu de l'atelier\"" "$work/history.json" ||
  fail "history lacks the piped message"
grep -q 'Suivi en direct' "$work/tail.out" || { cat "$work/tail.out"; fail "tail missed a live message"; }
grep -q '"kind":"direct".*"unread":1' "$work/bob.json" || { cat "$work/bob.json"; fail "bob has no unread DM"; }
grep -q "Simulateur d'aides CAF  (tool ; logement)  https://www.caf.fr" "$work/quickstart.log" ||
  fail "resources did not list the resource"
grep -q "alice: \[Simulateur d'aides CAF\]" "$work/quickstart.log" ||
  fail "the thread did not show its root"
grep -q "Testé en atelier : très clair" "$work/quickstart.log" || fail "the thread lacks its reply"
grep -q "#accueil [0-9]* \[.*\] alice: Simulateur d'aides CAF" "$work/quickstart.log" ||
  fail "search did not find the resource"
grep -q "^# Compte rendu — Analyse de pratiques$" "$work/quickstart.log" ||
  fail "the session's minutes were not drafted"
grep -q "^- Situation choisie : un refus de FranceConnect$" "$work/quickstart.log" ||
  fail "the minutes lack the session's note"
grep -q "^nom,structure,commune,rôle dans la séance,première arrivée,dernier départ,minutes de présence$" \
  "$work/quickstart.log" || fail "attendance printed no CSV header"
grep -q "^alice,,,animation,20[0-9-]* [0-9:]*,20[0-9-]* [0-9:]*,0$" "$work/quickstart.log" ||
  fail "attendance lacks alice's line"
grep -q "^compte chloe créé ; vous êtes connecté·e$" "$work/quickstart.log" ||
  fail "the newcomer could not register with the invitation"
grep -q "^backup of data written to sauvegarde.db (" "$work/quickstart.log" || fail "no backup"
grep -q "^restored sauvegarde.db into data-restauree$" "$work/quickstart.log" || fail "no restore"
grep -q "^integrity ok: data-restauree$" "$work/quickstart.log" || fail "the restored copy failed integrity"
echo "== readme: history, piped send, --json, tail, dm, an invitation, resources, thread, search, a session and a backup as described"

kill -INT "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
[ "$status" -eq 0 ] || { tail -5 "$work/server.log"; fail "SIGINT: the server exited $status"; }
echo "readme: 1 passed, 0 failed"
