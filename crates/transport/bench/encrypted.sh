#!/usr/bin/env bash
# Encrypted DNS side by side: zdns and Unbound 1.17 serving the same records, DoT and
# DoH measured with dnsperf, one server at a time, on loopback; then zdns over DoQ with
# the doq_load example (dnsperf does not speak DoQ) next to its own DoT figure.
#
#   cargo build --release -p zdns --bin zdns -p zdns-transport --example doq_load
#   bash crates/transport/bench/encrypted.sh            # ROUNDS=3 SECONDS_FULL=10
#
# Per round and server: dnsperf -c 4 -q 100 for SECONDS_FULL s at full speed (qps,
# lost), then 5 s at RATE qps with per-query latencies (-v) for p50/p99. The load
# average is printed with every row: the machine may be shared.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROUNDS="${ROUNDS:-3}"
SECONDS_FULL="${SECONDS_FULL:-10}"
RATE="${RATE:-5000}"
THREADS="${THREADS:-2}"
WORK="${WORK:-/tmp/zdns-encrypted-bench}"
ZDNS="$PWD/target/release/zdns"
DOQ_LOAD="$PWD/target/release/examples/doq_load"
rm -rf "$WORK" && mkdir -p "$WORK"

# The records asked, identical in both servers (zones/sovereign.zone), and one NXDOMAIN.
cat > "$WORK/queries" <<'EOF'
alice.sovereign A
alice.sovereign AAAA
ns1.sovereign A
sovereign SOA
sovereign NS
nx.sovereign A
EOF

cat > "$WORK/zdns.toml" <<EOF
listen = ["127.0.0.1:25353"]
http = "127.0.0.1:28053"
data_dir = "data"
threads = $THREADS
[tls]
dot = ["127.0.0.1:28853"]
doq = ["127.0.0.1:28853"]
doh = ["127.0.0.1:28443"]
[[zone]]
origin = "sovereign."
file = "$PWD/zones/sovereign.zone"
EOF

start_zdns() {
  (cd "$WORK" && exec "$ZDNS" serve --config zdns.toml >"$WORK/zdns.log" 2>&1) &
  PID=$!
  for _ in $(seq 100); do grep -q "HTTP: /metrics" "$WORK/zdns.log" 2>/dev/null && return; sleep 0.1; done
  echo "zdns did not start"; cat "$WORK/zdns.log"; exit 1
}

# Unbound uses the certificate zdns made, so both present the same chain.
start_zdns; kill "$PID"; wait "$PID" 2>/dev/null || true
cat > "$WORK/unbound.conf" <<EOF
server:
  interface: 127.0.0.1@29853
  interface: 127.0.0.1@29443
  tls-port: 29853
  https-port: 29443
  tls-service-key: "$WORK/data/tls/key.pem"
  tls-service-pem: "$WORK/data/tls/cert.pem"
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$WORK"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 0
  num-threads: $THREADS
  do-udp: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "sovereign." static
  local-data: "sovereign. 300 IN SOA ns1.sovereign. admin.sovereign. 2026011701 3600 900 604800 300"
  local-data: "sovereign. 300 IN NS ns1.sovereign."
  local-data: "sovereign. 300 IN NS ns2.sovereign."
  local-data: "sovereign. 300 IN NS ns3.sovereign."
  local-data: "ns1.sovereign. 300 IN A 10.42.0.1"
  local-data: "alice.sovereign. 300 IN A 10.42.1.5"
  local-data: "alice.sovereign. 300 IN AAAA fd00:6d65:7368:1::5"
remote-control:
  control-enable: no
EOF

start_unbound() {
  unbound -d -c "$WORK/unbound.conf" >"$WORK/unbound.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/29443) 2>/dev/null && return; sleep 0.1; done
  echo "unbound did not start"; cat "$WORK/unbound.log"; exit 1
}

load() { cut -d' ' -f1 /proc/loadavg; }

# dnsperf at full speed, then at RATE with per-query latencies; prints one row.
measure() { # server mode port
  local server=$1 mode=$2 port=$3 out
  out=$(dnsperf -m "$mode" -s 127.0.0.1 -p "$port" -d "$WORK/queries" -c 4 -q 100 -l "$SECONDS_FULL" 2>&1)
  local qps lost
  qps=$(awk '/Queries per second/ {printf "%.0f", $4}' <<<"$out")
  lost=$(awk '/Queries lost/ {print $4}' <<<"$out" | tr -d '()')
  local lat
  lat=$(dnsperf -m "$mode" -s 127.0.0.1 -p "$port" -d "$WORK/queries" -c 4 -q 100 -l 5 -Q "$RATE" -v 2>/dev/null \
    | awk '/^> / {print $NF}' | sort -g | awk '{a[NR]=$1} END {
        p50=a[int(NR*0.50)]; p99=a[int(NR*0.99)];
        printf "%.3f\t%.3f", p50*1000, p99*1000 }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$mode" "$qps" "$lost" "$lat" "$(load)"
}

printf 'round\tserver\tmode\tqps\tlost\tp50_ms@%s\tp99_ms@%s\tload1\n' "$RATE" "$RATE"
for round in $(seq "$ROUNDS"); do
  start_zdns
  sleep 1
  for mode in dot doh; do
    port=28853; [ "$mode" = doh ] && port=28443
    printf '%s\t' "$round"; measure zdns "$mode" "$port"
  done
  doq=$("$DOQ_LOAD" 127.0.0.1:28853 4 25 "$SECONDS_FULL" alice.sovereign A alice.sovereign AAAA \
        ns1.sovereign A sovereign SOA sovereign NS nx.sovereign A)
  printf '%s\tzdns\tdoq\t%s\t%s errors\t%s\t%s\t%s\n' "$round" \
    "$(awk '/Queries per second/ {print $4}' <<<"$doq")" \
    "$(awk '/Errors/ {print $2}' <<<"$doq")" \
    "$(awk '/Latency/ {print $4}' <<<"$doq")" "$(awk '/Latency/ {print $6}' <<<"$doq")" "$(load)"
  kill "$PID"; wait "$PID" 2>/dev/null || true
  start_unbound
  sleep 1
  for mode in dot doh; do
    port=29853; [ "$mode" = doh ] && port=29443
    printf '%s\t' "$round"; measure unbound "$mode" "$port"
  done
  kill "$PID"; wait "$PID" 2>/dev/null || true
done
echo "(doq row: doq_load, 4 connections x 25 streams in flight, full speed; its latencies are at full speed, not at $RATE qps)"
