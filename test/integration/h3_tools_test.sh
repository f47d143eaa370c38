#!/usr/bin/env bash
# h3serve + h3get as processes, per the command-line contract
# (prompts/h3tools_cli.md): the ready line, byte-exact downloads (stdout, -o,
# -O, several URLs in order), -i/-I output, -H, POST -d @file, certificate
# verification (--cacert / -k / failing: exit 2), 404 -> 22, 405, path
# traversal and symlinks refused, listings, nothing listening -> 2, usage
# errors -> 1, memory bounded on a 256 MiB body, SIGTERM graceful with a
# download in flight.
#   h3_tools_test.sh H3GET H3SERVE WT_CERTGEN
set -uo pipefail
H3GET=$(realpath "${1:?h3get binary}")
H3SERVE=$(realpath "${2:?h3serve binary}")
CERTGEN=$(realpath "${3:?wt-certgen binary}")

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

work=$(mktemp -d /tmp/wt-h3tools-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
cd "$work" || exit 1

mkdir -p www/sub www/empty www/listed outside
head -c 3000000 /dev/urandom > www/file.bin
head -c 5000000 /dev/urandom > up.bin
echo "<h1>index</h1>" > www/index.html
echo "hello" > www/sub/a.txt
echo '{"a":1}' > www/sub/b.json
echo "x" > www/listed/one.txt
: > www/zero.bin
echo "secret" > outside/secret.txt
ln -s "$work/outside/secret.txt" www/escape.txt
ln -s "$work/outside" www/escape-dir
ln -s sub/a.txt www/inside-link.txt
"$CERTGEN" --cert cert.pem --key key.pem localhost 127.0.0.1 ::1 >/dev/null || fail "wt-certgen"
"$CERTGEN" --cert other.pem --key other-key.pem localhost 127.0.0.1 >/dev/null || fail "wt-certgen"

# start_server NAME ARGS...: sets $port and $spid
start_server() {
  local name=$1; shift
  "$H3SERVE" "$@" >"$name.out" 2>"$name.err" &
  spid=$!
  pids+=($spid)
  for _ in $(seq 100); do [ -s "$name.out" ] && break; sleep 0.05; done
  line=$(head -1 "$name.out")
  [[ "$line" =~ ^h3serve\ listening\ on\ 127\.0\.0\.1:([0-9]+)\ cert-sha256\ ([0-9a-f]{64})\ spki-sha256-b64\ ([A-Za-z0-9+/]{43}=)$ ]] \
    || { cat "$name.err"; fail "$name: ready line: '$line'"; }
  port=${BASH_REMATCH[1]}
  certhash=${BASH_REMATCH[2]}
}

# ---------------------------------------------------------------- server with our cert
start_server main --root www --listen 127.0.0.1:0 --cert cert.pem --key key.pem
main_pid=$spid
url=https://127.0.0.1:$port
want=$("$CERTGEN" --hash cert.pem --json | sed -n 's/.*"sha256_hex": "\([0-9a-f]*\)".*/\1/p')
[ "$certhash" = "$want" ] || fail "cert-sha256 $certhash, want $want"
ok "ready line"

"$H3GET" -s --cacert cert.pem "$url/file.bin" > dl.bin || fail "download to stdout"
cmp -s dl.bin www/file.bin || fail "stdout download differs"
"$H3GET" -s --cacert cert.pem -o out.bin "$url/file.bin" || fail "-o"
cmp -s out.bin www/file.bin || fail "-o download differs"
(mkdir -p o && cd o && "$H3GET" -s --cacert ../cert.pem -O "$url/sub/a.txt") || fail "-O"
cmp -s o/a.txt www/sub/a.txt || fail "-O file differs"
"$H3GET" -s --cacert cert.pem "$url/file.bin" "$url/sub/a.txt" "$url/file.bin" > multi.bin || fail "several URLs"
cat www/file.bin www/sub/a.txt www/file.bin | cmp -s - multi.bin || fail "several URLs: not in URL order"
"$H3GET" -s --cacert cert.pem -o m1 -o m2 "$url/sub/a.txt" "$url/sub/b.json" || fail "two -o"
cmp -s m1 www/sub/a.txt && cmp -s m2 www/sub/b.json || fail "two -o: wrong files"
"$H3GET" -s --cacert cert.pem --sha256 -o /dev/null "$url/file.bin" 2> sha.txt || fail "--sha256"
grep -qx "sha256 $(sha256sum < www/file.bin | cut -d' ' -f1) 3000000 $url/file.bin" sha.txt \
  || { cat sha.txt; fail "--sha256 line"; }
"$H3GET" -s --cacert cert.pem "https://localhost:$port/sub/a.txt" | cmp -s - www/sub/a.txt || fail "by name"
"$H3GET" -s --cacert cert.pem --connect-to 127.0.0.1:$port "https://localhost:1/sub/a.txt" \
  | cmp -s - www/sub/a.txt || fail "--connect-to"
echo STALE > zero.out
"$H3GET" -s --cacert cert.pem -o zero.out "$url/zero.bin" || fail "-o of an empty body"
[ -f zero.out ] && [ ! -s zero.out ] || fail "-o of an empty body: file not truncated to empty"
ok "downloads (stdout, -o, -O, several URLs, --sha256, --connect-to, empty body)"

# -i / -I
"$H3GET" -s --cacert cert.pem -i "$url/sub/a.txt" > inc.txt || fail "-i"
[ "$(head -1 inc.txt)" = "HTTP/3 200" ] || { cat inc.txt; fail "-i status line"; }
grep -qx "content-type: text/plain" inc.txt || fail "-i content-type"
grep -qx "content-length: 6" inc.txt || fail "-i content-length"
[ "$(tail -1 inc.txt)" = "hello" ] || fail "-i body"
grep -qx "" inc.txt || fail "-i blank line"
"$H3GET" -s --cacert cert.pem -I "$url/file.bin" > head.txt || fail "-I"
[ "$(head -1 head.txt)" = "HTTP/3 200" ] && grep -qx "content-length: 3000000" head.txt \
  && grep -qx "content-type: application/octet-stream" head.txt || { cat head.txt; fail "-I output"; }
[ "$(wc -c < head.txt)" -lt 300 ] || fail "-I wrote a body"
"$H3GET" -s --cacert cert.pem -I "$url/sub/b.json" | grep -qx "content-type: application/json" || fail "json type"
"$H3GET" -s --cacert cert.pem -I "$url/" | grep -qx "content-type: text/html" || fail "index.html type"
ok "-i / -I"

# -H: lower-cased and sent; 'Name:' drops a default
"$H3GET" -s -v --cacert cert.pem -H 'X-Test: Yes' -H 'user-agent:' "$url/sub/a.txt" > /dev/null 2> v.txt \
  || fail "-H"
grep -qx "> x-test: Yes" v.txt || { cat v.txt; fail "-H not sent lower-cased"; }
grep -q "> user-agent" v.txt && fail "-H 'user-agent:' did not drop it"
grep -q "^< HTTP/3 200" v.txt || fail "-v response"
grep -q "^\* connected to .*ALPN h3" v.txt || fail "-v connection"
"$H3GET" -s --cacert cert.pem -H 'bad header' "$url/" >/dev/null 2>&1; [ $? = 1 ] || fail "-H malformed: exit 1"
ok "-H"

# POST
"$H3GET" -s --cacert cert.pem -d @up.bin "$url/upload" > post.txt || fail "POST -d @file"
[ "$(cat post.txt)" = "received 5000000 bytes sha256 $(sha256sum < up.bin | cut -d' ' -f1)" ] \
  || { cat post.txt; fail "POST body"; }
"$H3GET" -s --cacert cert.pem --data-binary @up.bin "$url/x" | grep -q "^received 5000000 bytes" \
  || fail "--data-binary"
[ "$("$H3GET" -s --cacert cert.pem -d 'a=b' "$url/x")" = "received 3 bytes sha256 $(printf 'a=b' | sha256sum | cut -d' ' -f1)" ] \
  || fail "-d DATA"
"$H3GET" -s --cacert cert.pem -d @missing.bin "$url/x" >/dev/null 2>&1; [ $? = 3 ] || fail "-d @missing: exit 3"
ok "POST"

# statuses
"$H3GET" -s --cacert cert.pem "$url/nope.txt" > nf.txt 2>/dev/null; rc=$?
[ $rc = 22 ] || fail "404: exit $rc, want 22"
[ "$(cat nf.txt)" = "404 Not Found" ] || fail "404 body not written"
"$H3GET" -s --cacert cert.pem -X DELETE "$url/sub/a.txt" >/dev/null 2>&1; rc=$?
[ $rc = 22 ] || fail "DELETE: exit $rc, want 22 (405)"
"$H3GET" -s --cacert cert.pem -i -X PUT "$url/sub/a.txt" > put.txt 2>/dev/null
[ "$(head -1 put.txt)" = "HTTP/3 405" ] && grep -qx "allow: GET, HEAD, POST" put.txt || fail "405"
"$H3GET" -s --cacert cert.pem -o ok.txt -o nf2.txt "$url/sub/a.txt" "$url/none" 2>/dev/null; rc=$?
[ $rc = 22 ] && cmp -s ok.txt www/sub/a.txt || fail "one 404 among two: exit $rc"
ok "404 -> 22, 405"

# traversal and symlinks
for p in "/../outside/secret.txt" "/%2e%2e/outside/secret.txt" "/sub/..%2f..%2foutside/secret.txt" \
         "/escape.txt" "/escape-dir/secret.txt" "/sub/%2e%2e/%2e%2e/outside/secret.txt"; do
  "$H3GET" -s --cacert cert.pem "$url$p" > trav.txt 2>/dev/null; rc=$?
  [ $rc = 22 ] || fail "traversal $p: exit $rc, want 22"
  grep -q secret trav.txt && fail "traversal $p leaked the file"
done
"$H3GET" -s --cacert cert.pem "$url/inside-link.txt" | cmp -s - www/sub/a.txt || fail "symlink inside the root"
"$H3GET" -s --cacert cert.pem "$url/empty/" >/dev/null 2>&1; [ $? = 22 ] || fail "directory without listing: 404"
ok "traversal refused"

# verification
"$H3GET" -s "$url/sub/a.txt" >/dev/null 2> verr.txt; rc=$?
[ $rc = 2 ] || fail "system store vs self-signed: exit $rc, want 2"
grep -q "^h3get: error: .*certificate" verr.txt || { cat verr.txt; fail "verification message"; }
"$H3GET" -s --cacert other.pem "$url/sub/a.txt" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "wrong CA: exit $rc, want 2"
"$H3GET" -s --cacert cert.pem --connect-to 127.0.0.1:$port "https://example.com/sub/a.txt" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || fail "name mismatch: exit $rc, want 2"
"$H3GET" -s -k "$url/sub/a.txt" | cmp -s - www/sub/a.txt || fail "-k"
ok "certificate verification"

# memory stays bounded on a large body (streamed, never held)
truncate -s 256M www/large.bin
rss=$(python3 - "$H3GET" "$url/large.bin" <<'EOF'
import resource, subprocess, sys
r = subprocess.run([sys.argv[1], "-s", "--cacert", "cert.pem", "-o", "large.out", sys.argv[2]])
print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
EOF
)
[ "${rss%% *}" = 0 ] || fail "256 MiB download: exit ${rss%% *}"
cmp -s large.out www/large.bin || fail "256 MiB download differs"
[ "${rss##* }" -lt 65536 ] || fail "h3get peak RSS ${rss##* } KiB for a 256 MiB body"
rm -f large.out
ok "256 MiB body, h3get peak RSS ${rss##* } KiB"

# ---------------------------------------------------------------- generated cert, listing
start_server gen --root www --listen 127.0.0.1:0 --listing --quiet
gurl=https://127.0.0.1:$port
"$H3GET" -s -k "$gurl/sub/a.txt" | cmp -s - www/sub/a.txt || fail "-k against the generated cert"
"$H3GET" -s "$gurl/sub/a.txt" >/dev/null 2>&1; [ $? = 2 ] || fail "generated cert without -k must fail"
"$H3GET" -s -k "$gurl/listed/" > list.html || fail "listing"
grep -q 'href="/listed/one.txt"' list.html || { cat list.html; fail "listing content"; }
"$H3GET" -s -k -I "$gurl/listed/" | grep -qx "content-type: text/html" || fail "listing type"
[ -s gen.err ] && fail "--quiet printed: $(cat gen.err)"
kill -INT "$spid"; wait "$spid"; rc=$?
[ $rc = 0 ] || fail "SIGINT on an idle server: exit $rc"
ok "generated certificate, --listing, --quiet, SIGINT"

# ---------------------------------------------------------------- errors without a server
"$H3GET" -s -k --timeout 2 "https://127.0.0.1:$port/" > /dev/null 2> dead.txt; rc=$?
[ $rc = 2 ] || fail "nothing listening: exit $rc, want 2"
grep -q "^h3get: error: no response from 127.0.0.1:$port" dead.txt || { cat dead.txt; fail "nothing listening: message"; }
"$H3GET" >/dev/null 2>&1; [ $? = 1 ] || fail "no URL: exit 1"
"$H3GET" http://127.0.0.1/ >/dev/null 2>&1; [ $? = 1 ] || fail "http:// URL: exit 1"
"$H3GET" --bogus https://127.0.0.1/ >/dev/null 2>&1; [ $? = 1 ] || fail "unknown option: exit 1"
"$H3SERVE" >/dev/null 2>&1; [ $? = 1 ] || fail "h3serve without --root: exit 1"
"$H3GET" -s -k -o /nonexistent/dir/x "$url/sub/a.txt" 2>/dev/null; [ $? = 3 ] || fail "unwritable -o: exit 3"
ok "exit codes 1, 2, 3"

# ---------------------------------------------------------------- graceful shutdown
head -c 64000000 /dev/urandom > www/big.bin
"$H3GET" -s --cacert cert.pem -o big.out "$url/big.bin" 2> big.err &
gpid=$!
for _ in $(seq 200); do [ -s big.out ] && break; sleep 0.01; done
kill -TERM "$main_pid"
wait "$gpid"; rc=$?
[ $rc = 0 ] || { cat big.err; fail "download during shutdown: exit $rc"; }
cmp -s big.out www/big.bin || fail "download during shutdown differs"
wait "$main_pid"; rc=$?
[ $rc = 0 ] || fail "h3serve after SIGTERM: exit $rc"
grep -q "shutting down" main.err || fail "no shutdown message"
grep -q '"GET /big.bin" 200 64000000' main.err || { tail main.err; fail "access log of the last response"; }
ok "SIGTERM: GOAWAY, the response in flight finished, exit 0"

echo "PASS"
