#!/usr/bin/env bash
# Builds relais-server and relais, then serves on localhost with the embedded
# SQLite store in ./data. Extra arguments go to `relais-server serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DRELAIS_TESTS=OFF >/dev/null
cmake --build build/release --target relais-server relais
server=build/release/server/relais-server
cli=build/release/clients/cli/relais
cat <<MSG

Relais is starting on ws://127.0.0.1:7680 with its data in ./data.
Create an account (in another terminal), then talk to the server:
  echo 'mot-de-passe' | $server user add alice --data data
  export RELAIS_SERVER=ws://127.0.0.1:7680 RELAIS_USER=alice
  $cli create accueil --topic "Bienvenue"
  $cli send accueil "Bonjour à tous"
  $cli history accueil
Stop the server with Ctrl+C.

MSG
exec "$server" serve --data data --listen 127.0.0.1:7680 "$@"
