#!/usr/bin/env bash
# Our client and server across an impaired link: two network namespaces
# joined by a veth pair, tc netem on both ends adding 5% loss, reordering,
# 20 ms delay each way (40 ms RTT) and a rate limit. Transfers must stay
# byte-exact and handshakes must complete. Kernels without sch_netem (e.g.
# minimal VM kernels) get the same impairment from a userspace relay
# (impair_proxy) in the server's namespace instead.
#   netns_test.sh QUICPERF INTEROP_ENDPOINT IMPAIR_PROXY
# Addresses are from TEST-NET-1 (192.0.2.0/24, RFC 5737) and exist only
# inside the two namespaces this script creates and deletes.
# Exit 77 (skipped) only where the kernel refuses namespaces or veth.
set -uo pipefail
QUICPERF=$(realpath "${1:?quicperf binary}")
INTEROP=$(realpath "${2:?interop-endpoint binary}")
PROXY=$(realpath "${3:?impair_proxy binary}")

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "network namespaces need root"
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; } ||
    fail "cannot install iproute2"
fi

A=wtA$$ B=wtB$$
work=$(mktemp -d /tmp/wt-netns-XXXXXX)
cleanup() {
  ip netns pids "$A" 2>/dev/null | xargs -r kill 2>/dev/null
  ip netns pids "$B" 2>/dev/null | xargs -r kill 2>/dev/null
  sleep 0.2
  ip netns del "$A" 2>/dev/null
  ip netns del "$B" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$A" 2>"$work/err" || skip "the kernel refuses network namespaces: $(cat "$work/err")"
ip netns add "$B" || skip "the kernel refuses a second network namespace"
ip link add vethA netns "$A" type veth peer name vethB netns "$B" 2>"$work/err" ||
  skip "the kernel refuses veth devices: $(cat "$work/err")"
ip -n "$A" addr add 192.0.2.1/24 dev vethA
ip -n "$B" addr add 192.0.2.2/24 dev vethB
for ns in "$A" "$B"; do
  ip -n "$ns" link set lo up
done
ip -n "$A" link set vethA up
ip -n "$B" link set vethB up
# netem: 20 ms each way, 5% loss, 10% of packets reordered (sent at once,
# ahead of the delayed ones), 50 Mbit/s, a queue of 1000 packets.
port=4433
if ip netns exec "$A" tc qdisc add dev vethA root netem delay 20ms loss 5% reorder 10% 50% \
    rate 50mbit limit 1000 2>"$work/err"; then
  ip netns exec "$B" tc qdisc add dev vethB root netem delay 20ms loss 5% reorder 10% 50% \
    rate 50mbit limit 1000 || fail "netem on one end only"
  else
  echo "tc netem unavailable ($(cat "$work/err")): impairing with impair_proxy in $B instead"
  ip netns exec "$B" "$PROXY" --listen 192.0.2.2:5000 --target 192.0.2.2:4433 --loss 0.05 \
    --delay-ms 20 --reorder 0.1 --rate-mbit 50 --limit 1000 --seed $$ 2>"$work/proxy.log" &
  port=5000
fi
ip netns exec "$A" tc qdisc show dev vethA
if command -v ping >/dev/null; then
  ip netns exec "$A" ping -c 3 -q 192.0.2.2 | tail -1 || fail "no connectivity across the veth pair"
fi

mkdir -p "$work/www" "$work/downloads"
head -c 3000000 /dev/urandom > "$work/www/big.bin"
head -c 5000 /dev/urandom > "$work/www/small.txt"

echo "--- interop-endpoint (HTTP/0.9) transfer across the impaired link"
ip netns exec "$B" env ROLE=server TESTCASE=transfer WWW="$work/www" CERTS=/nonexistent \
  "$INTEROP" --bind 192.0.2.2:4433 >"$work/server.log" 2>&1 &
spid=$!
sleep 0.5
start=$(date +%s.%N)
ip netns exec "$A" env ROLE=client TESTCASE=transfer DOWNLOADS="$work/downloads" TIMEOUT=150 \
  REQUESTS="https://192.0.2.2:$port/big.bin https://192.0.2.2:$port/small.txt" "$INTEROP" \
  >"$work/client.log" 2>&1 || { cat "$work/client.log" "$work/server.log"; fail "interop client failed"; }
end=$(date +%s.%N)
cat "$work/client.log"
cmp "$work/www/big.bin" "$work/downloads/big.bin" || fail "big.bin differs"
cmp "$work/www/small.txt" "$work/downloads/small.txt" || fail "small.txt differs"
awk -v a="$start" -v b="$end" 'BEGIN { printf "3 MB byte-exact in %.1f s\n", b - a }'
kill $spid 2>/dev/null; wait $spid 2>/dev/null

echo "--- quicperf: verified download and upload, then 20 handshakes"
ip netns exec "$B" "$QUICPERF" server --listen 192.0.2.2:4433 -q >"$work/perf-server.log" 2>&1 &
spid=$!
sleep 0.5
ip netns exec "$A" "$QUICPERF" client 192.0.2.2:$port --download 3M --upload 512K --verify \
  --timeout 150 -q || { cat "$work/perf-server.log"; fail "quicperf transfer failed"; }
ip netns exec "$A" "$QUICPERF" client 192.0.2.2:$port --handshake-only --connections 20 \
  --concurrency 5 --timeout 120 -q || fail "handshakes did not all complete"
echo "--- Retry and resumption across the impaired link"
kill $spid 2>/dev/null; wait $spid 2>/dev/null
for tc in retry resumption; do
  rm -f "$work/downloads/"*
  ip netns exec "$B" env ROLE=server TESTCASE=$tc WWW="$work/www" CERTS=/nonexistent \
    "$INTEROP" --bind 192.0.2.2:4433 >"$work/server.log" 2>&1 &
  spid=$!
  sleep 0.5
  ip netns exec "$A" env ROLE=client TESTCASE=$tc DOWNLOADS="$work/downloads" TIMEOUT=150 \
    REQUESTS="https://192.0.2.2:$port/small.txt https://192.0.2.2:$port/big.bin" "$INTEROP" \
    >"$work/client.log" 2>&1 || { cat "$work/client.log"; fail "$tc failed"; }
  cmp -s "$work/www/big.bin" "$work/downloads/big.bin" || fail "$tc: big.bin differs"
  tail -1 "$work/client.log"
  kill $spid 2>/dev/null; wait $spid 2>/dev/null
done
[ -f "$work/proxy.log" ] && { ip netns pids "$B" | xargs -r kill 2>/dev/null; sleep 0.3; cat "$work/proxy.log"; }
echo "PASS: byte-exact transfers and handshakes under 5% loss, reordering, 40 ms RTT, 50 Mbit/s"
