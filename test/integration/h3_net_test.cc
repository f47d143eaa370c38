// HTTP/3 on real loopback sockets: net::H3Client against net::H3Server on
// one event loop. Byte-exact bodies (SHA-256) in both directions, statuses,
// many requests on one connection (beyond the server's stream limit),
// backpressure through pause_body, graceful server shutdown with a response
// in flight, and the failures a user must be able to tell apart: nothing
// listening, TLS verification, request timeout, stream reset.
#include <catch2/catch.hpp>

#include <openssl/sha.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/certgen.h"
#include "lib/hex.h"
#include "lib/io/clock.h"
#include "lib/io/udp_socket.h"
#include "net/h3_client.h"
#include "net/h3_server.h"
#include "quic/tls_config.h"
#include "test/integration/net_test_support.h"

using namespace wt;
using namespace wt::net;
using namespace wt::net::test;
using namespace std::chrono_literals;
using K = H3Failure::Kind;

namespace {

// Deterministic body bytes: a function of the offset, so any chunking of
// the stream reproduces them.
void fill_body(uint64_t offset, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t x = offset + i;
    out[i] = static_cast<uint8_t>((x * 2654435761u) >> 13 ^ x >> 8);
  }
}

struct Sha {
  SHA256_CTX ctx;
  Sha() { SHA256_Init(&ctx); }
  void update(Bytes b) { SHA256_Update(&ctx, b.data(), b.size()); }
  std::string hex() {
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, &ctx);
    return to_hex(Bytes{md, sizeof md});
  }
};

std::string body_sha(uint64_t size) {
  Sha sha;
  std::vector<uint8_t> buf(64 * 1024);
  for (uint64_t off = 0; off < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - off));
    fill_body(off, buf.data(), n);
    sha.update(Bytes{buf.data(), n});
    off += n;
  }
  return sha.hex();
}

Bytes as_bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// ---------------------------------------------------------------- server side

// Streams `size` pattern bytes, reading ahead no more than QUIC takes.
class PatternResponder : public H3RequestHandler {
 public:
  explicit PatternResponder(uint64_t size) : size_(size) {}
  void pump(H3ServerExchange& x) {
    while (sent_ < size_) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf_.size(), size_ - sent_));
      fill_body(sent_, buf_.data(), n);
      auto w = x.write(Bytes{buf_.data(), n}, sent_ + n == size_);
      REQUIRE(w.ok());
      sent_ += *w;
      if (*w < n) {
        ++short_writes;
        return;
      }
    }
  }
  void on_writable(H3ServerExchange& x) override { pump(x); }
  size_t short_writes = 0;

 private:
  uint64_t size_, sent_ = 0;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(32 * 1024);
};

class UploadResponder : public H3RequestHandler {
 public:
  void on_body(H3ServerExchange&, Bytes chunk) override {
    sha_.update(chunk);
    n_ += chunk.size();
  }
  void on_request_end(H3ServerExchange& x) override {
    std::string body = "received " + std::to_string(n_) + " bytes sha256 " + sha_.hex() + "\n";
    REQUIRE(x.respond(200, {{"content-length", std::to_string(body.size())}}).ok());
    auto w = x.write(as_bytes(body), true);
    REQUIRE(w.ok());
    REQUIRE(*w == body.size());
  }

 private:
  Sha sha_;
  uint64_t n_ = 0;
};

class Silent : public H3RequestHandler {};  // never answers

void respond_text(H3ServerExchange& x, int status, const std::string& body, h3::HeaderList extra = {}) {
  extra.push_back({"content-length", std::to_string(body.size())});
  REQUIRE(x.respond(status, extra, body.empty()).ok());
  if (!body.empty()) REQUIRE(x.write(as_bytes(body), true).ok());
}

constexpr uint64_t kBig = 20u << 20;

std::unique_ptr<H3RequestHandler> route(H3ServerExchange& x) {
  const auto& r = x.request();
  if (r.method == "POST" && r.path == "/upload") return std::make_unique<UploadResponder>();
  if (r.method != "GET" && r.method != "HEAD") {
    respond_text(x, 405, "405 Method Not Allowed\n", {{"allow", "GET, HEAD"}});
    return nullptr;
  }
  if (r.path == "/small") {
    respond_text(x, 200, "hello world\n", {{"content-type", "text/plain"}});
    return nullptr;
  }
  if (r.path.rfind("/bytes/", 0) == 0) {
    uint64_t n = std::stoull(r.path.substr(7));
    REQUIRE(x.respond(200, {{"content-length", std::to_string(n)}}, n == 0 || r.is_head()).ok());
    if (n == 0 || r.is_head()) return nullptr;
    auto h = std::make_unique<PatternResponder>(n);
    h->pump(x);
    return h;
  }
  if (r.path == "/silent") return std::make_unique<Silent>();
  if (r.path == "/reset") {
    x.reset(h3::code(h3::H3Error::request_cancelled));
    return nullptr;
  }
  respond_text(x, 404, "404 Not Found\n");
  return nullptr;
}

// ---------------------------------------------------------------- client side

struct Collector : H3ResponseHandler {
  int status = 0;
  h3::HeaderList fields;
  std::optional<uint64_t> content_length;
  std::string text;  // small bodies
  Sha sha;
  uint64_t bytes = 0;
  bool complete = false, failed = false;
  H3Failure failure;
  size_t keep_text = 4096;

  bool done() const { return complete || failed; }
  void on_response(H3ClientStream& s, int st, const h3::HeaderList& f) override {
    status = st;
    fields = f;
    content_length = s.content_length();
  }
  void on_body(H3ClientStream&, Bytes chunk) override {
    sha.update(chunk);
    bytes += chunk.size();
    if (text.size() < keep_text) text.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  }
  void on_complete(H3ClientStream&) override { complete = true; }
  void on_error(H3ClientStream&, const H3Failure& f) override {
    failed = true;
    failure = f;
  }
};

// Uploads `size` pattern bytes from on_writable.
struct Uploader : Collector {
  uint64_t size = 0, sent = 0;
  std::vector<uint8_t> buf = std::vector<uint8_t>(48 * 1024);
  size_t short_writes = 0;
  bool write_failed = false;
  void on_writable(H3ClientStream& s) override {
    while (sent < size) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - sent));
      fill_body(sent, buf.data(), n);
      auto w = s.write(Bytes{buf.data(), n});
      if (!w.ok()) {  // the server stopped reading (STOP_SENDING)
        write_failed = true;
        return;
      }
      sent += *w;
      if (*w < n) {
        ++short_writes;
        return;
      }
    }
    REQUIRE(s.finish().ok());
  }
};

// ---------------------------------------------------------------- fixture

struct Fixture {
  H3Tls tls;
  std::unique_ptr<io::Loop> loop = make_loop(io::BackendKind::automatic);
  std::unique_ptr<H3Server> server;
  H3ServerOptions sopts;

  explicit Fixture(H3RequestFactory factory = route) {
    sopts.endpoint.conn.tls = tls.server;
    sopts.driver.bind = loopback();
    sopts.on_request = std::move(factory);
  }
  void start_server() {
    auto s = H3Server::create(*loop, sopts);
    REQUIRE(s.ok());
    server = std::move(*s);
  }
  H3ClientOptions client_options() {
    H3ClientOptions o;
    o.conn.tls = tls.client;
    o.conn.server_name = "localhost";
    return o;
  }
  std::unique_ptr<H3Client> connect(H3ClientOptions o) {
    if (!server) start_server();
    auto c = H3Client::connect(*loop, server->local_address(), std::move(o));
    REQUIRE(c.ok());
    return std::move(*c);
  }
  std::unique_ptr<H3Client> connect() { return connect(client_options()); }
  bool run(const std::function<bool()>& pred, Duration limit = 20s) { return run_until(*loop, pred, limit); }
};

H3Request get(std::string path) {
  H3Request r;
  r.path = std::move(path);
  return r;
}

}  // namespace

TEST_CASE("h3net: GET small and 20 MB byte-exact", "[h3net]") {
  Fixture f;
  auto client = f.connect();
  CHECK(client->authority() == "localhost:" + std::to_string(f.server->local_address().port));
  Collector small, big;
  REQUIRE(client->request(get("/small"), small).ok());
  REQUIRE(client->request(get("/bytes/" + std::to_string(kBig)), big).ok());
  REQUIRE(f.run([&] { return small.done() && big.done(); }, 60s));
  INFO(small.failure.message << " / " << big.failure.message);
  REQUIRE(small.complete);
  CHECK(small.status == 200);
  CHECK(small.text == "hello world\n");
  CHECK(h3::find_field(small.fields, "content-type") == "text/plain");
  REQUIRE(big.complete);
  CHECK(big.status == 200);
  CHECK(big.content_length == kBig);
  CHECK(big.bytes == kBig);
  CHECK(big.sha.hex() == body_sha(kBig));
  CHECK(client->connected());
  CHECK(client->peer_settings() != nullptr);
  CHECK(client->stats().completed == 2);
  CHECK(f.server->stats().connections == 1);
  REQUIRE(f.run([&] { return f.server->active_requests() == 0; }));
  CHECK(f.server->stats().completed == 2);
  CHECK(f.server->stats().body_bytes_sent == kBig + 12);

  // Graceful close from the client: no failure on either side.
  client->close();
  REQUIRE(f.run([&] { return client->gone() && f.server->connection_count() == 0; }));
  CHECK(client->failure().ok());
}

TEST_CASE("h3net: POST upload of 5 MB arrives byte-exact", "[h3net]") {
  Fixture f;
  auto client = f.connect();
  constexpr uint64_t kUp = 5u << 20;
  Uploader up;
  up.size = kUp;
  H3Request r;
  r.method = "POST";
  r.path = "/upload";
  r.headers = {{"content-length", std::to_string(kUp)}, {"content-type", "application/octet-stream"}};
  r.has_body = true;
  auto s = client->request(r, up);
  REQUIRE(s.ok());
  CHECK_FALSE((*s)->sent());  // queued until the handshake is done
  REQUIRE(f.run([&] { return up.done(); }, 60s));
  INFO(up.failure.message);
  REQUIRE(up.complete);
  CHECK(up.status == 200);
  CHECK(up.sent == kUp);
  CHECK(up.short_writes > 0);  // the body really met backpressure
  CHECK_FALSE(up.write_failed);
  CHECK(up.text == "received " + std::to_string(kUp) + " bytes sha256 " + body_sha(kUp) + "\n");
  CHECK(client->stats().body_bytes_sent == kUp);
  CHECK(f.server->stats().body_bytes_received == kUp);
}

TEST_CASE("h3net: 404, 405 and a request body the server does not read", "[h3net]") {
  Fixture f;
  auto client = f.connect();
  Collector missing, put, head;
  REQUIRE(client->request(get("/nope"), missing).ok());
  H3Request p;
  p.method = "PUT";
  p.path = "/small";
  p.has_body = true;
  Uploader body;  // a large body: the server answers 405 and stops reading
  body.size = 16u << 20;
  REQUIRE(client->request(p, body).ok());
  H3Request h = get("/bytes/1000");
  h.method = "HEAD";
  REQUIRE(client->request(h, head).ok());
  REQUIRE(f.run([&] { return missing.done() && body.done() && head.done(); }));
  INFO(missing.failure.message << " / " << body.failure.message << " / " << head.failure.message);
  CHECK(missing.complete);
  CHECK(missing.status == 404);
  CHECK(missing.text == "404 Not Found\n");
  CHECK(body.complete);  // RFC 9114 §4.1: STOP_SENDING(H3_NO_ERROR) is no failure
  CHECK(body.status == 405);
  CHECK(h3::find_field(body.fields, "allow") == "GET, HEAD");
  CHECK(body.sent < body.size);
  CHECK(head.complete);
  CHECK(head.status == 200);
  CHECK(head.bytes == 0);
  CHECK(!head.content_length);  // HEAD: the field describes a body that is not there
}

TEST_CASE("h3net: 300 concurrent requests on one connection", "[h3net]") {
  Fixture f;
  f.sopts.endpoint.conn.max_streams_bidi = 50;  // most requests wait for MAX_STREAMS
  auto client = f.connect();
  constexpr int kN = 300;
  std::vector<Collector> c(kN);
  for (int i = 0; i < kN; ++i) {
    uint64_t size = i % 10 == 0 ? 100'000 + static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
    REQUIRE(client->request(get("/bytes/" + std::to_string(size)), c[static_cast<size_t>(i)]).ok());
  }
  CHECK(client->outstanding() == kN);
  REQUIRE(f.run([&] { return std::all_of(c.begin(), c.end(), [](const Collector& x) { return x.done(); }); }, 60s));
  for (int i = 0; i < kN; ++i) {
    const Collector& x = c[static_cast<size_t>(i)];
    uint64_t size = i % 10 == 0 ? 100'000 + static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
    INFO("request " << i << ": " << x.failure.message);
    REQUIRE(x.complete);
    CHECK(x.status == 200);
    CHECK(x.bytes == size);
  }
  CHECK(f.server->stats().connections == 1);
  CHECK(f.server->stats().requests == kN);
  CHECK(client->outstanding() == 0);
  // Spot-check content.
  CHECK(c[10].sha.hex() == body_sha(100'010));
}

TEST_CASE("h3net: a paused body resumes and stays byte-exact", "[h3net]") {
  Fixture f;
  auto client = f.connect();
  struct Pauser : Collector {
    H3ClientStream* s = nullptr;
    bool paused_once = false;
    void on_body(H3ClientStream& st, Bytes chunk) override {
      Collector::on_body(st, chunk);
      if (!paused_once && bytes > (1u << 20)) {
        paused_once = true;
        st.pause_body();
      }
    }
  } p;
  constexpr uint64_t kSize = 12u << 20;
  auto s = client->request(get("/bytes/" + std::to_string(kSize)), p);
  REQUIRE(s.ok());
  REQUIRE(f.run([&] { return p.paused_once; }));
  // Paused: flow control stops the server well short of the whole body.
  Time until = io::monotonic_now() + 300ms;
  f.run([&] { return io::monotonic_now() >= until; }, 1s);
  CHECK_FALSE(p.done());
  CHECK(p.bytes < kSize);
  (*s)->resume_body();
  REQUIRE(f.run([&] { return p.done(); }, 60s));
  INFO(p.failure.message);
  REQUIRE(p.complete);
  CHECK(p.bytes == kSize);
  CHECK(p.sha.hex() == body_sha(kSize));
}

TEST_CASE("h3net: server graceful shutdown finishes the response in flight", "[h3net]") {
  Fixture f;
  H3Failure closed_with;
  bool closed = false;
  auto o = f.client_options();
  o.on_closed = [&](const H3Failure& why) {
    closed = true;
    closed_with = why;
  };
  bool goaway = false;
  o.on_goaway = [&](uint64_t) { goaway = true; };
  auto client = f.connect(std::move(o));
  Collector big;
  REQUIRE(client->request(get("/bytes/" + std::to_string(kBig)), big).ok());
  REQUIRE(f.run([&] { return big.bytes > (1u << 20); }));
  REQUIRE_FALSE(big.done());
  bool shutdown_done = false;
  f.server->shutdown([&] { shutdown_done = true; });
  CHECK(f.server->shutting_down());
  REQUIRE(f.run([&] { return goaway; }));
  // After GOAWAY the client refuses new requests on this connection.
  Collector late;
  auto r = client->request(get("/small"), late);
  CHECK_FALSE(r.ok());
  REQUIRE(f.run([&] { return big.done() && shutdown_done && closed; }, 60s));
  INFO(big.failure.message << " / " << closed_with.message);
  CHECK(big.complete);
  CHECK(big.bytes == kBig);
  CHECK(big.sha.hex() == body_sha(kBig));
  CHECK(closed_with.ok());  // H3_NO_ERROR with nothing unfinished
  CHECK(f.server->connection_count() == 0);
  CHECK(f.server->stats().aborted == 0);

  // A new connection after shutdown is refused.
  Collector refused;
  auto c2 = f.connect();
  REQUIRE(c2->request(get("/small"), refused).ok());
  REQUIRE(f.run([&] { return refused.done(); }));
  CHECK(refused.failed);
}

TEST_CASE("h3net: a clear error when nothing listens", "[h3net]") {
  Fixture f;
  // A bound socket that never answers: the port stays ours, nothing replies.
  auto quiet = io::UdpSocket::bind(loopback());
  REQUIRE(quiet.ok());
  auto o = f.client_options();
  o.connect_timeout = 500ms;
  H3Failure closed_with;
  o.on_closed = [&](const H3Failure& why) { closed_with = why; };
  auto c = H3Client::connect(*f.loop, quiet->local_address(), o);
  REQUIRE(c.ok());
  Collector x;
  REQUIRE((*c)->request(get("/small"), x).ok());
  REQUIRE(f.run([&] { return x.done(); }, 5s));
  CHECK(x.failed);
  CHECK(x.failure.kind == K::timeout);
  CHECK_THAT(x.failure.message, Catch::Contains("no response from 127.0.0.1:" +
                                                std::to_string(quiet->local_address().port)));
  CHECK_FALSE(closed_with.ok());
  CHECK((*c)->closed());
  CHECK_FALSE((*c)->connected());
  // Closed clients refuse requests at once.
  Collector y;
  CHECK_FALSE((*c)->request(get("/small"), y).ok());
}

TEST_CASE("h3net: TLS verification failure names the certificate problem", "[h3net]") {
  Fixture f;
  auto o = f.client_options();
  H3Tls other;  // a different self-signed certificate as the only trust anchor
  o.conn.tls = H3Tls::client_tls(other.cert.cert_pem);
  auto client = f.connect(o);
  Collector x;
  REQUIRE(client->request(get("/small"), x).ok());
  REQUIRE(f.run([&] { return x.done(); }));
  CHECK(x.failed);
  CHECK(x.failure.kind == K::tls);
  CHECK_THAT(x.failure.message, Catch::Contains("certificate"));

  // And a name the certificate does not carry.
  auto o2 = f.client_options();
  o2.conn.server_name = "example.com";
  auto c2 = f.connect(o2);
  Collector y;
  REQUIRE(c2->request(get("/small"), y).ok());
  REQUIRE(f.run([&] { return y.done(); }));
  CHECK(y.failure.kind == K::tls);
}

TEST_CASE("h3net: request timeout and a server reset", "[h3net]") {
  Fixture f;
  auto o = f.client_options();
  o.request_timeout = 300ms;
  auto client = f.connect(o);
  Collector silent, reset, ok;
  REQUIRE(client->request(get("/silent"), silent).ok());
  REQUIRE(client->request(get("/reset"), reset).ok());
  REQUIRE(client->request(get("/small"), ok).ok());
  REQUIRE(f.run([&] { return silent.done() && reset.done() && ok.done(); }, 5s));
  CHECK(ok.complete);
  CHECK(silent.failed);
  CHECK(silent.failure.kind == K::timeout);
  CHECK(reset.failed);
  CHECK(reset.failure.kind == K::reset);
  CHECK(reset.failure.code == h3::code(h3::H3Error::request_cancelled));
  CHECK_THAT(reset.failure.message, Catch::Contains("H3_REQUEST_CANCELLED"));
  // The server side saw the client's cancellation of /silent.
  REQUIRE(f.run([&] { return f.server->active_requests() == 0; }));
  CHECK(f.server->stats().aborted >= 1);
  CHECK_FALSE(client->closed());
}

TEST_CASE("h3net: the error descriptions", "[h3net]") {
  CHECK(describe_error_code(0x10b, true) == "H3_REQUEST_REJECTED (0x10b)");
  CHECK(describe_error_code(0x0a, false) == "PROTOCOL_VIOLATION (0xa)");
  CHECK_THAT(describe_error_code(0x12a, false), Catch::Contains("TLS alert 42"));
  quic::CloseInfo idle;
  idle.idle_timeout = true;
  CHECK(failure_from_close(idle, false, loopback(443)).kind == K::timeout);
  quic::CloseInfo graceful;
  graceful.application = true;
  graceful.error_code = 0x100;
  graceful.by_peer = true;
  auto g = failure_from_close(graceful, true, loopback(443));
  CHECK(g.kind == K::closed);
  CHECK_THAT(g.message, Catch::Contains("H3_NO_ERROR"));
  CHECK(make_authority("::1", 4433) == "[::1]:4433");
  CHECK(make_authority("example.com", 443) == "example.com");
}
