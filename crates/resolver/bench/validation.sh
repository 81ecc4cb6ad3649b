#!/usr/bin/env bash
# What DNSSEC validation costs the zdns resolver on cache misses, on loopback only:
#  - a signed hierarchy (root and example.test. with NSEC, test. with NSEC3; keys of
#    algorithm ALG from `zdns key generate`, signed with `zdns zone sign`) served by quick-flag
#    `zdns serve` processes on 127.0.0.1-3 at one high port;
#  - the zdns resolver with the root's DS as its trust anchor (validating), and the same
#    with `dnssec_validation = false` (plain), same CPU placement;
#  - ROUNDS rounds, the order of the two alternating; in each, a fresh process of each
#    asks for M new names one at a time (cold.py), so every answer is a cache miss and
#    the first one also builds the delegations and, when validating, the chain of trust;
#  - latency median and p99 of each over all rounds, measured by the client, and their
#    ratio (validating / plain).
# Usage: bash crates/resolver/bench/validation.sh   (after cargo build --release -p zdns)
# Env: M (300) ROUNDS (4) WORK (/tmp/validation-bench)
#      ALG (ecdsap256; or rsasha256, ed25519: `zdns key generate --alg`)
set -euo pipefail
cd "$(dirname "$0")/../../.."
ZDNS=${ZDNS:-$PWD/target/release/zdns}
M=${M:-300}
ROUNDS=${ROUNDS:-4}
ALG=${ALG:-ecdsap256}
WORK=${WORK:-/tmp/validation-bench}
BENCH=$(dirname "$0")
# shellcheck source=common.sh
source "$BENCH/common.sh"
P=$(port)

# --- zones, signed bottom-up --------------------------------------------------
sign() { # origin file extra-args... ; prints the DS records of the zone's KSK
  local ring="$WORK/ring-$1"
  "$ZDNS" key generate --zone "$1" --alg "$ALG" --ksk --dir "$ring" >/dev/null
  "$ZDNS" key generate --zone "$1" --alg "$ALG" --dir "$ring" >/dev/null
  "$ZDNS" zone sign "$WORK/$2" --keys "$ring" -o "$WORK/$2.signed" "${@:3}" >/dev/null
  "$ZDNS" key ds --zone "$1" --dir "$ring"
}
{
  echo '$ORIGIN example.test.'
  echo '$TTL 86400'
  echo '@ SOA ns hostmaster 1 1800 900 604800 600'
  echo '@ NS ns'
  echo 'ns A 127.0.0.3'
  for ((i = 0; i < 2 * ROUNDS * M; i++)); do echo "c$i A 198.51.$((i / 250 % 250)).$((i % 250 + 1))"; done
} >"$WORK/example.zone"
EXAMPLE_DS=$(sign example.test. example.zone)
cat >"$WORK/test.zone" <<Z
\$ORIGIN test.
\$TTL 86400
@                 SOA ns hostmaster 1 1800 900 604800 600
@                 NS  ns
ns                A   127.0.0.2
example           NS  ns.example
ns.example        A   127.0.0.3
$EXAMPLE_DS
Z
TEST_DS=$(sign test. test.zone --nsec3)
cat >"$WORK/root.zone" <<Z
\$ORIGIN .
\$TTL 86400
.               SOA a.root. hostmaster.root. 1 1800 900 604800 86400
.               NS  a.root.
a.root.         A   127.0.0.1
test.           NS  ns.test.
ns.test.        A   127.0.0.2
$TEST_DS
Z
ROOT_DS=$(sign . root.zone)

serve_zone() { # last-octet origin file
  local dir="$WORK/auth-$1"
  mkdir -p "$dir"
  "$ZDNS" serve --listen "127.0.0.$1:$P" --zone "$2=$3" --http "127.0.0.$1:$(port)" \
    --data-dir "$dir" --threads 1 2>"$dir/log" &
  pids+=($!)
}
serve_zone 1 . "$WORK/root.zone.signed"
serve_zone 2 test. "$WORK/test.zone.signed"
serve_zone 3 example.test. "$WORK/example.zone.signed"

for o in 1 2 3; do wait_dns "127.0.0.$o" "$P"; done

# --- resolvers ---------------------------------------------------------------
start_zdns() { # validating|plain
  local dir="$WORK/zdns-$1" validation
  rm -rf "$dir"; mkdir -p "$dir"
  ZP=$(port)
  if [ "$1" = validating ]; then
    validation="trust_anchors = ['''
$ROOT_DS
''']"
  else
    validation="dnssec_validation = false"
  fi
  cat >"$dir/zdns.toml" <<C
listen = ["127.0.0.1:$ZP"]
http = "127.0.0.1:$(port)"
data_dir = "data"
threads = 2
[resolver]
root_hints = ["127.0.0.1:$P"]
upstream_port = $P
$validation
C
  (cd "$dir" && exec taskset -c 1 "$ZDNS" serve --config zdns.toml 2>log) &
  ZDNS_PID=$!; pids+=($ZDNS_PID)
  wait_dns 127.0.0.1 "$ZP"
}

# The validating resolver must say Secure (AD), the plain one must not: otherwise the
# comparison would be of two unvalidated lookups.
for mode in validating plain; do
  start_zdns "$mode"
  flags=$(dig +dnssec +tries=1 +time=5 @127.0.0.1 -p "$ZP" ns.example.test A | awk '/;; flags:/')
  stop "$ZDNS_PID"
  case "$mode:$flags" in
    validating:*" ad"*|plain:*) ;;
    *) echo "the validating resolver did not set AD: $flags" >&2; exit 1 ;;
  esac
  case "$mode:$flags" in
    plain:*" ad"*) echo "the plain resolver set AD: $flags" >&2; exit 1 ;;
  esac
done

# --- cold resolution, alternating --------------------------------------------
: >"$WORK/cold-validating.txt"; : >"$WORK/cold-plain.txt"
next=0
for ((r = 1; r <= ROUNDS; r++)); do
  order="validating plain"; [ $((r % 2)) = 0 ] && order="plain validating"
  for mode in $order; do
    start_zdns "$mode"
    taskset -c 0 python3 "$BENCH/cold.py" 127.0.0.1 "$ZP" c "$next" "$M" >>"$WORK/cold-$mode.txt"
    stop "$ZDNS_PID"
    next=$((next + M))
  done
  echo "round $r done ($order)"
done

echo
echo "== cold resolution, one query at a time, $((ROUNDS * M)) new names each (ms)"
python3 - "$WORK/cold-validating.txt" "$WORK/cold-plain.txt" <<'PY'
import sys, statistics
def stats(path):
    v = sorted(float(x) for x in open(path) if x.strip())
    return statistics.median(v), v[min(len(v) - 1, int(len(v) * 0.99))], len(v)
val, plain = stats(sys.argv[1]), stats(sys.argv[2])
for who, (med, p99, n) in (("validating", val), ("plain", plain)):
    print(f"{who:10} median {med:.3f}  p99 {p99:.3f}  n {n}")
print(f"ratio      median {val[0] / plain[0]:.2f}  p99 {val[1] / plain[1]:.2f}  (validating / plain)")
PY
echo "== load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
