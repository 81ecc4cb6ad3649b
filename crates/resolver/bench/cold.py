"""Cold resolution latency: asks SERVER:PORT for PREFIX{FIRST..FIRST+COUNT}.example.test A
one at a time (RD set) and prints each round trip in milliseconds, one per line. A query
without an answer within 5 s prints nothing and is reported on stderr."""
import socket, struct, sys, time

server, port, prefix, first, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.settimeout(5)
for i in range(first, first + count):
    qid = i & 0xFFFF
    labels = f"{prefix}{i}.example.test".split(".")
    qname = b"".join(bytes([len(l)]) + l.encode() for l in labels) + b"\0"
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", 1, 1)
    start = time.perf_counter()
    sock.sendto(query, (server, port))
    try:
        while True:
            reply, _ = sock.recvfrom(4096)
            if struct.unpack(">H", reply[:2])[0] == qid:
                break
    except socket.timeout:
        print(f"timeout for {prefix}{i}", file=sys.stderr)
        continue
    rcode = reply[3] & 0x0F
    if rcode != 0:
        print(f"rcode {rcode} for {prefix}{i}", file=sys.stderr)
    print(f"{(time.perf_counter() - start) * 1000:.3f}")
