#!/usr/bin/env bash
# Zone signing, whole-process wall time: `zdns zone sign` against BIND's dnssec-signzone
# and ldns-signzone on the same zone (shared/bench/gen-zone.py), the same algorithm (a
# KSK and a ZSK each), NSEC, default validity, each tool run ROUNDS times in turn.
# dnssec-signzone runs twice: as it comes (it verifies the zone it signed) and with -P
# (no verification after signing).
# Prints one row per run and the median per tool; every output is checked once with
# dnssec-verify. Loopback-free: it only reads and writes files in $WORK.
#
#   ZDNS=target/release/zdns N=100000 ALGS="ECDSAP256SHA256 ED25519" \
#     bash crates/dnssec/bench/sign-peers.sh
set -euo pipefail
ZDNS="${ZDNS:-target/release/zdns}"
ZDNS="$(realpath "$ZDNS")"
N="${N:-100000}"
ROUNDS="${ROUNDS:-3}"
ALGS="${ALGS:-ECDSAP256SHA256 ED25519}"
WORK="${WORK:-/tmp/zdns-signbench}"
GEN="$(realpath "${GEN:-$(dirname "$0")/../../../../shared/bench/gen-zone.py}")"
ORIGIN=example.test.

mkdir -p "$WORK"
cd "$WORK"
[ -f example.test.zone ] || python3 "$GEN" --names "$N" --out . >/dev/null
echo "zone: $(grep -vc '^\$' example.test.zone) records, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

zdns_alg() {
  case "$1" in
    ECDSAP256SHA256) echo ecdsap256 ;;
    ED25519) echo ed25519 ;;
    RSASHA256) echo rsasha256 ;;
  esac
}

# Wall seconds of one command (its output discarded).
wall() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

printf '%-16s %-16s %5s %8s\n' alg tool round wall_s
for alg in $ALGS; do
  rm -rf "keys-$alg" && mkdir -p "keys-$alg/bind" "keys-$alg/ldns"
  dnssec-keygen -q -K "keys-$alg/bind" -a "$alg" -f KSK "$ORIGIN" >/dev/null
  dnssec-keygen -q -K "keys-$alg/bind" -a "$alg" "$ORIGIN" >/dev/null
  ksk=$(cd "keys-$alg/ldns" && ldns-keygen -a "$alg" -k "$ORIGIN")
  zsk=$(cd "keys-$alg/ldns" && ldns-keygen -a "$alg" "$ORIGIN")
  "$ZDNS" key generate --zone "$ORIGIN" --alg "$(zdns_alg "$alg")" --ksk --dir "keys-$alg/zdns" >/dev/null
  "$ZDNS" key generate --zone "$ORIGIN" --alg "$(zdns_alg "$alg")" --dir "keys-$alg/zdns" >/dev/null
  declare -A times=()
  for round in $(seq 1 "$ROUNDS"); do
    t=$(wall "$ZDNS" zone sign example.test.zone --origin "$ORIGIN" --keys "keys-$alg/zdns" -o "zdns-$alg.signed")
    printf '%-16s %-16s %5s %8.2f\n' "$alg" zdns "$round" "$t"; times[zdns]+="$t "
    t=$(wall dnssec-signzone -S -K "keys-$alg/bind" -o "$ORIGIN" -f "bind-$alg.signed" example.test.zone)
    printf '%-16s %-16s %5s %8.2f\n' "$alg" dnssec-signzone "$round" "$t"; times[bind]+="$t "
    t=$(wall dnssec-signzone -P -S -K "keys-$alg/bind" -o "$ORIGIN" -f "bindP-$alg.signed" example.test.zone)
    printf '%-16s %-16s %5s %8.2f\n' "$alg" "dnssec-signzone -P" "$round" "$t"; times[bindP]+="$t "
    t=$(wall ldns-signzone -o "$ORIGIN" -f "ldns-$alg.signed" example.test.zone "keys-$alg/ldns/$ksk" "keys-$alg/ldns/$zsk")
    printf '%-16s %-16s %5s %8.2f\n' "$alg" ldns-signzone "$round" "$t"; times[ldns]+="$t "
  done
  for tool in zdns bind bindP ldns; do
    median=$(echo "${times[$tool]}" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-16s %-16s %5s %8.2f\n' "$alg" "$tool" median "$median"
  done
  for tool in zdns bind ldns; do
    dnssec-verify -q -o "$ORIGIN" "$tool-$alg.signed" >/dev/null 2>&1 \
      && echo "$alg $tool: dnssec-verify ok" || echo "$alg $tool: dnssec-verify FAILED"
  done
  unset times
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
