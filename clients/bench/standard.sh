#!/usr/bin/env bash
# The standard relais-bench set: the server (and the ws peer it is compared
# with) pinned to core 0, the load generator to core 1. Each case runs
# --runs times (3); the summary gives medians. Results, raw JSON lines and
# PNG plots of the scaling curves go to --out (results/DATE).
#   clients/bench/standard.sh [--quick] [--runs N] [--out DIR]
# --quick: short runs, once, smaller stores: checks the script, not Relais.
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=3
quick=0
out="results/$(date -u +%Y%m%d-%H%M%S)"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; runs=1 ;;
    --runs) runs=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "usage: $0 [--quick] [--runs N] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done

# What the runs need beyond the build: gnuplot for the plots, Python for the
# medians, Node and npm for the ws peer (any Node will do: keep one that is
# there, from Debian or not).
bash deploy/install-deps.sh
extra=()
command -v gnuplot > /dev/null || extra+=(gnuplot-nox)
[ -x /usr/bin/python3 ] || extra+=(python3)
command -v node > /dev/null || extra+=(nodejs)
command -v npm > /dev/null || extra+=(npm)
command -v taskset > /dev/null || extra+=(util-linux)
if [ ${#extra[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    --no-install-recommends "${extra[@]}" > /dev/null
fi

cmake -S . -B build/normal -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build/normal --target relais-server relais-bench
server_bin=$PWD/build/normal/server/relais-server
bench_bin=$PWD/build/normal/clients/bench/relais-bench
(cd clients/bench/ws-peer && npm ci --no-audit --no-fund --silent)

if [ "$(nproc)" -ge 2 ]; then
  server_cpu=(taskset -c 0)
  bench_cpu=(taskset -c 1)
else
  server_cpu=()
  bench_cpu=()
fi
if [ "$quick" -eq 1 ]; then
  seconds=2; big=100000; sizes=(10 100 1000); connections=(1000 5000)
else
  seconds=10; big=1000000; sizes=(10 100 1000 5000); connections=(1000 5000 10000 18000)
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
server_pid=
peer_pid=
cleanup() {
  kill $server_pid $peer_pid 2> /dev/null || true
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== bots"
"$server_bin" user add-bots bench --count 5000 --data "$work/data" > "$work/members"
"$server_bin" user add-bots idle --count "${connections[-1]}" --data "$work/data" > "$work/idle"

wait_for_listening() {  # log file
  for _ in $(seq 200); do
    grep -q "listening on" "$1" && break
    sleep 0.05
  done
  sed -n 's/^listening on //p' "$1"
}
start_server() {
  if [ -n "$server_pid" ]; then
    kill -INT "$server_pid"
    wait "$server_pid" || true
  fi
  "${server_cpu[@]}" "$server_bin" serve --data "$work/data" --listen 127.0.0.1:0 --admin-listen off \
    --send-rate 1000000 --send-burst 1000000 --connection-rate 1000000 \
    --connection-burst 1000000 --accept-rate 1000000 --accept-burst 1000000 \
    > "$work/server.out" 2>> "$work/server.err" &
  server_pid=$!
  server_url=$(wait_for_listening "$work/server.out")
}
start_server
"${server_cpu[@]}" node clients/bench/ws-peer/server.js 0 > "$work/peer.out" &
peer_pid=$!
peer_url=$(wait_for_listening "$work/peer.out")

# case NAME TOKENS ARGS...: one line of runs.jsonl per run.
case_runs() {
  local name=$1 tokens=$2
  shift 2
  for run in $(seq "$runs"); do
    echo "== $name ($run/$runs)"
    local result
    result=$("${bench_cpu[@]}" "$bench_bin" "$@" --server "$server_url" --tokens "$tokens" \
      --server-pid "$server_pid" --json)
    echo "{\"case\":\"$name\",\"run\":$run,\"result\":$result}" >> "$out/runs.jsonl"
  done
}
compare=(--compare-raw "$peer_url" --raw-pid "$peer_pid")
: > "$out/runs.jsonl"

# The bar.
case_runs fanout_50 "$work/members" fanout --members 1000 --senders 1 --rate 50 \
  --duration "$seconds" "${compare[@]}"
case_runs fanout_200 "$work/members" fanout --members 1000 --senders 1 --rate 200 \
  --duration "$seconds" "${compare[@]}"
case_runs saturation "$work/members" fanout --members 1000 --senders 10 --window 16 \
  --duration "$seconds" "${compare[@]}"
case_runs durable_64 "$work/members" durable --senders 64 --duration "$seconds"
case_runs catchup_10000 "$work/members" catchup --messages 10000
case_runs session_200 "$work/members" session --members 200 --reads 1000 --rate 20
case_runs history_big "$work/members" history --messages "$big" --reads 1000
runs_saved=$runs
runs=1
# Scaling: channel size (saturation), stored messages.
for m in "${sizes[@]}"; do
  senders=$((m < 10 ? m : 10))
  case_runs "size_$m" "$work/members" fanout --members "$m" --senders "$senders" --window 16 \
    --duration "$seconds"
done
case_runs history_small "$work/members" history --messages 10000 --reads 1000
case_runs catchup_big "$work/members" catchup --messages 10000 --stored $((big - 10000))
# Memory per connection: a fresh server for each count, so that what earlier
# runs freed does not hide what connections take.
runs=$runs_saved
for n in "${connections[@]}"; do
  for run in $(seq "$runs"); do
    start_server
    echo "== idle_$n ($run/$runs)"
    result=$("${bench_cpu[@]}" "$bench_bin" idle --connections "$n" --server "$server_url" \
      --tokens "$work/idle" --server-pid "$server_pid" --json)
    echo "{\"case\":\"idle_$n\",\"run\":$run,\"result\":$result}" >> "$out/runs.jsonl"
  done
done

echo "== summary"
/usr/bin/python3 clients/bench/summarize.py "$out" "$runs"
for plot in "$out"/*.gp; do
  (cd "$out" && gnuplot "$(basename "$plot")")
done
echo "results in $out"
