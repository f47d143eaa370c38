#include "tools/hq_interop.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

#include "lib/certgen.h"
#include "lib/io/clock.h"
#include "lib/log.h"
#include "quic/tls_config.h"
#include "quic/version.h"
#include "tools/tool_util.h"

namespace wt::hq {

namespace {
struct NamedCase {
  const char* name;
  TestCase tc;
};
constexpr NamedCase kCases[] = {
    {"handshake", TestCase::handshake},     {"transfer", TestCase::transfer},
    {"multiconnect", TestCase::multiconnect}, {"retry", TestCase::retry},
    {"resumption", TestCase::resumption},   {"zerortt", TestCase::zerortt},
    {"chacha20", TestCase::chacha20},       {"keyupdate", TestCase::keyupdate},
    {"v2", TestCase::v2},                   {"ecn", TestCase::ecn},
    {"rebind-port", TestCase::rebind_port}, {"rebind-addr", TestCase::rebind_addr},
    {"connectionmigration", TestCase::connectionmigration},
};

void make_parent_dirs(const std::string& file) {
  for (size_t i = 1; i < file.size(); ++i)
    if (file[i] == '/') ::mkdir(file.substr(0, i).c_str(), 0755);
}
}  // namespace

TestCase parse_testcase(std::string_view name) {
  for (const auto& c : kCases)
    if (name == c.name) return c.tc;
  return TestCase::unsupported;
}

const char* testcase_name(TestCase t) {
  for (const auto& c : kCases)
    if (t == c.tc) return c.name;
  return "unsupported";
}

bool supported(TestCase t, bool server) {
  switch (t) {
    case TestCase::unsupported:
      return false;
    case TestCase::chacha20:
      // This BoringSSL cannot restrict a client's TLS 1.3 offer to
      // ChaCha20-Poly1305; a server picks it when a client offers only it.
      return server;
    default:
      return true;
  }
}

Result<quic::EndpointConfig> make_endpoint_config(const EndpointSetup& setup, Random& rng,
                                                  std::string* error_message) {
  const TestCase tc = setup.testcase;
  quic::TlsConfigOptions t;
  t.role = setup.server ? quic::TlsRole::server : quic::TlsRole::client;
  t.alpn = {kAlpn};
  t.verify = quic::CertVerify::none;  // the runner's certificates are self-made
  t.keylog = setup.keylog;
  t.early_data = tc == TestCase::zerortt;
  if (setup.server) {
    t.cert_chain_file = setup.cert_file;
    t.private_key_file = setup.key_file;
    t.cert_chain_pem = setup.cert_pem;
    t.private_key_pem = setup.key_pem;
    if (t.cert_chain_file.empty() && t.cert_chain_pem.empty()) {
      certgen::Options o;
      o.dns_names = {"localhost", "server", "server4", "server6"};
      o.ip_addresses = {"127.0.0.1", "::1"};
      WT_ASSIGN(auto cert, certgen::self_signed(o));
      t.cert_chain_pem = cert.cert_pem;
      t.private_key_pem = cert.key_pem;
    }
  }
  WT_ASSIGN(auto tls, quic::TlsConfig::create(t, error_message));
  quic::EndpointConfig e;
  e.server = setup.server;
  e.qlog_factory = setup.qlog;
  quic::ConnectionConfig& c = e.conn;
  c.tls = tls;
  c.rng = &rng;
  c.initial_max_data = 32u << 20;
  c.initial_max_stream_data = 8u << 20;
  c.max_streams_bidi = 1000;
  c.early_data = tc == TestCase::zerortt;
  if (setup.server) {
    e.retry_always = tc == TestCase::retry;
    if (tc == TestCase::connectionmigration) c.preferred_address = setup.preferred_address;
    // RFC 9368 §2.3: prefer v2 when a client offers it as compatible.
    if (tc == TestCase::v2) c.versions = {quic::kQuicV2, quic::kQuicV1};
  } else {
    if (tc == TestCase::v2) {
      c.version = quic::kQuicV1;  // the runner expects v1 upgraded to v2
      c.versions = {quic::kQuicV2, quic::kQuicV1};
    }
    c.use_preferred_address = tc == TestCase::connectionmigration;
  }
  return e;
}

std::optional<std::string> sanitize_path(std::string_view path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == "..") return std::nullopt;
    if (!seg.empty() && seg != ".") {
      if (!out.empty()) out += '/';
      out.append(seg);
    }
    i = j + 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<Url> parse_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  Url u;
  u.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    authority = authority.substr(close + 1);
    if (!authority.empty() && authority[0] != ':') return std::nullopt;
  } else {
    size_t colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    authority = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
  }
  if (!authority.empty()) {
    std::string p(authority.substr(1));
    char* end = nullptr;
    unsigned long port = std::strtoul(p.c_str(), &end, 10);
    if (p.empty() || *end || port == 0 || port > 65535) return std::nullopt;
    u.port = static_cast<uint16_t>(port);
  }
  if (u.host.empty()) return std::nullopt;
  return u;
}

// ------------------------------------------------------------------ server

HqServer::~HqServer() {
  for (auto& [c, st] : conns_)
    for (auto& [id, s] : st.streams) close_stream(s);
}

void HqServer::close_stream(Stream& s) {
  if (s.fd >= 0) ::close(s.fd);
  s.fd = -1;
}

void HqServer::on_accept(quic::Connection& c, Time) {
  conns_[&c];
  ++connections_;
}

void HqServer::on_removed(quic::Connection& c) {
  auto it = conns_.find(&c);
  if (it == conns_.end()) return;
  for (auto& [id, s] : it->second.streams) close_stream(s);
  conns_.erase(it);
}

void HqServer::on_events(quic::Connection& c, Time) {
  Conn& st = conns_[&c];
  while (auto e = c.poll_event()) {
    switch (e->type) {
      case quic::Event::Type::stream_opened:
      case quic::Event::Type::stream_readable:
        if ((e->stream_id & 3) == 0) read(c, st, e->stream_id);  // client bidi only
        break;
      case quic::Event::Type::stream_writable:
        send_more(c, st, e->stream_id);
        break;
      case quic::Event::Type::stream_reset:
      case quic::Event::Type::stop_sending: {
        auto it = st.streams.find(e->stream_id);
        if (it != st.streams.end()) {
          close_stream(it->second);
          st.streams.erase(it);
        }
        break;
      }
      default:
        break;
    }
  }
}

void HqServer::read(quic::Connection& c, Conn& st, uint64_t id) {
  Stream& s = st.streams[id];
  if (s.responding) {
    // Anything after the request line is ignored.
    while (true) {
      auto r = c.stream_read(id, MutBytes{buf_});
      if (!r.ok() || r->bytes == 0 || r->fin) return;
    }
  }
  bool fin = false;
  while (true) {
    auto r = c.stream_read(id, MutBytes{buf_});
    if (!r.ok()) return;
    s.request.append(reinterpret_cast<const char*>(buf_.data()), r->bytes);
    fin = r->fin;
    if (fin || r->bytes == 0 || s.request.size() > kMaxRequestLine) break;
  }
  if (s.request.size() > kMaxRequestLine) {
    (void)c.stream_reset(id, 0x10);
    st.streams.erase(id);
    return;
  }
  if (s.request.find('\n') == std::string::npos && !fin) return;  // wait for the rest
  start_response(c, st, id, s);
}

void HqServer::start_response(quic::Connection& c, Conn& st, uint64_t id, Stream& s) {
  s.responding = true;
  std::string line = s.request.substr(0, s.request.find_first_of("\r\n"));
  std::optional<std::string> rel;
  if (line.rfind("GET ", 0) == 0) rel = sanitize_path(std::string_view(line).substr(4));
  if (rel) {
    std::string path = opts_.www + "/" + *rel;
    s.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat sb {};
    if (s.fd >= 0 && ::fstat(s.fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
      s.size = static_cast<uint64_t>(sb.st_size);
    } else {
      log::info("hq: {}: not found", path);
      close_stream(s);
    }
  } else {
    log::info("hq: bad request line '{}'", line);
  }
  if (s.fd < 0) {
    // HTTP/0.9 has no status: an unknown file is an empty response.
    (void)c.stream_write(id, {}, true);
    st.streams.erase(id);
    return;
  }
  ++served_;
  send_more(c, st, id);
}

void HqServer::send_more(quic::Connection& c, Conn& st, uint64_t id) {
  auto it = st.streams.find(id);
  if (it == st.streams.end() || !it->second.responding) return;
  Stream& s = it->second;
  while (s.offset < s.size || s.size == 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf_.size(), s.size - s.offset));
    // Only read what the stream will take now.
    want = static_cast<size_t>(std::min<uint64_t>(want, std::max<uint64_t>(c.stream_writable_bytes(id), 1)));
    ssize_t n = want ? ::pread(s.fd, buf_.data(), want, static_cast<off_t>(s.offset)) : 0;
    if (n < 0 || (n == 0 && want)) {
      (void)c.stream_reset(id, 0x10);
      close_stream(s);
      st.streams.erase(it);
      return;
    }
    size_t len = static_cast<size_t>(n);
    bool last = s.offset + len == s.size;
    auto w = c.stream_write(id, Bytes{buf_.data(), len}, last);
    if (!w.ok()) {
      close_stream(s);
      st.streams.erase(it);
      return;
    }
    s.offset += *w;
    if (last && *w == len) {
      close_stream(s);
      st.streams.erase(it);
      return;
    }
    if (*w < len) return;  // stream_writable brings us back
  }
}

// ------------------------------------------------------------------ client

HqClient::HqClient(ClientOptions options) : opts_(std::move(options)) {}

HqClient::~HqClient() {
  for (auto& r : requests_)
    if (r.out) std::fclose(r.out);
}

void HqClient::fail(const std::string& why) {
  if (result_.first_error.empty()) result_.first_error = why;
  log::warn("hq client: {}", why);
}

Status HqClient::start(net::QuicDriver& driver) {
  driver_ = &driver;
  if (opts_.requests.empty()) return Error::app(0, "no requests");
  std::optional<Url> first;
  for (const auto& u : opts_.requests) {
    auto url = parse_url(u);
    if (!url) return Error::app(0, "malformed URL in REQUESTS");
    if (!first) first = url;
    auto rel = sanitize_path(url->path);
    if (!rel) return Error::app(0, "URL path leaves the download directory");
    requests_.push_back({url->path, opts_.downloads + "/" + *rel});
  }
  auto addr = tools::resolve(first->host + ":" + std::to_string(first->port), first->port);
  if (!addr) return Error::app(0, "cannot resolve the server's host name");
  server_ = *addr;
  if (opts_.conn.server_name.empty()) opts_.conn.server_name = first->host;

  const size_t n = requests_.size();
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  switch (opts_.testcase) {
    case TestCase::multiconnect:
      for (size_t i = 0; i < n; ++i) pending_connections_.push_back({i});
      break;
    case TestCase::resumption:
    case TestCase::zerortt:
      // First connection fetches one file and a ticket; the second resumes.
      pending_connections_.push_back({0});
      if (n > 1) pending_connections_.push_back(std::vector<size_t>(all.begin() + 1, all.end()));
      break;
    default:
      pending_connections_.push_back(all);
  }
  auto group = std::move(pending_connections_.front());
  pending_connections_.pop_front();
  return open_connection(std::move(group), io::monotonic_now());
}

Status HqClient::open_connection(std::vector<size_t> requests, Time) {
  quic::ConnectionConfig cfg = opts_.conn;
  const bool resuming = !ticket_.empty() &&
                        (opts_.testcase == TestCase::resumption || opts_.testcase == TestCase::zerortt);
  if (resuming) cfg.resume_session = ticket_;
  cfg.early_data = resuming && opts_.testcase == TestCase::zerortt;
  if (!token_.empty()) cfg.token = token_;
  auto c = driver_->connect(server_, cfg);
  if (!c.ok()) {
    fail(std::string("connect: ") + c.error().detail);
    done_ = true;
    return c.error();
  }
  ++result_.connections;
  Conn& st = conns_[*c];
  st.requests = std::move(requests);
  if (cfg.early_data) open_requests(**c, st);  // 0-RTT: before the handshake completes
  return {};
}

void HqClient::open_requests(quic::Connection& c, Conn& st) {
  while (st.next < st.requests.size()) {
    auto id = c.open_stream(true);
    if (!id.ok()) return;  // MAX_STREAMS: retried after the next events
    Request& r = requests_[st.requests[st.next++]];
    r.stream = *id;
    r.sent = true;
    std::string line = "GET " + r.path + "\r\n";
    auto w = c.stream_write(*id, Bytes{reinterpret_cast<const uint8_t*>(line.data()), line.size()}, true);
    if (!w.ok() || *w != line.size()) fail("cannot write the request for " + r.path);
  }
}

void HqClient::read(quic::Connection& c, Conn& st, uint64_t id) {
  Request* req = nullptr;
  for (size_t i : st.requests)
    if (requests_[i].sent && requests_[i].stream == id && !requests_[i].finished) req = &requests_[i];
  if (!req) return;
  if (!req->out) {
    make_parent_dirs(req->file);
    req->out = std::fopen(req->file.c_str(), "wb");
    if (!req->out) {
      fail("cannot create " + req->file + ": " + std::strerror(errno));
      (void)c.stream_stop_sending(id, 0x10);
      req->finished = true;
      ++st.finished;
      ++result_.files_failed;
      return;
    }
  }
  while (true) {
    auto r = c.stream_read(id, MutBytes{buf_});
    if (!r.ok()) return;
    if (r->bytes && std::fwrite(buf_.data(), 1, r->bytes, req->out) != r->bytes)
      fail("write error on " + req->file);
    if (r->fin) {
      std::fclose(req->out);
      req->out = nullptr;
      req->finished = true;
      ++st.finished;
      ++result_.files_ok;
      return;
    }
    if (r->bytes == 0) return;
  }
}

void HqClient::maybe_close(quic::Connection& c, Conn& st) {
  if (st.closing || st.finished < st.requests.size()) return;
  // A connection whose successor resumes it waits for the session ticket.
  const bool wants_ticket = !pending_connections_.empty() &&
                            (opts_.testcase == TestCase::resumption || opts_.testcase == TestCase::zerortt);
  if (wants_ticket && !st.ticket) return;
  if (opts_.testcase == TestCase::keyupdate && !st.key_update_done) return;
  st.closing = true;
  c.close(0, "done");
}

void HqClient::on_events(quic::Connection& c, Time) {
  auto it = conns_.find(&c);
  if (it == conns_.end()) return;
  Conn& st = it->second;
  while (auto e = c.poll_event()) {
    switch (e->type) {
      case quic::Event::Type::handshake_done:
        st.handshake_done = true;
        result_.version = c.version();
        if (c.early_data_accepted()) result_.early_data_accepted = true;
        if (!c.config().resume_session.empty()) result_.resumed = true;
        break;
      case quic::Event::Type::stream_readable:
        read(c, st, e->stream_id);
        break;
      case quic::Event::Type::stream_reset:
        fail("server reset stream " + std::to_string(e->stream_id));
        for (size_t i : st.requests) {
          Request& r = requests_[i];
          if (r.sent && r.stream == e->stream_id && !r.finished) {
            r.finished = true;
            ++st.finished;
            ++result_.files_failed;
          }
        }
        break;
      case quic::Event::Type::connection_closed:
        if (!st.closing || e->close.error_code != 0) {
          fail(fmt::format("connection closed{}: error 0x{:x} {}", e->close.by_peer ? " by peer" : "",
                           e->close.error_code, e->close.reason));
        }
        st.closing = true;
        break;
      default:
        break;
    }
  }
  if (c.ecn_state() == quic::EcnValidator::State::capable) result_.ecn_capable = true;
  if (st.closing) return;
  if (!st.ticket) {
    if (auto t = c.take_session_ticket()) {
      st.ticket = std::move(*t);
      ticket_ = *st.ticket;
    }
  }
  if (auto tok = c.take_new_token()) token_ = std::move(*tok);
  if (st.handshake_done) {
    // RFC 9001 §6: a key update only after the handshake is confirmed.
    if (opts_.testcase == TestCase::keyupdate && !st.key_update_done && c.handshake_confirmed()) {
      if (c.initiate_key_update().ok()) {
        st.key_update_done = true;
        result_.key_updated = true;
      }
    }
    open_requests(c, st);
  }
  maybe_close(c, st);
}

void HqClient::on_removed(quic::Connection& c) {
  auto it = conns_.find(&c);
  if (it == conns_.end()) return;
  result_.retries += c.stats().retries;
  if (c.path_stats().preferred_address_used) result_.migrated = true;
  result_.key_generation = std::max(result_.key_generation, c.key_update_info().tx_generation);
  Conn st = std::move(it->second);
  conns_.erase(it);
  for (size_t i : st.requests) {
    Request& r = requests_[i];
    if (!r.finished) {
      r.finished = true;
      ++result_.files_failed;
      if (r.out) {
        std::fclose(r.out);
        r.out = nullptr;
      }
    }
  }
  if (!pending_connections_.empty() && result_.files_failed == 0) {
    auto group = std::move(pending_connections_.front());
    pending_connections_.pop_front();
    if (open_connection(std::move(group), driver_->loop().now()).ok()) return;
  }
  if (conns_.empty()) done_ = true;
}

}  // namespace wt::hq
