#!/usr/bin/env bash
# The zdns resolver against Unbound, side by side in one run, on loopback only:
#  - a hierarchy (root, test., example.test. on two servers) served by `zdns serve`
#    processes on 127.0.0.1-4 at one high port;
#  - `zdns serve` recursing from it, and Unbound with stub zones at the same servers
#    (Unbound cannot be given a port for servers learned from glue), same CPU placement;
#  - cache-hit throughput: dnsperf over N warm names (rounds interleaved), and the
#    server's CPU time per answered query (utime + stime from /proc);
#  - cold resolution: a fresh process of each, one query at a time, COLD_ROUNDS batches
#    of M new names, latency median and p99 measured by the client (cold.py);
#  - memory per cached RRset: RSS growth over the warm-up divided by N.
# Usage: bash crates/resolver/bench/vs_unbound.sh   (after cargo build --release -p zdns)
# Env: N (20000) M (300) SECONDS_PER_ROUND (10) ROUNDS (2) COLD_ROUNDS (2: batches of M
#      cold names per resolver, alternating who goes first) WORK (/tmp/resolver-bench)
set -euo pipefail
cd "$(dirname "$0")/../../.."
ZDNS=${ZDNS:-target/release/zdns}
N=${N:-20000}
M=${M:-300}
SECONDS_PER_ROUND=${SECONDS_PER_ROUND:-10}
ROUNDS=${ROUNDS:-2}
COLD_ROUNDS=${COLD_ROUNDS:-2}
WORK=${WORK:-/tmp/resolver-bench}
BENCH=$(dirname "$0")
# shellcheck source=common.sh
source "$BENCH/common.sh"
P=$(port); ZP=$(port); UP=$(port)

# --- zones -------------------------------------------------------------------
cat >"$WORK/root.zone" <<Z
\$TTL 86400
.               SOA a.root. hostmaster.root. 1 1800 900 604800 86400
.               NS  a.root.
a.root.         A   127.0.0.1
test.           NS  ns.test.
ns.test.        A   127.0.0.2
Z
cat >"$WORK/test.zone" <<Z
\$TTL 86400
test.               SOA ns.test. hostmaster.test. 1 1800 900 604800 600
test.               NS  ns.test.
ns.test.            A   127.0.0.2
example.test.       NS  ns1.example.test.
example.test.       NS  ns2.example.test.
ns1.example.test.   A   127.0.0.3
ns2.example.test.   A   127.0.0.4
Z
{
  echo '$TTL 86400'
  echo '@ SOA ns1 hostmaster 1 1800 900 604800 600'
  echo '@ NS ns1'
  echo '@ NS ns2'
  echo 'ns1 A 127.0.0.3'
  echo 'ns2 A 127.0.0.4'
  for ((i = 0; i < N; i++)); do echo "h$i A 192.0.$((i / 250 % 250)).$((i % 250 + 1))"; done
  for ((i = 0; i < COLD_ROUNDS * M; i++)); do echo "c$i A 198.51.$((i / 250 % 250)).$((i % 250 + 1))"; done
} >"$WORK/example.zone"
for ((i = 0; i < N; i++)); do echo "h$i.example.test A"; done >"$WORK/hits.txt"

serve_zone() { # last-octet(s) origin file
  local dir="$WORK/auth-$2" listens=()
  mkdir -p "$dir"
  for o in $1; do listens+=(--listen "127.0.0.$o:$P"); done
  "$ZDNS" serve "${listens[@]}" --zone "$2=$3" --http "127.0.0.$(echo $1 | cut -d' ' -f1):$(port)" \
    --data-dir "$dir" --threads 1 2>"$dir/log" &
  pids+=($!)
}
serve_zone "1" . "$WORK/root.zone"
serve_zone "2" test. "$WORK/test.zone"
serve_zone "3 4" example.test. "$WORK/example.zone"

wait_dns 127.0.0.1 "$P"; wait_dns 127.0.0.3 "$P"

# --- resolvers ---------------------------------------------------------------
start_zdns() {
  local dir="$WORK/zdns"
  rm -rf "$dir"; mkdir -p "$dir"
  cat >"$dir/zdns.toml" <<C
listen = ["127.0.0.1:$ZP"]
http = "127.0.0.1:$(port)"
data_dir = "data"
threads = 2
[resolver]
root_hints = ["127.0.0.1:$P"]
upstream_port = $P
max_cache_rrsets = 1000000
C
  taskset -c 1 "$ZDNS" serve --config "$dir/zdns.toml" 2>"$dir/log" &
  ZDNS_PID=$!; pids+=($ZDNS_PID)
  wait_dns 127.0.0.1 "$ZP"
}
start_unbound() {
  local dir="$WORK/unbound"
  rm -rf "$dir"; mkdir -p "$dir"
  cat >"$dir/unbound.conf" <<C
server:
  interface: 127.0.0.1@$UP
  port: $UP
  do-ip6: no
  do-not-query-localhost: no
  username: ""
  chroot: ""
  directory: "$dir"
  pidfile: ""
  use-syslog: no
  logfile: "$dir/log"
  module-config: "iterator"
  qname-minimisation: yes
  access-control: 127.0.0.0/8 allow
  num-threads: 2
  so-reuseport: yes
  msg-cache-size: 64m
  rrset-cache-size: 128m
  local-zone: "test." nodefault
stub-zone:
  name: "."
  stub-addr: 127.0.0.1@$P
stub-zone:
  name: "test."
  stub-addr: 127.0.0.2@$P
stub-zone:
  name: "example.test."
  stub-addr: 127.0.0.3@$P
  stub-addr: 127.0.0.4@$P
C
  taskset -c 1 unbound -d -c "$dir/unbound.conf" &
  UNBOUND_PID=$!; pids+=($UNBOUND_PID)
  wait_dns 127.0.0.1 "$UP"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of the whole process

# --- cold resolution ---------------------------------------------------------
# Fresh processes; the first query also learns the delegations.
start_zdns; start_unbound
: >"$WORK/cold-zdns.txt"; : >"$WORK/cold-unbound.txt"
for ((r = 0; r < COLD_ROUNDS; r++)); do
  # The same M names, new to both, asked of each in turn; who goes first alternates.
  order="zdns unbound"; [ $((r % 2)) = 1 ] && order="unbound zdns"
  for who in $order; do
    p=$ZP; [ "$who" = unbound ] && p=$UP
    python3 "$BENCH/cold.py" 127.0.0.1 "$p" c $((r * M)) "$M" >>"$WORK/cold-$who.txt"
  done
done
stop "$ZDNS_PID"; stop "$UNBOUND_PID"

# --- warm-up and memory ------------------------------------------------------
start_zdns; start_unbound
dig +short @127.0.0.1 -p "$ZP" h0.example.test >/dev/null
dig +short @127.0.0.1 -p "$UP" h0.example.test >/dev/null
z0=$(rss_kb "$ZDNS_PID"); u0=$(rss_kb "$UNBOUND_PID")
taskset -c 0 dnsperf -s 127.0.0.1 -p "$ZP" -d "$WORK/hits.txt" -n 1 -q 50 >"$WORK/warm-zdns.txt"
taskset -c 0 dnsperf -s 127.0.0.1 -p "$UP" -d "$WORK/hits.txt" -n 1 -q 50 >"$WORK/warm-unbound.txt"
z1=$(rss_kb "$ZDNS_PID"); u1=$(rss_kb "$UNBOUND_PID")

# --- cache hits --------------------------------------------------------------
qps() { awk '/Queries per second/ {print $4}' "$1"; }
lost() { awk '/Queries lost/ {print $3}' "$1"; }
for ((r = 1; r <= ROUNDS; r++)); do
  for who in zdns unbound; do
    p=$ZP; [ "$who" = unbound ] && p=$UP
    pid=$ZDNS_PID; [ "$who" = unbound ] && pid=$UNBOUND_PID
    t0=$(cpu_ticks "$pid")
    taskset -c 0 dnsperf -s 127.0.0.1 -p "$p" -d "$WORK/hits.txt" -l "$SECONDS_PER_ROUND" -c 4 -q 200 \
      >"$WORK/hits-$who-$r.txt"
    t1=$(cpu_ticks "$pid")
    done_q=$(awk '/Queries completed/ {print $3}' "$WORK/hits-$who-$r.txt")
    us=$(python3 -c "print(f'{($t1 - $t0) / $(getconf CLK_TCK) * 1e6 / max(1, $done_q):.2f}')")
    echo "round $r $who qps $(qps "$WORK/hits-$who-$r.txt") lost $(lost "$WORK/hits-$who-$r.txt") server-cpu-us/q $us"
  done
done

echo
echo "== cold resolution, one query at a time, $((COLD_ROUNDS * M)) new names each (ms)"
for who in zdns unbound; do
  python3 - "$WORK/cold-$who.txt" "$who" <<'PY'
import sys, statistics
v = sorted(float(x) for x in open(sys.argv[1]) if x.strip())
p99 = v[min(len(v) - 1, int(len(v) * 0.99))]
print(f"{sys.argv[2]:8} median {statistics.median(v):.3f}  p99 {p99:.3f}  n {len(v)}")
PY
done
echo "== memory growth over $N cached names (kB RSS, bytes per RRset)"
echo "zdns     $((z1 - z0)) kB  $(( (z1 - z0) * 1024 / N )) B/RRset"
echo "unbound  $((u1 - u0)) kB  $(( (u1 - u0) * 1024 / N )) B/RRset"
echo "== load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
