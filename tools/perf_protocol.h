// The QUIC performance protocol (draft-banks-quic-performance) as QuicApps
// for net::QuicDriver: the client opens a bidirectional stream per request,
// sends the number of bytes it wants back as an 8-byte big-endian integer,
// then its upload, then FIN; the server answers with that many bytes, then
// FIN. Used by the quicperf tool, bench/run-throughput and the integration
// tests.
//
// Payload bytes follow a deterministic pattern (perf::fill_pattern) so a
// receiver can check them by SHA-256 without the sender hashing anything.
#pragma once
#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/bytes.h"
#include "lib/clock.h"
#include "lib/io/loop_thread.h"
#include "net/diagnostics.h"
#include "net/quic_driver.h"

namespace wt::perf {

inline constexpr const char* kAlpn = "perf";
// Both sides run the 1-RTT null cipher (benchmarks only): a separate ALPN, so
// a peer that did not agree fails the handshake instead of every packet.
inline constexpr const char* kAlpnNullCipher = "perf-null-cipher";
inline constexpr uint64_t kDatagramMagic = 0x7766706572666467ULL;  // echo requests

// Bytes [offset, offset + out.size()) of every payload: 1 KiB units, each
// starting with its unit index (8 bytes, big endian) then fixed filler.
void fill_pattern(uint64_t offset, MutBytes out);
// Pattern bytes without a full copy per chunk: at a 1 KiB boundary only the
// 8-byte unit indices of a prepared 64 KiB block change.
class PatternSource {
 public:
  // Up to `max` pattern bytes starting at `offset` (fewer when `offset` is
  // not on a unit boundary: just enough to reach the next one). Valid until
  // the next call.
  Bytes get(uint64_t offset, size_t max);

 private:
  std::vector<uint8_t> block_ = std::vector<uint8_t>(64 * 1024);
  std::vector<uint8_t> tail_ = std::vector<uint8_t>(1024);
  bool ready_ = false;
};

// SHA-256 of pattern bytes [0, length).
std::array<uint8_t, 32> pattern_sha256(uint64_t length);

// Incremental SHA-256 (BoringSSL).
class Sha256 {
 public:
  Sha256() { SHA256_Init(&ctx_); }
  void update(Bytes data) { SHA256_Update(&ctx_, data.data(), data.size()); }
  std::array<uint8_t, 32> finish() {
    std::array<uint8_t, 32> out;
    SHA256_Final(out.data(), &ctx_);
    return out;
  }

 private:
  SHA256_CTX ctx_;
};

// ------------------------------------------------------------------ setup

// What both quicperf roles configure the same way.
struct EndpointSetup {
  bool server = false;
  bool null_cipher = false;  // ALPN kAlpnNullCipher, 1-RTT unprotected
  quic::CongestionControl cc = quic::CongestionControl::cubic;
  size_t packet_size = 1452;  // UDP payload we start with
  bool pmtud = true;          // probe for larger packets (off: packet_size stays)
  bool pacing = true;
  uint64_t send_buffer = 8u << 20;  // per stream (ConnectionConfig::stream_send_buffer)
  // Server certificate and key (PEM text or files); none: a fresh
  // self-signed one for localhost, 127.0.0.1 and ::1 (lib/certgen).
  std::string cert_pem, key_pem, cert_file, key_file;
  std::string server_name = "localhost";  // client SNI
  std::function<void(std::string_view)> keylog;
  net::QlogFactory qlog;
};
// `rng` must outlive the endpoint. Errors carry a readable message.
// A server setup without a certificate gets a fresh self-signed one
// (localhost, 127.0.0.1, ::1).
Status add_self_signed_certificate(EndpointSetup& setup);
Result<quic::EndpointConfig> make_endpoint_config(const EndpointSetup& setup, Random& rng,
                                                  std::string* error_message);

// ------------------------------------------------------------------ server

struct ServerStats {
  uint64_t connections = 0, streams = 0, bytes_sent = 0, bytes_received = 0;
  uint64_t datagrams_echoed = 0;
  quic::ConnectionStats last_stats;  // of the last connection to end
};

class PerfServer final : public net::QuicApp {
 public:
  void on_accept(quic::Connection& c, Time now) override;
  void on_events(quic::Connection& c, Time now) override;
  void on_removed(quic::Connection& c) override;
  const ServerStats& stats() const { return stats_; }
  size_t active_connections() const { return conns_.size(); }

 private:
  struct Stream {
    uint8_t header[8];
    size_t header_len = 0;
    uint64_t requested = 0, sent = 0;
    bool request_done = false, response_done = false;
  };
  struct Conn {
    std::unordered_map<uint64_t, Stream> streams;
  };
  void read(quic::Connection& c, Conn& st, uint64_t id);
  void respond(quic::Connection& c, Conn& st, uint64_t id);

  std::unordered_map<quic::Connection*, Conn> conns_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
  PatternSource pattern_;
  ServerStats stats_;
};

// ------------------------------------------------------------ server threads

// N PerfServers, each on its own event loop and thread with its own
// SO_REUSEPORT socket on one address (DESIGN: one loop per thread,
// shared-nothing); the kernel spreads clients over them by address and
// port. Everything about a server runs on its thread; stats() asks each
// thread for a snapshot.
struct ServerGroupOptions {
  size_t threads = 2;
  Address bind;  // port 0: one is picked, and the others join it
  io::SocketOptions socket;
  io::LoopOptions loop;
  EndpointSetup setup;  // `server` is forced on
};

class PerfServerGroup {
 public:
  static Result<std::unique_ptr<PerfServerGroup>> start(const ServerGroupOptions& options,
                                                        std::string* error_message = nullptr);
  ~PerfServerGroup();  // stops the loops, joins the threads
  PerfServerGroup(const PerfServerGroup&) = delete;
  PerfServerGroup& operator=(const PerfServerGroup&) = delete;

  const Address& address() const { return address_; }
  size_t threads() const { return workers_.size(); }
  bool gso() const { return gso_; }
  bool gro() const { return gro_; }
  const char* backend_name() const { return backend_; }

  struct ThreadStats {
    ServerStats server;
    net::DriverStats driver;  // totals(): live connections' ACKs included
    io::LoopStats loop;
  };
  // One snapshot per thread, taken on that thread (any thread may call;
  // after stop() the last values).
  std::vector<ThreadStats> stats();
  void stop();

 private:
  struct Worker;
  PerfServerGroup() = default;
  std::vector<std::unique_ptr<Worker>> workers_;
  Address address_;
  bool gso_ = false, gro_ = false, stopped_ = false;
  const char* backend_ = "";
};

// ------------------------------------------------------------------ client

struct ClientOptions {
  Address server;
  uint64_t upload = 0;     // bytes per request
  uint64_t download = 0;   // bytes asked back per request
  uint32_t streams = 1;    // concurrent requests per connection
  uint32_t connections = 1;
  // Requests per connection in total (>= streams); 0: `streams`.
  uint64_t requests = 0;
  // Time mode: keep issuing requests until this much time has passed since
  // the first request, then stop counting and close. Zero: size mode.
  Duration duration{};
  // Connections opened at once (0: all); the others start as earlier ones end.
  uint32_t concurrency = 0;
  // Close each connection as soon as its handshake completes (handshake rate).
  bool handshake_only = false;
  // Keep connections open after their requests until stop() (idle memory).
  bool hold = false;
  // SHA-256 of every response, compared with the pattern.
  bool verify = false;
  // Ping-pong this many DATAGRAMs per connection after its requests (RTT).
  uint32_t datagram_pings = 0;
  size_t datagram_size = 32;
};

struct ClientResult {
  uint64_t bytes_sent = 0, bytes_received = 0;  // stream payload, both directions
  uint64_t requests_done = 0;
  uint32_t connections_ok = 0, connections_failed = 0;
  uint32_t verify_failures = 0;
  double seconds = 0;  // first request to last response byte (or the deadline)
  double handshake_ms_mean = 0, handshake_ms_max = 0;
  double handshakes_seconds = 0;  // first connect to last handshake
  std::vector<double> datagram_rtt_us;  // one per pong
  std::string cipher, alpn, first_error;
  quic::ConnectionStats last_stats;  // of the last connection to end
  std::vector<std::array<uint8_t, 32>> response_sha256;  // with verify, in completion order
  double goodput_gbps() const {
    return seconds > 0 ? static_cast<double>(bytes_sent + bytes_received) * 8 / seconds / 1e9 : 0;
  }
};

class PerfClient final : public net::QuicApp {
 public:
  explicit PerfClient(const ClientOptions& options);
  ~PerfClient() override;
  // Opens the first connections through `driver` (its endpoint's template
  // must offer the perf ALPN).
  Status start(net::QuicDriver& driver);
  // Several drivers (sockets, one client port each) on one loop: new
  // connections take them in turn, so a server's SO_REUSEPORT group spreads
  // them over its threads.
  Status start(const std::vector<net::QuicDriver*>& drivers);
  // Time mode ends, or hold ends: close what is open.
  void stop();
  bool done() const { return done_; }
  bool all_established() const { return established_ == opts_.connections; }
  const ClientResult& result() const { return result_; }
  // Live figures for a progress line.
  uint64_t bytes_transferred() const { return result_.bytes_sent + result_.bytes_received; }
  Time first_request_time() const { return first_request_; }

  void on_events(quic::Connection& c, Time now) override;
  void on_removed(quic::Connection& c) override;
  void on_tick(Time now) override;

 private:
  struct Stream {
    uint64_t header_sent = 0, upload_sent = 0, received = 0;
    bool fin_sent = false;
    Sha256 sha;
  };
  struct Conn {
    Time started{}, established{};
    bool handshake_done = false, closing = false;
    bool working = true;  // counts against ClientOptions::concurrency
    uint64_t requests_started = 0, requests_done = 0;
    std::unordered_map<uint64_t, Stream> streams;
    uint32_t pings_sent = 0, pings_done = 0;
    Time ping_sent_at{};
  };
  void open_more(quic::Connection& c, Conn& st, Time now);
  void write_request(quic::Connection& c, uint64_t id, Stream& s, Time now);
  void read_response(quic::Connection& c, Conn& st, uint64_t id, Time now);
  void send_ping(quic::Connection& c, Conn& st, Time now);
  void maybe_finish(quic::Connection& c, Conn& st, Time now);
  void connect_next(Time now);
  void retire(Conn& st, Time now);
  bool time_up(Time now) const;

  ClientOptions opts_;
  std::vector<net::QuicDriver*> drivers_;
  size_t next_driver_ = 0;
  io::Loop* loop_ = nullptr;
  io::TimerId stop_timer_;
  std::unordered_map<quic::Connection*, Conn> conns_;
  uint32_t started_ = 0, established_ = 0, finished_ = 0, working_ = 0;
  Time first_connect_{}, first_request_{}, last_byte_{}, last_handshake_{};
  bool have_first_request_ = false, stopping_ = false, done_ = false;
  double handshake_ms_sum_ = 0;
  std::array<uint8_t, 32> expected_sha_{};
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(64 * 1024);
  PatternSource pattern_;
  ClientResult result_;
};

}  // namespace wt::perf
