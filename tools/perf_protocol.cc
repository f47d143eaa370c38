#include "tools/perf_protocol.h"

#include <algorithm>
#include <cstring>

#include "lib/certgen.h"
#include "lib/io/clock.h"
#include "quic/tls_config.h"
#include "lib/log.h"

namespace wt::perf {

namespace {
constexpr size_t kUnit = 1024;

// The filler of every 1 KiB unit after its 8-byte index.
const std::array<uint8_t, kUnit>& filler() {
  static const std::array<uint8_t, kUnit> f = [] {
    std::array<uint8_t, kUnit> a{};
    uint32_t x = 0x9e3779b9;
    for (auto& b : a) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      b = static_cast<uint8_t>(x);
    }
    return a;
  }();
  return f;
}

void put_be64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<uint8_t>(v);
}
uint64_t get_be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

double ms(Duration d) { return static_cast<double>(d.count()) / 1e6; }
}  // namespace

void fill_pattern(uint64_t offset, MutBytes out) {
  const auto& f = filler();
  size_t pos = 0;
  while (pos < out.size()) {
    uint64_t abs = offset + pos;
    uint64_t unit = abs / kUnit;
    size_t k = static_cast<size_t>(abs % kUnit);
    size_t len = std::min(kUnit - k, out.size() - pos);
    uint8_t head[8];
    put_be64(head, unit);
    size_t i = 0;
    for (; k + i < 8 && i < len; ++i) out[pos + i] = head[k + i];
    if (i < len) std::memcpy(out.data() + pos + i, f.data() + k + i, len - i);
    pos += len;
  }
}

Bytes PatternSource::get(uint64_t offset, size_t max) {
  if (offset % kUnit != 0) {
    size_t len = std::min<size_t>(max, kUnit - offset % kUnit);
    fill_pattern(offset, MutBytes{tail_.data(), len});
    return {tail_.data(), len};
  }
  if (!ready_) {
    fill_pattern(0, MutBytes{block_});
    ready_ = true;
  }
  size_t len = std::min(max, block_.size());
  uint64_t unit = offset / kUnit;
  for (size_t k = 0; k * kUnit < len; ++k) put_be64(block_.data() + k * kUnit, unit + k);
  return {block_.data(), len};
}

std::array<uint8_t, 32> pattern_sha256(uint64_t length) {
  Sha256 sha;
  std::vector<uint8_t> buf(256 * 1024);
  for (uint64_t off = 0; off < length;) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(buf.size(), length - off));
    fill_pattern(off, MutBytes{buf.data(), len});
    sha.update(Bytes{buf.data(), len});
    off += len;
  }
  return sha.finish();
}

// ------------------------------------------------------------------ setup

Status add_self_signed_certificate(EndpointSetup& setup) {
  if (!setup.server || !setup.cert_pem.empty() || !setup.cert_file.empty()) return {};
  certgen::Options o;
  o.dns_names = {"localhost"};
  o.ip_addresses = {"127.0.0.1", "::1"};
  WT_ASSIGN(auto cert, certgen::self_signed(o));
  setup.cert_pem = cert.cert_pem;
  setup.key_pem = cert.key_pem;
  return {};
}

Result<quic::EndpointConfig> make_endpoint_config(const EndpointSetup& setup_in, Random& rng,
                                                  std::string* error_message) {
  EndpointSetup setup = setup_in;
  WT_TRY(add_self_signed_certificate(setup));
  quic::TlsConfigOptions t;
  t.role = setup.server ? quic::TlsRole::server : quic::TlsRole::client;
  t.alpn = {setup.null_cipher ? kAlpnNullCipher : kAlpn};
  t.verify = quic::CertVerify::none;  // a benchmark, usually with a generated certificate
  t.keylog = setup.keylog;
  if (setup.server) {
    t.cert_chain_pem = setup.cert_pem;
    t.private_key_pem = setup.key_pem;
    t.cert_chain_file = setup.cert_file;
    t.private_key_file = setup.key_file;
  } else {
    t.server_name = setup.server_name;
  }
  WT_ASSIGN(auto tls, quic::TlsConfig::create(t, error_message));
  quic::EndpointConfig e;
  e.server = setup.server;
  e.qlog_factory = setup.qlog;
  quic::ConnectionConfig& c = e.conn;
  c.tls = tls;
  c.rng = &rng;
  c.server_name = setup.server_name;
  c.null_cipher = setup.null_cipher;
  c.congestion_control = setup.cc;
  c.max_send_packet_size = std::max<size_t>(1200, setup.packet_size);
  c.pmtud = setup.pmtud;
  c.pacing = setup.pacing;
  c.max_udp_payload_size = std::max<uint64_t>(c.max_udp_payload_size, c.max_send_packet_size);
  // Windows large enough for loopback rates; auto-tuning grows them.
  c.initial_max_data = 32u << 20;
  c.initial_max_stream_data = 16u << 20;
  c.max_connection_window = 128u << 20;
  c.max_stream_window = 64u << 20;
  c.stream_send_buffer = setup.send_buffer;
  c.max_streams_bidi = 1000;
  c.max_datagram_frame_size = 65535;  // DATAGRAM echo for RTT figures
  return e;
}

// ------------------------------------------------------------------ server

void PerfServer::on_accept(quic::Connection& c, Time) {
  conns_[&c];
  ++stats_.connections;
}

void PerfServer::on_removed(quic::Connection& c) {
  stats_.last_stats = c.stats();
  conns_.erase(&c);
}

void PerfServer::on_events(quic::Connection& c, Time) {
  Conn& st = conns_[&c];
  while (auto e = c.poll_event()) {
    switch (e->type) {
      case quic::Event::Type::stream_opened:
      case quic::Event::Type::stream_readable:
        // Unidirectional streams carry nothing in this protocol.
        if ((e->stream_id & 2) == 0) read(c, st, e->stream_id);
        break;
      case quic::Event::Type::stream_writable:
        respond(c, st, e->stream_id);
        break;
      case quic::Event::Type::stream_reset:
        st.streams.erase(e->stream_id);
        break;
      case quic::Event::Type::datagram_received:
        // Echo requests go straight back (DATAGRAM RTT measurement).
        if (e->data.size() >= 8 && get_be64(e->data.data()) == kDatagramMagic) {
          if (c.send_datagram(Bytes{e->data}).ok()) ++stats_.datagrams_echoed;
        }
        break;
      default:
        break;
    }
  }
}

void PerfServer::read(quic::Connection& c, Conn& st, uint64_t id) {
  auto it = st.streams.find(id);
  bool fresh = false;
  if (it == st.streams.end()) {
    it = st.streams.emplace(id, Stream{}).first;
    fresh = true;
  }
  Stream& s = it->second;
  if (s.request_done) return;
  while (true) {
    auto r = c.stream_read(id, MutBytes{buf_});
    if (!r.ok() || (fresh && r->bytes == 0)) {
      // A late event for a stream already answered (its state is gone).
      if (fresh) st.streams.erase(it);
      return;
    }
    if (fresh) ++stats_.streams;
    fresh = false;
    size_t used = 0;
    while (s.header_len < 8 && used < r->bytes) s.header[s.header_len++] = buf_[used++];
    stats_.bytes_received += r->bytes - used;
    if (r->fin) {
      if (s.header_len < 8) {
        // A request without its size: refuse the stream (draft: protocol error).
        (void)c.stream_reset(id, 1);
        st.streams.erase(it);
        return;
      }
      s.requested = get_be64(s.header);
      s.request_done = true;
      respond(c, st, id);
      return;
    }
    if (r->bytes == 0) return;
  }
}

void PerfServer::respond(quic::Connection& c, Conn& st, uint64_t id) {
  auto it = st.streams.find(id);
  if (it == st.streams.end()) return;
  Stream& s = it->second;
  if (!s.request_done || s.response_done) return;
  if (s.requested == 0) {
    s.response_done = c.stream_write(id, {}, true).ok();
  }
  while (s.sent < s.requested) {
    Bytes chunk = pattern_.get(s.sent, static_cast<size_t>(std::min<uint64_t>(64 * 1024, s.requested - s.sent)));
    size_t len = chunk.size();
    bool last = s.sent + len == s.requested;
    auto n = c.stream_write(id, chunk, last);
    if (!n.ok()) {
      st.streams.erase(it);
      return;
    }
    s.sent += *n;
    stats_.bytes_sent += *n;
    if (*n < len) return;  // stream_writable brings us back
    if (last) s.response_done = true;
  }
  if (s.response_done) st.streams.erase(it);
}

// ------------------------------------------------------------------ client

PerfClient::PerfClient(const ClientOptions& options) : opts_(options) {
  if (opts_.streams == 0) opts_.streams = 1;
  if (opts_.connections == 0) opts_.connections = 1;
  if (opts_.requests == 0) opts_.requests = opts_.streams;
  if (opts_.verify) expected_sha_ = pattern_sha256(opts_.download);
}

PerfClient::~PerfClient() {
  if (loop_ && stop_timer_.valid()) loop_->cancel(stop_timer_);
}

Status PerfClient::start(net::QuicDriver& driver) { return start(std::vector<net::QuicDriver*>{&driver}); }

Status PerfClient::start(const std::vector<net::QuicDriver*>& drivers) {
  if (drivers.empty()) return Error::app(0, "no driver");
  drivers_ = drivers;
  loop_ = &drivers_[0]->loop();
  first_connect_ = io::monotonic_now();
  connect_next(first_connect_);
  if (started_ == 0) return Error::app(0, "no connection could be started");
  return {};
}

void PerfClient::connect_next(Time now) {
  if (stopping_) return;
  while (started_ < opts_.connections && (opts_.concurrency == 0 || working_ < opts_.concurrency)) {
    net::QuicDriver* d = drivers_[next_driver_++ % drivers_.size()];
    auto c = d->connect(opts_.server);
    ++started_;
    if (!c.ok()) {
      ++result_.connections_failed;
      ++finished_;
      if (result_.first_error.empty()) result_.first_error = c.error().detail;
      continue;
    }
    Conn& st = conns_[*c];
    st.started = now;
    ++working_;
  }
  if (conns_.empty() && finished_ >= started_) done_ = true;
}

// The connection did its work (or ended): the next one may start.
void PerfClient::retire(Conn& st, Time now) {
  if (!st.working) return;
  st.working = false;
  --working_;
  connect_next(now);
}

bool PerfClient::time_up(Time now) const {
  return opts_.duration > Duration::zero() && have_first_request_ &&
         now >= first_request_ + opts_.duration;
}

void PerfClient::stop() {
  if (stopping_) return;
  stopping_ = true;
  Time now = io::monotonic_now();
  if (last_byte_ < first_request_ || opts_.duration > Duration::zero()) last_byte_ = now;
  for (auto& [c, st] : conns_) {
    if (!st.closing) {
      st.closing = true;
      // Connections that did all their work count as good.
      if (st.handshake_done && (opts_.hold || opts_.duration > Duration::zero()))
        ++result_.connections_ok;
      c->close(0, "done");
    }
  }
  for (net::QuicDriver* d : drivers_) d->wake();
  if (conns_.empty()) done_ = true;
}

void PerfClient::on_tick(Time now) {
  if (!stopping_ && time_up(now)) stop();
}

void PerfClient::on_events(quic::Connection& c, Time now) {
  auto it = conns_.find(&c);
  if (it == conns_.end()) return;
  Conn& st = it->second;
  while (auto e = c.poll_event()) {
    switch (e->type) {
      case quic::Event::Type::handshake_done: {
        st.handshake_done = true;
        ++established_;
        double hs = ms(now - st.started);
        handshake_ms_sum_ += hs;
        result_.handshake_ms_max = std::max(result_.handshake_ms_max, hs);
        result_.handshake_ms_mean = handshake_ms_sum_ / established_;
        last_handshake_ = now;
        result_.handshakes_seconds = static_cast<double>((now - first_connect_).count()) / 1e9;
        if (result_.cipher.empty()) {
          result_.cipher = quic::cipher_suite_name(c.tls().cipher_suite());
          result_.alpn = std::string(c.alpn());
        }
        if (opts_.handshake_only) {
          st.closing = true;
          ++result_.connections_ok;
          c.close(0, "handshake only");
          retire(st, now);
        } else {
          open_more(c, st, now);
        }
        break;
      }
      case quic::Event::Type::stream_readable:
        read_response(c, st, e->stream_id, now);
        break;
      case quic::Event::Type::stream_writable: {
        auto s = st.streams.find(e->stream_id);
        if (s != st.streams.end()) write_request(c, e->stream_id, s->second, now);
        break;
      }
      case quic::Event::Type::stream_reset:
        if (st.streams.erase(e->stream_id)) {
          if (result_.first_error.empty())
            result_.first_error = fmt::format("server reset stream {}", e->stream_id);
          ++st.requests_done;
          ++result_.verify_failures;
        }
        break;
      case quic::Event::Type::datagram_received:
        if (e->data.size() >= 16 && get_be64(e->data.data()) == kDatagramMagic &&
            get_be64(e->data.data() + 8) == st.pings_sent && st.pings_done < st.pings_sent) {
          result_.datagram_rtt_us.push_back(static_cast<double>((now - st.ping_sent_at).count()) / 1e3);
          ++st.pings_done;
          if (st.pings_done < opts_.datagram_pings) send_ping(c, st, now);
          else maybe_finish(c, st, now);
        }
        break;
      case quic::Event::Type::connection_closed:
        if (!st.closing) {
          ++result_.connections_failed;
          if (result_.first_error.empty()) {
            const auto& ci = e->close;
            result_.first_error = fmt::format(
                "connection closed{}: error 0x{:x}{}{}", ci.by_peer ? " by peer" : "",
                ci.error_code, ci.idle_timeout ? " (idle timeout)" : "",
                ci.reason.empty() ? "" : " " + ci.reason);
          }
          st.closing = true;
        }
        retire(st, now);
        break;
      default:
        break;
    }
  }
  // Opening new streams may have been refused (MAX_STREAMS); retry.
  if (st.handshake_done && !st.closing && !opts_.handshake_only) open_more(c, st, now);
}

void PerfClient::open_more(quic::Connection& c, Conn& st, Time now) {
  if (stopping_ || st.closing) return;
  const bool timed = opts_.duration > Duration::zero();
  while (st.streams.size() < opts_.streams && (timed || st.requests_started < opts_.requests) &&
         !time_up(now)) {
    auto id = c.open_stream(true);
    if (!id.ok()) break;
    ++st.requests_started;
    if (!have_first_request_) {
      have_first_request_ = true;
      first_request_ = now;
      if (timed) {
        stop_timer_ = loop_->call_at(now + opts_.duration, [this] {
          stop_timer_ = {};
          stop();
        });
      }
    }
    Stream& s = st.streams[*id];
    write_request(c, *id, s, now);
  }
  maybe_finish(c, st, now);
}

void PerfClient::write_request(quic::Connection& c, uint64_t id, Stream& s, Time) {
  if (s.fin_sent) return;
  if (s.header_sent < 8) {
    uint8_t hdr[8];
    put_be64(hdr, opts_.download);
    bool fin = opts_.upload == 0;
    auto n = c.stream_write(id, Bytes{hdr + s.header_sent, 8 - s.header_sent}, fin);
    if (!n.ok()) return;
    s.header_sent += *n;
    if (s.header_sent < 8) return;
    if (fin) {
      s.fin_sent = true;
      return;
    }
  }
  while (s.upload_sent < opts_.upload) {
    Bytes chunk = pattern_.get(s.upload_sent, static_cast<size_t>(std::min<uint64_t>(64 * 1024, opts_.upload - s.upload_sent)));
    size_t len = chunk.size();
    bool last = s.upload_sent + len == opts_.upload;
    auto n = c.stream_write(id, chunk, last);
    if (!n.ok()) return;
    s.upload_sent += *n;
    result_.bytes_sent += *n;
    if (*n < len) return;
    if (last) s.fin_sent = true;
  }
}

void PerfClient::read_response(quic::Connection& c, Conn& st, uint64_t id, Time now) {
  auto it = st.streams.find(id);
  if (it == st.streams.end()) return;
  Stream& s = it->second;
  while (true) {
    auto r = c.stream_read(id, MutBytes{buf_});
    if (!r.ok()) return;
    s.received += r->bytes;
    result_.bytes_received += r->bytes;
    if (opts_.verify && r->bytes) s.sha.update(Bytes{buf_.data(), r->bytes});
    if (r->fin) {
      ++st.requests_done;
      ++result_.requests_done;
      last_byte_ = now;
      if (opts_.verify) {
        auto digest = s.sha.finish();
        result_.response_sha256.push_back(digest);
        if (s.received != opts_.download || digest != expected_sha_) {
          ++result_.verify_failures;
          if (result_.first_error.empty())
            result_.first_error = fmt::format("stream {}: {} bytes, SHA-256 mismatch", id, s.received);
        }
      } else if (s.received != opts_.download) {
        ++result_.verify_failures;
      }
      st.streams.erase(it);
      open_more(c, st, now);
      return;
    }
    if (r->bytes == 0) return;
  }
}

void PerfClient::send_ping(quic::Connection& c, Conn& st, Time) {
  std::vector<uint8_t> p(std::max<size_t>(opts_.datagram_size, 16));
  fill_pattern(0, MutBytes{p});
  put_be64(p.data(), kDatagramMagic);
  put_be64(p.data() + 8, ++st.pings_sent);
  // The loop's `now` is the wake-up time; this is closer to the real send.
  st.ping_sent_at = io::monotonic_now();
  if (!c.send_datagram(Bytes{p}).ok()) {
    if (result_.first_error.empty()) result_.first_error = "DATAGRAM not accepted by the peer";
    st.pings_done = st.pings_sent = opts_.datagram_pings;
  }
}

void PerfClient::maybe_finish(quic::Connection& c, Conn& st, Time now) {
  if (st.closing || stopping_) return;
  if (opts_.duration > Duration::zero()) return;  // stop() ends time mode
  if (st.requests_done < opts_.requests) return;
  if (opts_.datagram_pings && st.pings_done < opts_.datagram_pings) {
    if (st.pings_sent == st.pings_done) send_ping(c, st, now);
    return;
  }
  retire(st, now);
  if (opts_.hold) return;
  st.closing = true;
  ++result_.connections_ok;
  c.close(0, "done");
}

void PerfClient::on_removed(quic::Connection& c) {
  auto it = conns_.find(&c);
  if (it == conns_.end()) return;
  if (it->second.handshake_done) {
    // counted in on_events/stop
  } else if (!it->second.closing) {
    ++result_.connections_failed;
  }
  Time now = loop_->now();
  result_.last_stats = c.stats();
  if (it->second.working) {
    it->second.working = false;
    --working_;
  }
  conns_.erase(it);
  ++finished_;
  if (last_byte_ >= first_request_ && have_first_request_)
    result_.seconds = static_cast<double>((last_byte_ - first_request_).count()) / 1e9;
  connect_next(now);
  if (finished_ >= opts_.connections || (stopping_ && conns_.empty())) done_ = true;
}

}  // namespace wt::perf
