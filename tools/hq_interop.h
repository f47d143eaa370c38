// HTTP/0.9 over QUIC (ALPN "hq-interop"), as the QUIC interop runner uses
// it: a request is "GET /path\r\n" on a client bidirectional stream; the
// response is the file's bytes, then FIN. Server and client are QuicApps for
// net::QuicDriver; tools/interop_endpoint.cc maps the runner's environment
// (ROLE, TESTCASE, REQUESTS, ...) onto them.
#pragma once
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/address.h"
#include "net/diagnostics.h"
#include "net/quic_driver.h"

namespace wt::hq {

inline constexpr const char* kAlpn = "hq-interop";
inline constexpr size_t kMaxRequestLine = 4096;

// The runner's test cases and what each needs from the stack.
enum class TestCase : uint8_t {
  handshake, transfer, multiconnect, retry, resumption, zerortt, chacha20, keyupdate, v2, ecn,
  rebind_port, rebind_addr, connectionmigration, unsupported
};
TestCase parse_testcase(std::string_view name);
const char* testcase_name(TestCase t);

// What each side can do of each test case with this stack.
bool supported(TestCase t, bool server);

struct EndpointSetup {
  bool server = false;
  TestCase testcase = TestCase::transfer;
  // Server certificate: PEM files or text; none: generated self-signed.
  std::string cert_file, key_file, cert_pem, key_pem;
  net::KeylogFn keylog;
  net::QlogFactory qlog;
  // Server: announced as preferred_address (the driver must also listen
  // there: DriverOptions::also_bind). Needed by connectionmigration.
  std::optional<Address> preferred_address;
};
// The endpoint configuration a test case asks for (Retry, v2, 0-RTT, ...).
// `rng` must outlive the endpoint.
Result<quic::EndpointConfig> make_endpoint_config(const EndpointSetup& setup, Random& rng,
                                                  std::string* error_message);

// "/a/b.txt" -> "a/b.txt"; nullopt for paths that leave the root ("..",
// empty segments are dropped).
std::optional<std::string> sanitize_path(std::string_view path);

struct Url {
  std::string host;  // as written (name or literal, without brackets)
  uint16_t port = 443;
  std::string path = "/";
};
std::optional<Url> parse_url(std::string_view url);  // "https://host[:port]/path"

// ------------------------------------------------------------------ server

struct ServerOptions {
  std::string www = "/www";
};

class HqServer final : public net::QuicApp {
 public:
  explicit HqServer(const ServerOptions& options) : opts_(options) {}
  ~HqServer() override;
  void on_accept(quic::Connection& c, Time now) override;
  void on_events(quic::Connection& c, Time now) override;
  void on_removed(quic::Connection& c) override;
  uint64_t requests_served() const { return served_; }
  uint64_t connections() const { return connections_; }

 private:
  struct Stream {
    std::string request;
    int fd = -1;
    uint64_t offset = 0, size = 0;
    bool responding = false;
  };
  struct Conn {
    std::unordered_map<uint64_t, Stream> streams;
  };
  void read(quic::Connection& c, Conn& st, uint64_t id);
  void start_response(quic::Connection& c, Conn& st, uint64_t id, Stream& s);
  void send_more(quic::Connection& c, Conn& st, uint64_t id);
  static void close_stream(Stream& s);

  ServerOptions opts_;
  std::unordered_map<quic::Connection*, Conn> conns_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
  uint64_t served_ = 0, connections_ = 0;
};

// ------------------------------------------------------------------ client

struct ClientOptions {
  std::vector<std::string> requests;  // URLs
  std::string downloads = "/downloads";
  TestCase testcase = TestCase::transfer;
  // The configuration for each connection (the endpoint's template with
  // testcase adjustments); resumption fields are filled in by the client.
  quic::ConnectionConfig conn;
};

struct ClientResult {
  uint32_t files_ok = 0, files_failed = 0;
  uint32_t connections = 0;
  bool resumed = false, early_data_accepted = false, key_updated = false;
  // Of the last connection to finish its handshake / to close.
  uint32_t version = 0;
  uint64_t retries = 0;          // Retry packets acted on, all connections
  bool ecn_capable = false;      // some connection validated ECN on its path
  uint64_t key_generation = 0;   // highest 1-RTT write key generation reached
  bool migrated = false;         // moved to the server's preferred address
  std::string first_error;
};

class HqClient final : public net::QuicApp {
 public:
  explicit HqClient(ClientOptions options);
  ~HqClient() override;
  // Resolves the first URL's host and opens the first connection.
  Status start(net::QuicDriver& driver);
  bool done() const { return done_; }
  const ClientResult& result() const { return result_; }

  void on_events(quic::Connection& c, Time now) override;
  void on_removed(quic::Connection& c) override;

 private:
  struct Request {
    std::string path, file;
    std::FILE* out = nullptr;
    uint64_t stream = 0;
    bool sent = false, finished = false;
  };
  struct Conn {
    std::vector<size_t> requests;  // indices into requests_
    size_t next = 0;               // next request to open
    size_t finished = 0;
    bool handshake_done = false, closing = false, key_update_done = false;
    std::optional<std::vector<uint8_t>> ticket;
  };
  Status open_connection(std::vector<size_t> requests, Time now);
  void open_requests(quic::Connection& c, Conn& st);
  void read(quic::Connection& c, Conn& st, uint64_t id);
  void maybe_close(quic::Connection& c, Conn& st);
  void fail(const std::string& why);

  ClientOptions opts_;
  net::QuicDriver* driver_ = nullptr;
  Address server_;
  std::vector<Request> requests_;
  std::unordered_map<quic::Connection*, Conn> conns_;
  std::deque<std::vector<size_t>> pending_connections_;  // request groups still to connect
  std::vector<uint8_t> ticket_, token_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
  bool done_ = false;
  ClientResult result_;
};

}  // namespace wt::hq
