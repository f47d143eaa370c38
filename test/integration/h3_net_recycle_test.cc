// net/H3Client and H3Server reuse their per-request objects (client streams,
// server exchanges) and keep them in a StreamTable by stream ID. A reused
// object must start exactly like a new one: no header, trailer, status, body
// counter, pause state, user_data or handler of the previous request may
// show through. The tests force reuse (one request at a time on one
// connection, and check the object's address is the previous one's).
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "h3/message.h"
#include "lib/certgen.h"
#include "lib/io/clock.h"
#include "net/h3_client.h"
#include "net/h3_server.h"
#include "net/h3_stream_table.h"
#include "quic/tls_config.h"
#include "test/integration/net_test_support.h"

using namespace wt;
using namespace wt::net;
using namespace wt::net::test;
using namespace std::chrono_literals;

namespace {

bool has_field(const h3::HeaderList& fields, std::string_view name) {
  return h3::find_field(fields, name).has_value();
}

// A server and a client on one loop, TLS with a fresh self-signed certificate.
struct Pair {
  H3Tls tls;
  std::unique_ptr<io::Loop> loop = make_loop(io::BackendKind::automatic);
  std::unique_ptr<H3Server> server;
  std::unique_ptr<H3Client> client;

  explicit Pair(H3RequestFactory factory) {
    H3ServerOptions so;
    so.endpoint.conn.tls = tls.server;
    so.driver.bind = loopback();
    so.on_request = std::move(factory);
    auto srv = H3Server::create(*loop, std::move(so));
    REQUIRE(srv.ok());
    server = std::move(*srv);
    H3ClientOptions o;
    o.conn.tls = tls.client;
    o.conn.server_name = "localhost";
    auto cl = H3Client::connect(*loop, server->local_address(), std::move(o));
    REQUIRE(cl.ok());
    client = std::move(*cl);
  }
  bool run(const std::function<bool()>& pred, Duration limit = 20s) { return run_until(*loop, pred, limit); }
  // A few loop rounds: ended objects are recycled by on_tick.
  void settle() {
    const Time until = io::monotonic_now() + 20ms;
    run([&] { return io::monotonic_now() >= until; }, 1s);
  }
};

struct Recorder : H3ResponseHandler {
  int status = 0;
  h3::HeaderList fields, trailers;
  std::string body;
  bool complete = false, failed = false;
  std::string error;
  bool done() const { return complete || failed; }
  void on_response(H3ClientStream&, int st, const h3::HeaderList& f) override {
    status = st;
    fields = f;
  }
  void on_body(H3ClientStream&, Bytes chunk) override { body.append(reinterpret_cast<const char*>(chunk.data()), chunk.size()); }
  void on_trailers(H3ClientStream&, const h3::HeaderList& t) override { trailers = t; }
  void on_complete(H3ClientStream&) override { complete = true; }
  void on_error(H3ClientStream&, const H3Failure& f) override {
    failed = true;
    error = f.message;
  }
};

// What a new stream looks like before its response.
void check_fresh(const H3ClientStream& s) {
  CHECK(s.status() == 0);
  CHECK_FALSE(s.response_started());
  CHECK(s.response_fields().empty());
  CHECK(s.trailers().empty());
  CHECK_FALSE(s.content_length());
  CHECK(s.body_bytes() == 0);
  CHECK_FALSE(s.paused());
  CHECK(s.user_data == nullptr);
}

// /first: a header, a body and trailers. /seen: 200 saying how many regular
// request fields arrived (x-count). /bytes/N: N bytes 'b'.
std::unique_ptr<H3RequestHandler> serve(H3ServerExchange& x) {
  const auto& r = x.request();
  if (r.path == "/first") {
    REQUIRE(x.respond(200, {{"x-first", "1"}, {"content-length", "3"}}).ok());
    REQUIRE(x.write(as_bytes("abc")).ok());
    REQUIRE(x.send_trailers({{"x-trailer", "t"}}).ok());
    return nullptr;
  }
  if (r.path == "/seen") {
    const auto regular = x.request_fields().size() - 4;  // :method :scheme :authority :path
    REQUIRE(x.respond(200, {{"x-count", std::to_string(regular)}, {"content-length", "2"}}, r.is_head()).ok());
    if (!r.is_head()) REQUIRE(x.write(as_bytes("ok"), true).ok());
    return nullptr;
  }
  if (r.path.rfind("/bytes/", 0) == 0) {
    // Written as far as flow control allows; the rest follows on_writable.
    struct Writer : H3RequestHandler {
      std::string body;
      size_t sent = 0;
      void pump(H3ServerExchange& x) {
        auto w = x.write(as_bytes(body).subspan(sent), true);
        if (w.ok()) sent += *w;
      }
      void on_writable(H3ServerExchange& x) override { pump(x); }
    };
    auto w = std::make_unique<Writer>();
    w->body.assign(std::stoul(r.path.substr(7)), 'b');
    REQUIRE(x.respond(200, {{"content-length", std::to_string(w->body.size())}}).ok());
    w->pump(x);
    return w;
  }
  REQUIRE(x.respond(404, {}, true).ok());
  return nullptr;
}

}  // namespace

TEST_CASE("h3net: a recycled client stream carries nothing over", "[h3net]") {
  Pair p(serve);
  // A: a request header, a response header, body and trailers, user_data.
  H3Request a;
  a.path = "/first";
  a.headers = {{"x-req-a", "1"}};
  Recorder ra;
  auto sa = p.client->request(a, ra);
  REQUIRE(sa.ok());
  check_fresh(**sa);
  (*sa)->user_data = &ra;
  CHECK((*sa)->request().authority == p.client->authority());  // filled in
  CHECK((*sa)->request().headers.size() == 1);
  REQUIRE(p.run([&] { return ra.done(); }));
  INFO(ra.error);
  REQUIRE(ra.complete);
  CHECK(ra.status == 200);
  CHECK(has_field(ra.fields, "x-first"));
  CHECK(ra.body == "abc");
  CHECK(h3::find_field(ra.trailers, "x-trailer") == "t");
  p.settle();

  // B reuses A's object: HEAD, no request fields.
  H3Request b;
  b.method = "HEAD";
  b.path = "/seen";
  Recorder rb;
  auto sb = p.client->request(b, rb);
  REQUIRE(sb.ok());
  REQUIRE(*sb == *sa);  // really the recycled object
  check_fresh(**sb);
  CHECK((*sb)->request().method == "HEAD");
  CHECK((*sb)->request().path == "/seen");
  CHECK((*sb)->request().headers.empty());
  CHECK_FALSE((*sb)->request().has_body);
  struct Probe : Recorder {
    bool clean_at_response = false;
    std::optional<uint64_t> length;
    void on_response(H3ClientStream& s, int st, const h3::HeaderList& f) override {
      Recorder::on_response(s, st, f);
      clean_at_response = s.user_data == nullptr && s.trailers().empty() && s.body_bytes() == 0 && !s.paused();
      length = s.content_length();
    }
  } rb2;
  // The same again through a handler that looks from inside on_response.
  p.settle();
  auto sb2 = p.client->request(b, rb2);
  REQUIRE(sb2.ok());
  REQUIRE(p.run([&] { return rb.done() && rb2.done(); }));
  INFO(rb.error << rb2.error);
  REQUIRE(rb.complete);
  CHECK(rb.status == 200);
  CHECK(h3::find_field(rb.fields, "x-count") == "0");  // x-req-a was not sent again
  CHECK_FALSE(has_field(rb.fields, "x-first"));
  CHECK(rb.trailers.empty());
  CHECK(rb.body.empty());
  REQUIRE(rb2.complete);
  CHECK(rb2.clean_at_response);
  CHECK_FALSE(rb2.length);  // HEAD: content-length describes no body here
  p.settle();

  // C pauses its body and is cancelled while paused; D reuses it.
  struct Pauser : Recorder {
    H3ClientStream* s = nullptr;
    void on_response(H3ClientStream& st, int code, const h3::HeaderList& f) override {
      Recorder::on_response(st, code, f);
      st.pause_body();
      s = &st;
    }
  } rc;
  H3Request c;
  c.path = "/bytes/300000";
  auto sc = p.client->request(c, rc);
  REQUIRE(sc.ok());
  REQUIRE(p.run([&] { return rc.s != nullptr; }));
  CHECK((*sc)->paused());
  CHECK((*sc)->content_length() == 300000u);
  (*sc)->cancel();
  p.settle();
  Recorder rd;
  H3Request d;
  d.path = "/bytes/5000";
  auto sd = p.client->request(d, rd);
  REQUIRE(sd.ok());
  REQUIRE(*sd == *sc);
  check_fresh(**sd);
  REQUIRE(p.run([&] { return rd.done(); }));
  INFO(rd.error);
  REQUIRE(rd.complete);  // a leaked pause would stall it
  CHECK(rd.body == std::string(5000, 'b'));
  CHECK_FALSE(rc.done());  // cancelled: no further calls
}

TEST_CASE("h3net: a recycled server exchange carries nothing over", "[h3net]") {
  struct Seen {
    const H3ServerExchange* x = nullptr;
    void* user_data = nullptr;
    size_t fields = 0, trailers = 0;
    uint64_t body_in = 0, body_out = 0;
    int status = 0;
    bool request_complete = false, response_complete = false;
    std::optional<uint64_t> content_length;
    std::string method, path, protocol;
    int handlers_alive = 0;
  };
  std::vector<Seen> seen;
  int alive = 0;  // handlers not destroyed yet
  int marker = 0;
  struct Upload : H3RequestHandler {
    int& alive;
    explicit Upload(int& a) : alive(a) { ++alive; }
    ~Upload() override { --alive; }
    void on_request_end(H3ServerExchange& x) override {
      const std::string body = std::to_string(x.request_body_bytes());
      REQUIRE(x.respond(201, {{"content-length", std::to_string(body.size())}, {"x-upload", "1"}}).ok());
      REQUIRE(x.write(as_bytes(body), true).ok());
    }
  };
  Pair p([&](H3ServerExchange& x) -> std::unique_ptr<H3RequestHandler> {
    Seen s;
    s.x = &x;
    s.user_data = x.user_data;
    s.fields = x.request_fields().size();
    s.trailers = x.trailers().size();
    s.body_in = x.request_body_bytes();
    s.body_out = x.body_bytes_sent();
    s.status = x.status();
    s.request_complete = x.request_complete();
    s.response_complete = x.response_complete();
    s.content_length = x.request().content_length;
    s.method = x.request().method;
    s.path = x.request().path;
    s.protocol = x.request().protocol;
    s.handlers_alive = alive;
    seen.push_back(s);
    x.user_data = &marker;
    if (x.request().method == "POST") return std::make_unique<Upload>(alive);
    REQUIRE(x.respond(204, {}, true).ok());
    return nullptr;
  });

  // 1: a POST with a body, content-length and an extra field, a handler.
  struct Sender : Recorder {
    void on_writable(H3ClientStream& s) override { REQUIRE(s.write(as_bytes("hello"), true).ok()); }
  } r1;
  H3Request post;
  post.method = "POST";
  post.path = "/up";
  post.headers = {{"content-length", "5"}, {"x-extra", "1"}};
  post.has_body = true;
  REQUIRE(p.client->request(post, r1).ok());
  REQUIRE(p.run([&] { return r1.done(); }));
  INFO(r1.error);
  REQUIRE(r1.complete);
  CHECK(r1.status == 201);
  CHECK(r1.body == "5");
  p.settle();

  // 2: a bare GET on the recycled exchange.
  Recorder r2;
  H3Request get;
  get.path = "/get";
  REQUIRE(p.client->request(get, r2).ok());
  REQUIRE(p.run([&] { return r2.done(); }));
  REQUIRE(r2.complete);
  CHECK(r2.status == 204);
  CHECK_FALSE(has_field(r2.fields, "x-upload"));

  REQUIRE(seen.size() == 2);
  CHECK(seen[0].content_length == 5u);
  CHECK(seen[0].fields == 6);
  const Seen& s = seen[1];
  REQUIRE(s.x == seen[0].x);  // really the recycled object
  CHECK(s.user_data == nullptr);
  CHECK(s.fields == 4);
  CHECK(s.trailers == 0);
  CHECK(s.body_in == 0);
  CHECK(s.body_out == 0);
  CHECK(s.status == 0);
  CHECK_FALSE(s.request_complete);
  CHECK_FALSE(s.response_complete);
  CHECK_FALSE(s.content_length);
  CHECK(s.method == "GET");
  CHECK(s.path == "/get");
  CHECK(s.protocol.empty());
  CHECK(s.handlers_alive == 0);  // the POST's handler was destroyed first
  CHECK(p.server->stats().completed == 2);
  CHECK(p.server->active_requests() == 0);
}

// The table against std::map under random inserts, lookups and removals,
// with stream-ID-like keys (a sliding window of multiples of 4) and
// arbitrary ones, through growth and shrinking.
TEST_CASE("h3net: StreamTable matches std::map", "[h3net]") {
  struct V {
    uint64_t id;
  };
  std::mt19937_64 rng(12345);
  for (int pattern = 0; pattern < 2; ++pattern) {
    StreamTable<V> t;
    std::map<uint64_t, V*> ref;
    uint64_t next = 0;
    for (int step = 0; step < 200000; ++step) {
      const bool growing = (step / 20000) % 2 == 0;  // phases of growth and draining
      const uint64_t op = rng() % 10;
      if (op < (growing ? 6u : 3u)) {
        const uint64_t id = pattern == 0 ? (next += 4) : rng() % 5000;
        auto v = std::make_unique<V>(V{id});
        V* raw = v.get();
        auto old = t.insert(id, std::move(v));
        auto it = ref.find(id);
        REQUIRE((old != nullptr) == (it != ref.end()));
        if (old) REQUIRE(old.get() == it->second);
        ref[id] = raw;
      } else if (op < 8) {
        // Remove a present key or (likely) an absent one.
        uint64_t id = pattern == 0 ? next - 4 * (rng() % 64) : rng() % 5000;
        if (!ref.empty() && rng() % 2) id = std::next(ref.begin(), static_cast<long>(rng() % ref.size()))->first;
        auto owned = t.take(id);
        auto it = ref.find(id);
        if (it == ref.end()) {
          REQUIRE(owned == nullptr);
        } else {
          REQUIRE(owned.get() == it->second);
          ref.erase(it);
        }
      } else {
        const uint64_t id = pattern == 0 ? next - 4 * (rng() % 64) : rng() % 5000;
        auto it = ref.find(id);
        REQUIRE(t.find(id) == (it == ref.end() ? nullptr : it->second));
      }
      REQUIRE(t.size() == ref.size());
    }
    size_t n = 0;
    t.for_each([&](V& v) {
      ++n;
      REQUIRE(ref.at(v.id) == &v);
    });
    CHECK(n == ref.size());
    // take() with the wrong owner leaves the entry.
    if (!ref.empty()) {
      V other{0};
      const uint64_t id = ref.begin()->first;
      CHECK(t.take(id, &other) == nullptr);
      CHECK(t.find(id) == ref.begin()->second);
      CHECK(t.take(id, ref.begin()->second) != nullptr);
    }
  }
}
