#!/usr/bin/env bash
# Installs the Debian 12 packages Relais needs to build and test, only those
# that are missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-program-options1.81-dev
  libprotobuf-dev protobuf-compiler
  libsqlite3-dev libssl-dev libsodium-dev openssl libncurses-dev libutf8proc-dev libsystemd-dev
  dpkg-dev file  # dpkg-shlibdeps and CPack's use of file: the package's dependencies
)
if [ "${1:-}" = "--test" ]; then
  # Tests: GoogleTest, clang with its libFuzzer runtime for the fuzz targets,
  # tmux, the terminal the interactive client is tested in, python3-websockets,
  # a strict second WebSocket peer, sslscan, which checks the TLS offer, and
  # python3-prometheus-client, whose parser reads what /metrics says.
  packages+=(libgtest-dev clang libclang-rt-14-dev tmux python3-websockets sslscan
    python3-prometheus-client)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
