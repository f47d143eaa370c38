// h3serve: a static file server over HTTP/3 (net::H3Server).
//
//   h3serve --root DIR [--listen ADDR:PORT] [--cert FILE --key FILE]
//           [--listing] [--threads N] [--quiet]
//
// Prints one line when ready ("h3serve listening on ADDR:PORT cert-sha256
// HEX spki-sha256-b64 B64"), serves GET/HEAD of files under the root,
// answers POST with the size and SHA-256 of the body, and shuts down
// gracefully (GOAWAY, open responses finish) on SIGINT/SIGTERM.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/certgen.h"
#include "lib/hex.h"
#include "lib/io/loop_thread.h"
#include "lib/io/sockaddr.h"
#include "lib/log.h"
#include "net/diagnostics.h"
#include "net/h3_server.h"
#include "quic/tls_config.h"
#include "tools/tool_util.h"

using namespace wt;

namespace {

constexpr size_t kChunk = 64 * 1024;

void usage(std::FILE* to) {
  fmt::print(to, R"(usage: h3serve --root DIR [options]

Static files over HTTP/3 (ALPN h3).
  --root DIR           directory to serve (required)
  --listen ADDR:PORT   default [::]:4433 (dual-stack); port 0 picks a free one
  --cert F --key F     PEM certificate chain and key (default: a generated
                       ECDSA P-256 self-signed certificate for localhost,
                       127.0.0.1 and ::1, valid 14 days)
  --listing            HTML listing of directories without index.html
  --threads N          N event loops on N threads (SO_REUSEPORT), default 1
  --quiet              no access log on stderr
GET and HEAD serve files; POST to any path answers
"received <N> bytes sha256 <hex>"; other methods get 405.
SIGINT/SIGTERM: graceful shutdown. SSLKEYLOGFILE and QLOGDIR are honoured.
)");
}

struct Args {
  std::string root, listen = "[::]:4433", cert, key;
  bool listing = false, quiet = false;
  unsigned threads = 1;
};

std::string host_string(const Address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.ip.data(), buf, sizeof buf);
  return a.family == 6 ? fmt::format("[{}]", buf) : std::string(buf);
}

std::string peer_string(const Address& a) { return fmt::format("{}:{}", host_string(a), a.port); }

Bytes as_bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

bool read_text(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// ------------------------------------------------------------------ paths

const char* content_type(const std::string& path) {
  struct Type {
    const char* ext;
    const char* type;
  };
  static constexpr Type kTypes[] = {
      {"html", "text/html"},        {"htm", "text/html"},      {"js", "text/javascript"},
      {"mjs", "text/javascript"},   {"css", "text/css"},       {"txt", "text/plain"},
      {"json", "application/json"}, {"png", "image/png"},      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},       {"svg", "image/svg+xml"},  {"wasm", "application/wasm"},
  };
  size_t slash = path.rfind('/');
  size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "application/octet-stream";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& t : kTypes)
    if (ext == t.ext) return t.type;
  return "application/octet-stream";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 3986 §2.1 percent-decoding; false for malformed escapes and NUL.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int h = hex_value(in[i + 1]), l = hex_value(in[i + 2]);
      if (h < 0 || l < 0) return false;
      c = static_cast<char>(h * 16 + l);
      i += 2;
    }
    if (c == '\0') return false;
    out.push_back(c);
  }
  return true;
}

std::string percent_encode_path(std::string_view in) {
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || std::strchr("/-._~!$&'()*+,;=:@", c)) out.push_back(static_cast<char>(c));
    else out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string html_escape(std::string_view in) {
  std::string out;
  for (char c : in) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

struct Resolved {
  int status = 0;  // 0: found; else the error status
  std::string real;
  std::string url_path;  // the decoded request path (for listings)
  bool dir = false;
  uint64_t size = 0;
};

// `real` must be `root` or below it once symlinks are resolved.
bool inside(const std::string& root, const std::string& real) {
  return real == root || (real.size() > root.size() && real.compare(0, root.size(), root) == 0 &&
                          (root == "/" || real[root.size()] == '/'));
}

bool real_inside(const std::string& root, const std::string& candidate, std::string& real) {
  char buf[PATH_MAX];
  if (!::realpath(candidate.c_str(), buf)) return false;
  real = buf;
  return inside(root, real);
}

Resolved resolve_target(const std::string& root, std::string_view target) {
  Resolved r;
  target = target.substr(0, target.find_first_of("?#"));
  if (target.empty() || target[0] != '/' || !percent_decode(target, r.url_path)) {
    r.status = 400;
    return r;
  }
  // No segment may climb out of the root, however it was spelled.
  std::string rel;
  size_t i = 0;
  const std::string& p = r.url_path;
  while (i < p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string_view seg(p.data() + i, j - i);
    if (seg == "..") {
      r.status = 400;
      return r;
    }
    if (!seg.empty() && seg != ".") {
      rel += '/';
      rel.append(seg);
    }
    i = j + 1;
  }
  // Symlinks are followed only while they stay inside the root.
  if (!real_inside(root, root + rel, r.real)) {
    r.status = 404;
    return r;
  }
  struct stat sb {};
  if (::stat(r.real.c_str(), &sb) != 0) {
    r.status = 404;
    return r;
  }
  if (S_ISDIR(sb.st_mode)) {
    r.dir = true;
    return r;
  }
  if (!S_ISREG(sb.st_mode)) {
    r.status = 404;
    return r;
  }
  r.size = static_cast<uint64_t>(sb.st_size);
  return r;
}

// ------------------------------------------------------------------ handlers

struct Shared {
  std::string root;
  bool listing = false, quiet = false;
};

void access_log(const Shared& sh, net::H3ServerExchange& x, int status, uint64_t bytes, const char* note = "") {
  if (sh.quiet) return;
  fmt::print(stderr, "{} \"{} {}\" {} {}{}\n", peer_string(x.peer()), x.request().method, x.request().path, status,
             bytes, note);
}

// Sends a small in-memory response in full (error pages, listings, POST results).
void respond_text(const Shared& sh, net::H3ServerExchange& x, int status, const std::string& type,
                  const std::string& body, h3::HeaderList extra = {}) {
  const bool head = x.request().is_head();
  h3::HeaderList f{{"content-type", type}, {"content-length", std::to_string(body.size())},
                        {"server", "h3serve"}};
  f.insert(f.end(), extra.begin(), extra.end());
  if (!x.respond(status, f, head || body.empty()).ok()) return x.reset();
  if (!head && !body.empty()) {
    auto w = x.write(as_bytes(body), true);
    // A fresh stream takes a small page whole; a short write would need a handler.
    if (!w.ok() || *w != body.size()) return x.reset(h3::code(h3::H3Error::internal_error));
  }
  access_log(sh, x, status, head ? 0 : body.size());
}

void respond_error(const Shared& sh, net::H3ServerExchange& x, int status, const char* text,
                   h3::HeaderList extra = {}) {
  respond_text(sh, x, status, "text/plain", fmt::format("{} {}\n", status, text), std::move(extra));
}

// Streams one file: reads a chunk only when QUIC took the previous one.
class FileHandler final : public net::H3RequestHandler {
 public:
  FileHandler(const Shared& sh, int fd, uint64_t size) : sh_(sh), fd_(fd), size_(size) {}
  ~FileHandler() override { ::close(fd_); }

  void pump(net::H3ServerExchange& x) {
    while (true) {
      if (pos_ == len_) {
        if (read_ == size_) return;
        size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size_ - read_));
        ssize_t n;
        do n = ::pread(fd_, buf_.data(), want, static_cast<off_t>(read_));
        while (n < 0 && errno == EINTR);
        if (n <= 0) {  // I/O error, or the file shrank under us
          if (!sh_.quiet)
            fmt::print(stderr, "h3serve: read error on {}: {}\n", x.request().path,
                       n < 0 ? std::strerror(errno) : "file truncated");
          access_log(sh_, x, x.status(), x.body_bytes_sent(), " (read error)");
          logged_ = true;
          return x.reset(h3::code(h3::H3Error::internal_error));
        }
        read_ += static_cast<uint64_t>(n);
        pos_ = 0;
        len_ = static_cast<size_t>(n);
      }
      const bool last = read_ == size_;
      auto w = x.write(Bytes{buf_.data() + pos_, len_ - pos_}, last);
      if (!w.ok()) return;
      pos_ += *w;
      if (pos_ < len_) return;  // on_writable brings us back
      if (last) return;
    }
  }

  void on_writable(net::H3ServerExchange& x) override { pump(x); }
  void on_complete(net::H3ServerExchange& x) override {
    if (!logged_) access_log(sh_, x, x.status(), x.body_bytes_sent());
  }
  void on_abort(net::H3ServerExchange& x, const net::H3Failure& why) override {
    if (!logged_) access_log(sh_, x, x.status(), x.body_bytes_sent(), " (aborted)");
    if (!sh_.quiet) fmt::print(stderr, "h3serve: {} {}: {}\n", peer_string(x.peer()), x.request().path, why.message);
  }

 private:
  const Shared& sh_;
  int fd_;
  uint64_t size_, read_ = 0;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(kChunk);
  size_t pos_ = 0, len_ = 0;
  bool logged_ = false;
};

// POST: counts and hashes the body, then says what arrived.
class UploadHandler final : public net::H3RequestHandler {
 public:
  explicit UploadHandler(const Shared& sh) : sh_(sh) { SHA256_Init(&sha_); }
  void on_body(net::H3ServerExchange&, Bytes chunk) override {
    SHA256_Update(&sha_, chunk.data(), chunk.size());
    bytes_ += chunk.size();
  }
  void on_request_end(net::H3ServerExchange& x) override {
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, &sha_);
    respond_text(sh_, x, 200, "text/plain",
                 fmt::format("received {} bytes sha256 {}\n", bytes_, to_hex(Bytes{md, sizeof md})));
  }
  void on_abort(net::H3ServerExchange& x, const net::H3Failure& why) override {
    access_log(sh_, x, 0, 0, " (aborted)");
    if (!sh_.quiet) fmt::print(stderr, "h3serve: {} {}: {}\n", peer_string(x.peer()), x.request().path, why.message);
  }

 private:
  const Shared& sh_;
  SHA256_CTX sha_;
  uint64_t bytes_ = 0;
};

std::unique_ptr<net::H3RequestHandler> serve_file(const Shared& sh, net::H3ServerExchange& x, const std::string& real,
                                                  uint64_t size) {
  int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    respond_error(sh, x, errno == EACCES ? 403 : 404, errno == EACCES ? "Forbidden" : "Not Found");
    return nullptr;
  }
  const bool head = x.request().is_head();
  h3::HeaderList f{{"content-type", content_type(real)}, {"content-length", std::to_string(size)},
                        {"server", "h3serve"}};
  if (!x.respond(200, f, head || size == 0).ok()) {
    ::close(fd);
    x.reset();
    return nullptr;
  }
  if (head || size == 0) {
    ::close(fd);
    access_log(sh, x, 200, 0);
    return nullptr;
  }
  auto h = std::make_unique<FileHandler>(sh, fd, size);
  h->pump(x);
  return h;
}

std::string listing_html(const Resolved& r) {
  std::vector<std::pair<std::string, bool>> entries;
  if (DIR* d = ::opendir(r.real.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      struct stat sb {};
      bool dir = ::stat((r.real + "/" + name).c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
      entries.emplace_back(name, dir);
    }
    ::closedir(d);
  }
  std::sort(entries.begin(), entries.end());
  std::string base = r.url_path;
  if (base.empty() || base.back() != '/') base += '/';
  std::string title = html_escape(base);
  std::string html = fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {0}</title></head>\n"
      "<body><h1>Index of {0}</h1>\n<ul>\n",
      title);
  if (base != "/") html += "<li><a href=\"../\">../</a></li>\n";
  for (const auto& [name, dir] : entries) {
    std::string href = percent_encode_path(base + name) + (dir ? "/" : "");
    html += fmt::format("<li><a href=\"{}\">{}{}</a></li>\n", html_escape(href), html_escape(name), dir ? "/" : "");
  }
  html += "</ul></body></html>\n";
  return html;
}

std::unique_ptr<net::H3RequestHandler> on_request(const Shared& sh, net::H3ServerExchange& x) {
  const auto& req = x.request();
  if (req.method == "POST") return std::make_unique<UploadHandler>(sh);
  if (req.method != "GET" && req.method != "HEAD") {
    respond_error(sh, x, 405, "Method Not Allowed", {{"allow", "GET, HEAD, POST"}});
    return nullptr;
  }
  Resolved r = resolve_target(sh.root, req.path);
  if (r.status) {
    respond_error(sh, x, r.status, r.status == 400 ? "Bad Request" : "Not Found");
    return nullptr;
  }
  if (r.dir) {
    std::string index;
    struct stat sb {};
    if (real_inside(sh.root, r.real + "/index.html", index) && ::stat(index.c_str(), &sb) == 0 &&
        S_ISREG(sb.st_mode))
      return serve_file(sh, x, index, static_cast<uint64_t>(sb.st_size));
    if (!sh.listing) {
      respond_error(sh, x, 404, "Not Found");
      return nullptr;
    }
    respond_text(sh, x, 200, "text/html", listing_html(r));
    return nullptr;
  }
  return serve_file(sh, x, r.real, r.size);
}

// ------------------------------------------------------------------ main

bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string o = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        fmt::print(stderr, "h3serve: {} needs a value\n", o);
        return nullptr;
      }
      return argv[++i];
    };
    const char* v = nullptr;
    if (o == "-h" || o == "--help") {
      usage(stdout);
      std::exit(0);
    } else if (o == "--listing") {
      a.listing = true;
    } else if (o == "--quiet" || o == "-q") {
      a.quiet = true;
    } else if (o == "--root" || o == "--listen" || o == "--cert" || o == "--key" || o == "--threads") {
      if (!(v = value())) return false;
      if (o == "--root") a.root = v;
      else if (o == "--listen") a.listen = v;
      else if (o == "--cert") a.cert = v;
      else if (o == "--key") a.key = v;
      else {
        char* end = nullptr;
        unsigned long n = std::strtoul(v, &end, 10);
        if (!*v || *end || n < 1 || n > 256) {
          fmt::print(stderr, "h3serve: --threads wants 1..256\n");
          return false;
        }
        a.threads = static_cast<unsigned>(n);
      }
    } else {
      fmt::print(stderr, "h3serve: unknown option {}\n", o);
      return false;
    }
  }
  if (a.root.empty()) {
    fmt::print(stderr, "h3serve: --root DIR is required\n");
    return false;
  }
  if (a.cert.empty() != a.key.empty()) {
    fmt::print(stderr, "h3serve: --cert and --key go together\n");
    return false;
  }
  return true;
}

struct Worker {
  std::unique_ptr<io::LoopThread> thread;
  std::unique_ptr<net::H3Server> server;
};

}  // namespace

int main(int argc, char** argv) {
  log::init_from_env();
  Args a;
  if (!parse(argc, argv, a)) {
    usage(stderr);
    return 1;
  }
  Shared sh;
  sh.listing = a.listing;
  sh.quiet = a.quiet;
  {
    char buf[PATH_MAX];
    struct stat sb {};
    if (!::realpath(a.root.c_str(), buf) || ::stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
      fmt::print(stderr, "h3serve: --root {}: not a directory\n", a.root);
      return 1;
    }
    sh.root = buf;
  }
  auto bind = tools::resolve(a.listen, 4433);
  if (!bind) {
    fmt::print(stderr, "h3serve: cannot resolve --listen {}\n", a.listen);
    return 1;
  }

  // The certificate: the user's, or a fresh self-signed one.
  quic::TlsConfigOptions t;
  t.role = quic::TlsRole::server;
  t.alpn = {"h3"};
  t.keylog = net::keylog_from_env();
  certgen::CertHashes hashes;
  if (!a.cert.empty()) {
    if (!read_text(a.cert, t.cert_chain_pem) || !read_text(a.key, t.private_key_pem)) {
      fmt::print(stderr, "h3serve: cannot read {} / {}: {}\n", a.cert, a.key, std::strerror(errno));
      return 1;
    }
    auto h = certgen::hashes_of_pem(t.cert_chain_pem);
    if (!h.ok()) {
      fmt::print(stderr, "h3serve: {}: not a PEM certificate\n", a.cert);
      return 1;
    }
    hashes = *h;
  } else {
    certgen::Options o;
    o.dns_names = {"localhost"};
    o.ip_addresses = {"127.0.0.1", "::1"};
    o.validity_days = certgen::kMaxHashTrustedValidityDays;
    auto cert = certgen::self_signed(o);
    if (!cert.ok()) {
      fmt::print(stderr, "h3serve: cannot generate a certificate: {}\n", cert.error().detail);
      return 1;
    }
    t.cert_chain_pem = cert->cert_pem;
    t.private_key_pem = cert->key_pem;
    hashes = cert->hashes;
  }
  std::string err;
  auto tls = quic::TlsConfig::create(t, &err);
  if (!tls.ok()) {
    fmt::print(stderr, "h3serve: TLS setup: {}\n", err.empty() ? tls.error().detail : err);
    return 1;
  }

  // Signals go to this thread alone (sigwait below); the loops inherit the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<Worker> workers(a.threads);
  std::atomic<unsigned> stopped{0};
  Address bound = *bind;
  auto qlog = net::qlog_from_env();
  for (unsigned i = 0; i < a.threads; ++i) {
    Worker& w = workers[i];
    auto th = io::LoopThread::start({}, [&](io::Loop& loop) -> Status {
      net::H3ServerOptions o;
      o.endpoint.conn.tls = *tls;
      o.endpoint.conn.max_streams_bidi = 256;
      o.endpoint.conn.initial_max_data = 32u << 20;
      o.endpoint.qlog_factory = qlog;
      o.driver.bind = bound;
      o.driver.socket.reuse_port = a.threads > 1;
      o.on_request = [&sh](net::H3ServerExchange& x) { return on_request(sh, x); };
      WT_ASSIGN(w.server, net::H3Server::create(loop, std::move(o)));
      return {};
    });
    if (!th.ok()) {
      fmt::print(stderr, "h3serve: cannot listen on {}: {}\n", a.listen, th.error().detail);
      for (auto& prev : workers)
        if (prev.thread) prev.thread->stop(), prev.thread->join();
      return 1;
    }
    w.thread = std::move(*th);
    bound = w.server->local_address();  // port 0: the others take the same port
  }

  // A connectable address: loopback for a wildcard bind.
  Address shown = bound;
  if (io::is_wildcard(bound)) shown = Address::v4(0x7f000001, bound.port);
  fmt::print("h3serve listening on {}:{} cert-sha256 {} spki-sha256-b64 {}\n", host_string(shown), shown.port,
             hashes.cert_sha256_hex(), hashes.spki_sha256_base64());
  std::fflush(stdout);
  if (!a.quiet)
    fmt::print(stderr, "h3serve: serving {} on {} ({} thread{})\n", sh.root, peer_string(bound), a.threads,
               a.threads > 1 ? "s" : "");

  int sig = 0;
  while (sigwait(&sigs, &sig) != 0) {
  }
  if (!a.quiet) fmt::print(stderr, "h3serve: {}: shutting down (GOAWAY)\n", strsignal(sig));
  for (auto& w : workers) {
    net::H3Server* s = w.server.get();
    w.thread->loop().post([s, &stopped] { s->shutdown([&stopped] { stopped.fetch_add(1); }); });
  }
  // Open responses finish (bounded by the server's shutdown timeout); a
  // second signal stops at once.
  timespec tick{0, 100 * 1000 * 1000};
  bool forced = false;
  while (stopped.load() < workers.size()) {
    if (sigtimedwait(&sigs, nullptr, &tick) > 0) {
      forced = true;
      break;
    }
  }
  for (auto& w : workers) {
    w.thread->stop();
    w.thread->join();
  }
  uint64_t conns = 0, reqs = 0;
  for (auto& w : workers) {
    conns += w.server->stats().connections;
    reqs += w.server->stats().requests;
    w.server.reset();
  }
  if (!a.quiet)
    fmt::print(stderr, "h3serve: {}: {} connections, {} requests\n", forced ? "stopped" : "done", conns, reqs);
  return 0;
}
