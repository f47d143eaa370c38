#!/usr/bin/env bash
# Wireshark's QUIC dissector (Debian's tshark 4.0), given our key log,
# decodes a loopback capture of our handshake and transfer: no malformed
# packets, no expert errors, and TLS handshake messages and STREAM frames
# decrypted.
#   tshark_test.sh QUICPERF INTEROP_ENDPOINT
# Exit 77 (skipped) only when tshark is missing and cannot be installed
# because we are not root.
set -uo pipefail
QUICPERF=${1:?quicperf binary}
INTEROP=${2:?interop-endpoint binary}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

if ! command -v tshark >/dev/null; then
  [ "$(id -u)" = 0 ] || skip "tshark is not installed and we are not root to install it (apt-get install tshark)"
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get install -y -qq tshark >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq tshark >/dev/null; } \
    || fail "cannot install tshark"
fi
[ "$(id -u)" = 0 ] || skip "capturing on lo needs root"

work=$(mktemp -d /tmp/wt-tshark-XXXXXX); echo "work dir $work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

port=$((30000 + RANDOM % 20000))
keylog=$work/keys.log
mkdir -p "$work/www" "$work/downloads"
head -c 300000 /dev/urandom > "$work/www/file.bin"

tshark -i lo -f "udp port $port" -w "$work/cap.pcapng" -q 2>"$work/tshark-capture.log" &
pids+=($!)
for _ in $(seq 50); do grep -q "Capturing on" "$work/tshark-capture.log" && break; sleep 0.1; done
grep -q "Capturing on" "$work/tshark-capture.log" || { cat "$work/tshark-capture.log"; fail "tshark did not start capturing"; }

# HTTP/0.9 transfer (interop-endpoint), then a perf download (quicperf).
SSLKEYLOGFILE=$keylog ROLE=server TESTCASE=transfer WWW=$work/www CERTS=/nonexistent \
  "$INTEROP" --bind 127.0.0.1:$port --no-gso >"$work/server.log" 2>&1 &
spid=$!
pids+=($spid)
sleep 0.3
SSLKEYLOGFILE=$keylog ROLE=client TESTCASE=transfer DOWNLOADS=$work/downloads TIMEOUT=20 \
  REQUESTS="https://127.0.0.1:$port/file.bin" "$INTEROP" --no-gso >"$work/client.log" 2>&1 \
  || { cat "$work/client.log" "$work/server.log"; fail "interop client failed"; }
cmp -s "$work/www/file.bin" "$work/downloads/file.bin" || fail "downloaded file differs"
kill "$spid"; wait "$spid" 2>/dev/null

SSLKEYLOGFILE=$keylog "$QUICPERF" server --listen 127.0.0.1:$port --exit-after 1 --no-gso -q \
  >"$work/perf-server.log" 2>&1 &
ppid=$!
pids+=($ppid)
sleep 0.3
SSLKEYLOGFILE=$keylog "$QUICPERF" client 127.0.0.1:$port --download 2M --verify --no-gso -q \
  >"$work/perf-client.log" 2>&1 || { cat "$work/perf-client.log"; fail "quicperf client failed"; }
wait "$ppid" 2>/dev/null
sleep 0.5
kill -INT "${pids[0]}"; wait "${pids[0]}" 2>/dev/null

r() { tshark -r "$work/cap.pcapng" -o "tls.keylog_file:$keylog" "$@" 2>/dev/null; }
packets=$(r -T fields -e frame.number | wc -l)
echo "captured $packets packets"
[ "$packets" -gt 200 ] || fail "too few packets captured ($packets)"

expert=$(r -q -z expert)
echo "$expert" | sed -n '1,40p'
if echo "$expert" | grep -q "^Errors"; then fail "tshark reports expert errors"; fi
malformed=$(r -Y "_ws.malformed || _ws.expert.severity == error" -T fields -e frame.number | wc -l)
[ "$malformed" = 0 ] || fail "$malformed malformed packets"

# Decryption worked: handshake messages and 1-RTT frames are visible.
for msg in 1 2 8 11 15 20; do  # ClientHello ServerHello EncryptedExtensions Certificate CertificateVerify Finished
  n=$(r -Y "tls.handshake.type == $msg" -T fields -e frame.number | wc -l)
  [ "$n" -ge 2 ] || fail "TLS handshake message type $msg decoded in $n packets (want both connections)"
done
stream=$(r -Y "quic.frame_type >= 0x08 && quic.frame_type <= 0x0f" -T fields -e frame.number | wc -l)
acks=$(r -Y "quic.frame_type == 0x02 || quic.frame_type == 0x03" -T fields -e frame.number | wc -l)
done_frames=$(r -Y "quic.frame_type == 0x1e" -T fields -e frame.number | wc -l)
echo "decoded: $stream packets with STREAM frames, $acks with ACK, $done_frames HANDSHAKE_DONE"
[ "$stream" -gt 100 ] || fail "STREAM frames not decoded ($stream)"
[ "$acks" -gt 10 ] || fail "ACK frames not decoded ($acks)"
[ "$done_frames" -ge 2 ] || fail "HANDSHAKE_DONE not decoded"
echo "PASS: tshark decodes our QUIC without errors"
