// h3get: a curl-like HTTP/3 client (net::H3Client).
//
//   h3get [options] https://HOST:PORT/path...
//
// URLs of one origin share one connection and are fetched concurrently;
// bodies go to stdout in URL order (or to -o/-O files) as they arrive, never
// held whole in memory. Exit codes: 0 success, 22 some status >= 400, 1 usage,
// 2 connection/TLS/timeout/protocol error, 3 file I/O error.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <openssl/sha.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "h3/message.h"
#include "lib/hex.h"
#include "lib/io/clock.h"
#include "lib/io/loop.h"
#include "lib/log.h"
#include "lib/random.h"
#include "net/diagnostics.h"
#include "net/h3_client.h"
#include "quic/tls_config.h"
#include "tools/tool_util.h"

using namespace wt;

namespace {

constexpr int kExitOk = 0, kExitUsage = 1, kExitConnection = 2, kExitFile = 3, kExitHttp = 22;
constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMaxHeldForStdout = 4u << 20;  // per response waiting for its turn

void usage(std::FILE* to) {
  fmt::print(to, R"(usage: h3get [options] https://HOST[:PORT]/path ...

HTTP/3 client. URLs on one origin share one connection and run concurrently;
bodies go to stdout in URL order unless -o/-O.
  -X METHOD             request method (default GET, POST with -d)
  -d DATA, -d @FILE     request body (also --data, --data-binary; @- is stdin)
  -H 'Name: value'      extra request field (repeatable; 'Name:' drops a default)
  -o FILE               write the body to FILE (one per URL, in order)
  -O                    write each body to the URL's file name in the cwd
  -i                    print the status line and response fields before the body
  -I                    HEAD request: status line and fields only
  -k, --insecure        do not verify the server's certificate
  --cacert FILE         trust this CA/certificate (PEM) instead of the system store
  --connect-to HOST:PORT  connect there instead (SNI and :authority stay the URL's)
  --timeout SEC         overall time limit (default 30)
  --idle-timeout SEC    QUIC idle timeout (default 30)
  -s, --silent          no progress bar (drawn only when stderr is a terminal)
  -v, --verbose         connection and message events on stderr
  --sha256              print "sha256 <hex> <bytes> <url>" per response on stderr
SSLKEYLOGFILE and QLOGDIR are honoured.
Exit: 0 ok, 22 status >= 400, 1 usage, 2 connection/TLS/timeout/protocol error, 3 file I/O error.
)");
}

// ------------------------------------------------------------------ arguments

struct Url {
  std::string text, host;  // host without brackets
  uint16_t port = 443;
  std::string path;        // with the query
};

std::optional<Url> parse_url(const std::string& text) {
  constexpr std::string_view kScheme = "https://";
  std::string_view s = text;
  if (s.size() <= kScheme.size() || s.substr(0, kScheme.size()) != kScheme) return std::nullopt;
  s.remove_prefix(kScheme.size());
  s = s.substr(0, s.find('#'));
  size_t end = s.find_first_of("/?");
  std::string_view auth = s.substr(0, end);
  Url u;
  u.text = text;
  std::string rest(end == std::string_view::npos ? std::string_view{} : s.substr(end));
  u.path = rest.empty() ? "/" : rest[0] == '?' ? "/" + rest : rest;
  std::string_view port;
  if (!auth.empty() && auth[0] == '[') {
    size_t close = auth.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(auth.substr(1, close - 1));
    std::string_view after = auth.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else {
    size_t colon = auth.find(':');
    u.host = std::string(auth.substr(0, colon));
    if (colon != std::string_view::npos) port = auth.substr(colon + 1);
  }
  if (u.host.empty() || u.host.find('@') != std::string::npos) return std::nullopt;
  if (!port.empty()) {
    std::string p(port);
    char* e = nullptr;
    unsigned long v = std::strtoul(p.c_str(), &e, 10);
    if (*e || v == 0 || v > 65535) return std::nullopt;
    u.port = static_cast<uint16_t>(v);
  }
  return u;
}

struct Args {
  std::vector<Url> urls;
  std::string method;
  bool has_data = false;
  std::string data;       // inline body
  std::string data_file;  // @FILE
  h3::HeaderList headers;
  std::vector<std::string> drop_headers;
  std::optional<std::string> authority;  // -H 'Host: ...'
  std::vector<std::string> outputs;
  bool remote_name = false, include = false, head = false, insecure = false;
  bool silent = false, verbose = false, sha256 = false;
  std::string cacert, connect_to;
  double timeout = 30, idle_timeout = 30;
};

bool usage_error(const std::string& msg) {
  fmt::print(stderr, "h3get: {}\n", msg);
  return false;
}

bool add_header(Args& a, const std::string& h) {
  size_t colon = h.find(':');
  if (colon == std::string::npos || colon == 0) return usage_error("-H wants 'Name: value'");
  std::string name = h.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = h.substr(colon + 1);
  value.erase(0, value.find_first_not_of(" \t"));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  if (!h3::valid_field_name(name) || !h3::valid_field_value(value))
    return usage_error("invalid header field: " + h);
  if (name == "host") {
    a.authority = value;
    return true;
  }
  if (value.empty()) {
    a.drop_headers.push_back(name);
    return true;
  }
  a.headers.push_back({name, value});
  return true;
}

bool set_data(Args& a, const std::string& v, bool ampersand) {
  if (!v.empty() && v[0] == '@') {
    if (a.has_data) return usage_error("only one -d @FILE body");
    std::string f = v.substr(1);
    if (f == "-") {
      // stdin: read whole (it cannot be re-read per URL).
      char buf[65536];
      ssize_t n;
      while ((n = ::read(0, buf, sizeof buf)) > 0) a.data.append(buf, static_cast<size_t>(n));
    } else {
      a.data_file = f;
    }
  } else {
    if (!a.data_file.empty()) return usage_error("-d DATA cannot follow -d @FILE");
    if (a.has_data && ampersand) a.data += '&';
    a.data += v;
  }
  a.has_data = true;
  return true;
}

bool parse_args(int argc, char** argv, Args& a) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    // Combined short flags: -sk, -ik, -sSv ...
    if (s.size() > 2 && s[0] == '-' && s[1] != '-' && s.find_first_not_of("sSikvIO", 1) == std::string::npos) {
      for (size_t j = 1; j < s.size(); ++j) args.push_back(std::string("-") + s[j]);
    } else {
      args.push_back(std::move(s));
    }
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& o = args[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= args.size()) return usage_error(o + " needs a value");
      out = args[++i];
      return true;
    };
    std::string v;
    if (o == "-h" || o == "--help") {
      usage(stdout);
      std::exit(0);
    } else if (o == "-X" || o == "--request") {
      if (!value(a.method)) return false;
    } else if (o == "-d" || o == "--data" || o == "--data-binary" || o == "--data-raw") {
      if (!value(v)) return false;
      if (o == "--data-raw" && !v.empty() && v[0] == '@') {
        if (a.has_data) a.data += '&';
        a.data += v;
        a.has_data = true;
      } else if (!set_data(a, v, o != "--data-binary")) {
        return false;
      }
    } else if (o == "-H" || o == "--header") {
      if (!value(v) || !add_header(a, v)) return false;
    } else if (o == "-o" || o == "--output") {
      if (!value(v)) return false;
      a.outputs.push_back(v);
    } else if (o == "-O" || o == "--remote-name") {
      a.remote_name = true;
    } else if (o == "-i" || o == "--include") {
      a.include = true;
    } else if (o == "-I" || o == "--head") {
      a.head = true;
    } else if (o == "-k" || o == "--insecure") {
      a.insecure = true;
    } else if (o == "--cacert") {
      if (!value(a.cacert)) return false;
    } else if (o == "--connect-to") {
      if (!value(a.connect_to)) return false;
    } else if (o == "--timeout" || o == "--max-time" || o == "-m" || o == "--idle-timeout") {
      if (!value(v)) return false;
      auto sec = tools::parse_seconds(v);
      if (!sec || *sec <= 0) return usage_error(o + " wants a positive number of seconds");
      (o == "--idle-timeout" ? a.idle_timeout : a.timeout) = *sec;
    } else if (o == "-s" || o == "--silent" || o == "-S" || o == "--show-error") {
      if (o == "-s" || o == "--silent") a.silent = true;
    } else if (o == "-v" || o == "--verbose") {
      a.verbose = true;
    } else if (o == "--sha256") {
      a.sha256 = true;
    } else if (!o.empty() && o[0] == '-' && o != "-") {
      return usage_error("unknown option " + o);
    } else {
      auto u = parse_url(o);
      if (!u) return usage_error("not an https:// URL: " + o);
      a.urls.push_back(*u);
    }
  }
  if (a.urls.empty()) return usage_error("no URL given");
  if (a.outputs.size() > a.urls.size()) return usage_error("more -o files than URLs");
  if (a.head && a.has_data) return usage_error("-I and -d do not go together");
  if (a.insecure && !a.cacert.empty()) return usage_error("-k and --cacert do not go together");
  if (a.method.empty()) a.method = a.head ? "HEAD" : a.has_data ? "POST" : "GET";
  return true;
}

// ------------------------------------------------------------------ output

bool write_all(int fd, Bytes b) {
  while (!b.empty()) {
    ssize_t n = ::write(fd, b.data(), b.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    b = b.subspan(static_cast<size_t>(n));
  }
  return true;
}

std::string human(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
  return u == 0 ? fmt::format("{:.0f} {}", bytes, units[u]) : fmt::format("{:.1f} {}", bytes, units[u]);
}

// "host:port" / "[v6]:port" for tools::resolve.
std::string host_port(const Url& u) {
  return u.host.find(':') != std::string::npos ? fmt::format("[{}]:{}", u.host, u.port)
                                               : fmt::format("{}:{}", u.host, u.port);
}

std::string url_basename(const std::string& path) {
  std::string p = path.substr(0, path.find('?'));
  return p.substr(p.rfind('/') + 1);
}

struct App;

// One URL: its request (and body upload) and where its response goes.
class Transfer final : public net::H3ResponseHandler {
 public:
  Transfer(App& app, size_t index, Url url, std::string out_path)
      : app_(app), index_(index), url_(std::move(url)), out_path_(std::move(out_path)) {
    SHA256_Init(&sha_);
  }
  ~Transfer() override {
    if (out_fd_ >= 0) ::close(out_fd_);
    if (up_fd_ >= 0) ::close(up_fd_);
  }

  void on_response(net::H3ClientStream& s, int status, const h3::HeaderList& fields) override;
  void on_informational(net::H3ClientStream&, int status, const h3::HeaderList& fields) override;
  void on_body(net::H3ClientStream& s, Bytes chunk) override;
  void on_complete(net::H3ClientStream& s) override;
  void on_error(net::H3ClientStream& s, const net::H3Failure& f) override;
  void on_writable(net::H3ClientStream& s) override;

  bool prepare_upload();  // opens -d @FILE; false: file error (reported)
  bool open_output();     // -o FILE; false: file error (reported, transfer ended)
  void emit(Bytes b);
  void flush_held();
  bool to_stdout() const { return out_path_.empty(); }

  App& app_;
  size_t index_;
  Url url_;
  std::string out_path_;
  int out_fd_ = -1;
  net::H3ClientStream* stream_ = nullptr;
  int status_ = 0;
  std::optional<uint64_t> content_length_;
  uint64_t bytes_ = 0;
  bool ended_ = false, failed_ = false;
  std::string held_;  // stdout bytes waiting for earlier responses
  SHA256_CTX sha_;
  // upload
  int up_fd_ = -1;
  uint64_t up_size_ = 0, up_off_ = 0;
  std::vector<uint8_t> up_buf_;
  size_t up_pos_ = 0, up_len_ = 0;
};

struct App {
  Args args;
  io::Loop* loop = nullptr;
  std::vector<std::unique_ptr<Transfer>> transfers;
  std::vector<Transfer*> stdout_order;
  size_t stdout_head = 0;
  std::map<std::string, std::unique_ptr<net::H3Client>> clients;
  bool io_error = false, conn_error = false, finishing = false;
  std::set<std::string> reported;
  Time start{};

  void error(const std::string& msg) {
    if (finishing || !reported.insert(msg).second) return;
    fmt::print(stderr, "{}h3get: error: {}\n", progress_shown ? "\r\033[K" : "", msg);
  }
  void file_error(const std::string& msg) {
    io_error = true;
    error(msg);
  }
  void transfer_ended(Transfer& t) {
    t.ended_ = true;
    t.stream_ = nullptr;
    if (t.out_fd_ >= 0) {
      if (::close(t.out_fd_) != 0) file_error(fmt::format("writing {}: {}", t.out_path_, std::strerror(errno)));
      t.out_fd_ = -1;
    }
    advance_stdout();
  }
  void advance_stdout() {
    while (stdout_head < stdout_order.size()) {
      Transfer& h = *stdout_order[stdout_head];
      h.flush_held();
      if (h.stream_ && h.stream_->paused()) h.stream_->resume_body();
      if (!h.ended_) return;
      ++stdout_head;
    }
  }
  bool all_ended() const {
    return std::all_of(transfers.begin(), transfers.end(), [](const auto& t) { return t->ended_; });
  }

  // Progress bar on stderr, only when it is a terminal.
  bool progress = false, progress_shown = false;
  Time last_draw{};
  void draw_progress(bool final = false) {
    if (!progress) return;
    Time now = io::monotonic_now();
    if (!final && now - last_draw < std::chrono::milliseconds(200)) return;
    last_draw = now;
    if (final) {
      if (progress_shown) fmt::print(stderr, "\r\033[K");
      progress_shown = false;
      return;
    }
    uint64_t got = 0, total = 0;
    bool known = true;
    for (const auto& t : transfers) {
      got += t->bytes_;
      if (t->content_length_) total += *t->content_length_;
      else known = false;
    }
    double secs = std::max(1e-3, static_cast<double>((now - start).count()) / 1e9);
    std::string line;
    if (known && total > 0) {
      double frac = std::min(1.0, static_cast<double>(got) / static_cast<double>(total));
      int fill = static_cast<int>(frac * 30);
      line = fmt::format("[{}{}] {:3.0f}% {} / {}", std::string(static_cast<size_t>(fill), '#'),
                         std::string(static_cast<size_t>(30 - fill), ' '), frac * 100, human(static_cast<double>(got)),
                         human(static_cast<double>(total)));
    } else {
      line = fmt::format("{} received", human(static_cast<double>(got)));
    }
    line += fmt::format("  {}/s", human(static_cast<double>(got) / secs));
    fmt::print(stderr, "\r\033[K{}", line);
    progress_shown = true;
  }
};

// Creates (truncates) the -o file once the final response arrives, so an
// empty body still leaves an empty file, as curl does.
bool Transfer::open_output() {
  if (to_stdout() || out_fd_ >= 0) return true;
  if (app_.io_error) return false;
  out_fd_ = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out_fd_ >= 0) return true;
  app_.file_error(fmt::format("cannot create {}: {}", out_path_, std::strerror(errno)));
  if (stream_) stream_->cancel();
  app_.transfer_ended(*this);
  return false;
}

void Transfer::emit(Bytes b) {
  if (b.empty() || app_.io_error) return;
  if (!to_stdout()) {
    if (!open_output()) return;
    if (!write_all(out_fd_, b)) {
      app_.file_error(fmt::format("writing {}: {}", out_path_, std::strerror(errno)));
      if (stream_) stream_->cancel();
      app_.transfer_ended(*this);
    }
    return;
  }
  if (app_.stdout_head < app_.stdout_order.size() && app_.stdout_order[app_.stdout_head] == this) {
    if (!write_all(1, b)) app_.file_error(fmt::format("writing to stdout: {}", std::strerror(errno)));
    return;
  }
  // Not our turn: hold a little, then let QUIC flow control hold the rest.
  held_.append(reinterpret_cast<const char*>(b.data()), b.size());
  if (held_.size() >= kMaxHeldForStdout && stream_) stream_->pause_body();
}

void Transfer::flush_held() {
  if (held_.empty()) return;
  if (!app_.io_error && !write_all(1, Bytes{reinterpret_cast<const uint8_t*>(held_.data()), held_.size()}))
    app_.file_error(fmt::format("writing to stdout: {}", std::strerror(errno)));
  held_.clear();
  held_.shrink_to_fit();
}

std::string header_text(int status, const h3::HeaderList& fields, const char* prefix) {
  std::string t = fmt::format("{}HTTP/3 {}\n", prefix, status);
  for (const auto& f : fields)
    if (!f.name.empty() && f.name[0] != ':') t += fmt::format("{}{}: {}\n", prefix, f.name, f.value);
  return t;
}

void Transfer::on_informational(net::H3ClientStream&, int status, const h3::HeaderList& fields) {
  if (app_.args.verbose) fmt::print(stderr, "{}", header_text(status, fields, "< "));
}

void Transfer::on_response(net::H3ClientStream& s, int status, const h3::HeaderList& fields) {
  status_ = status;
  content_length_ = s.content_length();
  if (app_.args.verbose) fmt::print(stderr, "{}<\n", header_text(status, fields, "< "));
  if (!open_output()) return;
  if (app_.args.include || app_.args.head) {
    std::string t = header_text(status, fields, "") + "\n";
    emit(Bytes{reinterpret_cast<const uint8_t*>(t.data()), t.size()});
  }
}

void Transfer::on_body(net::H3ClientStream&, Bytes chunk) {
  bytes_ += chunk.size();
  SHA256_Update(&sha_, chunk.data(), chunk.size());
  emit(chunk);
}

void Transfer::on_complete(net::H3ClientStream&) {
  if (app_.args.sha256) {
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, &sha_);
    fmt::print(stderr, "{}sha256 {} {} {}\n", app_.progress_shown ? "\r\033[K" : "", to_hex(Bytes{md, sizeof md}),
               bytes_, url_.text);
  }
  if (app_.args.verbose) fmt::print(stderr, "* {}: {} bytes, complete\n", url_.text, bytes_);
  app_.transfer_ended(*this);
}

void Transfer::on_error(net::H3ClientStream&, const net::H3Failure& f) {
  failed_ = true;
  app_.conn_error = true;
  app_.error(f.message);
  app_.transfer_ended(*this);
}

bool Transfer::prepare_upload() {
  const Args& a = app_.args;
  if (a.data_file.empty()) {
    up_size_ = a.data.size();
    return true;
  }
  up_fd_ = ::open(a.data_file.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat sb {};
  if (up_fd_ < 0 || ::fstat(up_fd_, &sb) != 0) {
    app_.file_error(fmt::format("cannot read {}: {}", a.data_file, std::strerror(errno)));
    return false;
  }
  up_size_ = S_ISREG(sb.st_mode) ? static_cast<uint64_t>(sb.st_size) : 0;
  up_buf_.resize(kChunk);
  return true;
}

// Request body: a chunk is read only once QUIC took the previous one.
void Transfer::on_writable(net::H3ClientStream& s) {
  const std::string& inline_data = app_.args.data;
  while (!s.request_complete()) {
    Bytes chunk;
    if (up_fd_ < 0) {
      chunk = Bytes{reinterpret_cast<const uint8_t*>(inline_data.data()), inline_data.size()}.subspan(
          static_cast<size_t>(up_off_));
    } else {
      if (up_pos_ == up_len_) {
        ssize_t n;
        do n = ::read(up_fd_, up_buf_.data(), up_buf_.size());
        while (n < 0 && errno == EINTR);
        if (n < 0) {
          app_.file_error(fmt::format("reading {}: {}", app_.args.data_file, std::strerror(errno)));
          s.cancel();
          app_.transfer_ended(*this);
          return;
        }
        up_pos_ = 0;
        up_len_ = static_cast<size_t>(n);
      }
      chunk = Bytes{up_buf_.data() + up_pos_, up_len_ - up_pos_};
    }
    if (chunk.empty()) {
      (void)s.finish();
      return;
    }
    auto w = s.write(chunk);
    if (!w.ok()) return;
    up_off_ += *w;
    up_pos_ += *w;
    if (*w < chunk.size()) return;  // on_writable again when there is room
  }
}

// ------------------------------------------------------------------ main

std::shared_ptr<quic::TlsConfig> make_tls(const Args& a) {
  quic::TlsConfigOptions t;
  t.role = quic::TlsRole::client;
  t.alpn = {"h3"};
  t.verify = a.insecure ? quic::CertVerify::none : quic::CertVerify::required;
  t.ca_file = a.cacert;
  t.keylog = net::keylog_from_env();
  std::string err;
  auto tls = quic::TlsConfig::create(t, &err);
  if (!tls.ok()) {
    fmt::print(stderr, "h3get: error: TLS setup: {}\n", err.empty() ? tls.error().detail : err);
    return nullptr;
  }
  return *tls;
}

int run(App& app) {
  Args& a = app.args;
  auto tls = make_tls(a);
  if (!tls) return a.cacert.empty() ? kExitConnection : kExitFile;
  auto loop = io::Loop::create();
  if (!loop.ok()) {
    fmt::print(stderr, "h3get: error: event loop: {}\n", loop.error().detail);
    return kExitConnection;
  }
  app.loop = loop->get();
  SystemRandom rng;
  app.start = io::monotonic_now();

  // Outputs, in URL order.
  for (size_t i = 0; i < a.urls.size(); ++i) {
    std::string out;
    if (i < a.outputs.size()) {
      out = a.outputs[i];
      if (out == "-") out.clear();
    } else if (a.remote_name) {
      out = url_basename(a.urls[i].path);
      if (out.empty() || out == "." || out == "..") {
        fmt::print(stderr, "h3get: -O: no file name in {}\n", a.urls[i].text);
        return kExitUsage;
      }
    }
    app.transfers.push_back(std::make_unique<Transfer>(app, i, a.urls[i], out));
    if (out.empty()) app.stdout_order.push_back(app.transfers.back().get());
  }

  for (auto& tp : app.transfers) {
    Transfer& t = *tp;
    const Url& u = t.url_;
    std::string target = a.connect_to.empty() ? host_port(u) : a.connect_to;
    std::string key = target + "|" + u.host + "|" + std::to_string(u.port);
    auto it = app.clients.find(key);
    if (it == app.clients.end()) {
      auto addr = tools::resolve(target, u.port);
      if (!addr) {
        app.conn_error = true;
        app.error(fmt::format("cannot resolve {}", target));
        app.transfer_ended(t);
        continue;
      }
      net::H3ClientOptions o;
      o.conn.tls = tls;
      o.conn.rng = &rng;
      o.conn.server_name = u.host;
      o.conn.idle_timeout = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(a.idle_timeout));
      o.connect_timeout = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(a.timeout));
      o.authority = net::make_authority(u.host, u.port);
      o.qlog = net::qlog_from_env();
      if (a.verbose) {
        fmt::print(stderr, "* connecting to {} ({})\n", addr->to_string(), o.authority);
        o.on_connected = [&app, key] {
          auto found = app.clients.find(key);
          if (found == app.clients.end() || !found->second->quic()) return;
          quic::Connection& q = *found->second->quic();
          fmt::print(stderr, "* connected to {}: ALPN {}, QUIC version {:#x}, {}{}\n", q.path().remote.to_string(),
                     std::string(q.alpn()), q.version(), quic::cipher_suite_name(q.tls().cipher_suite()),
                     q.tls().is_resumed() ? ", resumed" : "");
        };
        o.on_goaway = [](uint64_t id) { fmt::print(stderr, "* GOAWAY {}\n", id); };
        o.on_closed = [](const net::H3Failure& f) {
          fmt::print(stderr, "* connection closed{}{}\n", f.ok() ? "" : ": ", f.message);
        };
      }
      auto c = net::H3Client::connect(*app.loop, *addr, std::move(o));
      if (!c.ok()) {
        app.conn_error = true;
        app.error(fmt::format("cannot connect to {}: {}", addr->to_string(), c.error().detail));
        app.transfer_ended(t);
        continue;
      }
      it = app.clients.emplace(key, std::move(*c)).first;
    }
    net::H3Client& client = *it->second;

    net::H3Request r;
    r.method = a.method;
    r.path = u.path;
    if (a.authority) r.authority = *a.authority;
    auto dropped = [&](const char* n) {
      return std::find(a.drop_headers.begin(), a.drop_headers.end(), n) != a.drop_headers.end() ||
             h3::find_field(a.headers, n).has_value();
    };
    if (!dropped("user-agent")) r.headers.push_back({"user-agent", "h3get/0.1"});
    if (!dropped("accept")) r.headers.push_back({"accept", "*/*"});
    if (a.has_data) {
      if (!t.prepare_upload()) {
        app.transfer_ended(t);
        continue;
      }
      r.has_body = true;
      if (!dropped("content-length")) r.headers.push_back({"content-length", std::to_string(t.up_size_)});
      if (!dropped("content-type") && a.data_file.empty())
        r.headers.push_back({"content-type", "application/x-www-form-urlencoded"});
    }
    for (const auto& h : a.headers) r.headers.push_back(h);
    if (a.verbose) {
      fmt::print(stderr, "> {} {} HTTP/3\n> :authority: {}\n", r.method, r.path,
                 r.authority.empty() ? client.authority() : r.authority);
      for (const auto& h : r.headers) fmt::print(stderr, "> {}: {}\n", h.name, h.value);
      fmt::print(stderr, ">\n");
    }
    auto s = client.request(std::move(r), t);
    if (!s.ok()) {
      fmt::print(stderr, "h3get: invalid request for {}: {}\n", u.text, s.error().detail);
      return kExitUsage;
    }
    t.stream_ = *s;
  }

  app.progress = !a.silent && !a.verbose && ::isatty(2);
  const Time deadline =
      app.start + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(a.timeout));
  bool timed_out = false;
  while (!app.all_ended()) {
    if (app.io_error) {  // stdout or a file failed: nothing more to do
      for (auto& t : app.transfers) {
        if (t->ended_) continue;
        if (t->stream_) t->stream_->cancel();
        app.transfer_ended(*t);
      }
      break;
    }
    if (io::monotonic_now() >= deadline) {
      timed_out = true;
      break;
    }
    app.loop->run_once(std::chrono::milliseconds(100));
    app.draw_progress();
  }
  app.draw_progress(true);
  if (timed_out) {
    size_t done = 0;
    for (const auto& t : app.transfers) done += t->ended_ && !t->failed_;
    for (const auto& [k, c] : app.clients) {
      if (!c->connected() && !c->closed())
        app.error(fmt::format("no response from {} within {:g} s (QUIC handshake timed out; is an HTTP/3 "
                              "server listening there?)",
                              c->remote().to_string(), a.timeout));
    }
    app.error(fmt::format("timed out after {:g} s ({} of {} responses complete)", a.timeout, done,
                          app.transfers.size()));
    app.conn_error = true;
  }

  // Close each connection and let its CONNECTION_CLOSE leave.
  app.finishing = true;
  std::vector<std::pair<net::H3Client*, uint64_t>> closing;
  for (auto& [k, c] : app.clients) {
    if (c->gone()) continue;
    closing.emplace_back(c.get(), c->driver().stats().send_datagrams);
    c->close();
  }
  const Time drain = io::monotonic_now() + std::chrono::milliseconds(300);
  auto sent = [&] {
    return std::all_of(closing.begin(), closing.end(), [](const auto& p) {
      return p.first->gone() || p.first->driver().stats().send_datagrams > p.second;
    });
  };
  while (!sent() && io::monotonic_now() < drain) app.loop->run_once(std::chrono::milliseconds(10));
  for (auto& t : app.transfers) t->flush_held();
  app.clients.clear();

  if (app.io_error) return kExitFile;
  if (app.conn_error) return kExitConnection;
  for (const auto& t : app.transfers)
    if (t->status_ >= 400) return kExitHttp;
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  log::init_from_env();
  signal(SIGPIPE, SIG_IGN);
  App app;
  if (!parse_args(argc, argv, app.args)) {
    fmt::print(stderr, "(h3get --help lists the options)\n");
    return kExitUsage;
  }
  return run(app);
}
