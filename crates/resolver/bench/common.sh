# Shared by the resolver benchmarks (sourced, not run): a fresh $WORK, processes in
# `pids` killed on exit, free loopback ports, waiting for a DNS server, stopping one.
rm -rf "$WORK" && mkdir -p "$WORK"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_dns() { # addr port
  for _ in $(seq 100); do
    dig +norec +tries=1 +time=1 @"$1" -p "$2" . SOA >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "no DNS at $1:$2" >&2; return 1
}

stop() { kill "$1"; wait "$1" 2>/dev/null || true; }
