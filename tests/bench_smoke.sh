#!/usr/bin/env bash
# A small run of every relais-bench scenario against a real server: checks
# that the load generator works (and loses nothing), not how fast it goes.
set -euo pipefail
server=$1
bench=$2
work=$(mktemp -d)
trap 'kill $pid $peer 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
peer=

"$server" user add-bots bot --count 20 --data "$work/data" > "$work/tokens"
[ "$(wc -l < "$work/tokens")" -eq 20 ]
"$server" serve --data "$work/data" --listen 127.0.0.1:0 --admin-listen off \
  --send-rate 100000 --send-burst 100000 \
  --connection-rate 100000 --connection-burst 100000 \
  --accept-rate 100000 --accept-burst 100000 > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$work/out")
run() { "$bench" "$@" --server "$url" --tokens "$work/tokens" --server-pid "$pid" --json; }

fanout=$(run fanout --members 20 --senders 2 --rate 20 --duration 1)
echo "$fanout"
grep -q '"missing":0[,}]' <<< "$fanout"
grep -q '"deliveries":800[,}]' <<< "$fanout"
# The warm-up's deliveries are not counted: only the second's 50 × 10.
stalled=$(run fanout --members 10 --senders 1 --rate 50 --duration 1 --warmup 1 --stalled 2)
echo "$stalled"
grep -q '"missing":0[,}]' <<< "$stalled"
grep -q '"deliveries":500[,}]' <<< "$stalled"
grep -q '"server_rss_peak_growth_mib":' <<< "$stalled"
grep -q '"stalled":2[,}]' <<< "$stalled"

# The side-by-side run, against a plain broadcast server.
/usr/bin/python3 "$(dirname "$0")/broadcast_peer.py" > "$work/peer" &
peer=$!
for _ in $(seq 100); do grep -q "listening on" "$work/peer" && break; sleep 0.1; done
peer_url=$(sed -n 's/^listening on //p' "$work/peer")
compared=$(run fanout --members 10 --senders 1 --rate 20 --duration 1 --compare-raw "$peer_url" \
  --raw-pid "$peer")
echo "$compared"
grep -q '"missing":0[,}]' <<< "$compared"
grep -q '"raw_missing":0[,}]' <<< "$compared"
grep -q '"raw_deliveries":200[,}]' <<< "$compared"

rooms=$(run rooms --channels 4 --channel-members 5 --per-connection 2 --rate 5 --duration 1)
echo "$rooms"
grep -q '"connections":10[,}]' <<< "$rooms"
grep -q '"missing":0[,}]' <<< "$rooms"
grep -q '"deliveries":100[,}]' <<< "$rooms"
idle=$(run idle --connections 20)
echo "$idle"
grep -q '"connections":20[,}]' <<< "$idle"
saturation=$(run fanout --members 20 --senders 2 --window 4 --duration 1)
echo "$saturation"
grep -q '"missing":0[,}]' <<< "$saturation"
durable=$(run durable --senders 4 --duration 1)
echo "$durable"
grep -q '"send_failures":0[,}]' <<< "$durable"
catchup=$(run catchup --messages 300 --stored 200)
echo "$catchup"
grep -q '"missed_events":300[,}]' <<< "$catchup"
history=$(run history --messages 300 --reads 20)
echo "$history"
grep -q '"reads":20[,}]' <<< "$history"
session=$(run session --members 20 --reads 40 --rate 40)
echo "$session"
grep -q '"completed":40[,}]' <<< "$session"
grep -q '"participants":20[,}]' <<< "$session"
echo "bench smoke: ok"
