#include "quic/endpoint.h"

#include <algorithm>
#include <optional>
#include <string>

#include "lib/log.h"
#include "quic/version.h"

namespace wt::quic {

namespace {
constexpr size_t kMinInitialDatagram = 1200;  // RFC 9000 §14.1

// A client's ODCID is chosen inside Connection::connect: its first qlog
// records wait here until the factory can name the file.
class PendingQlog final : public QlogSink {
 public:
  void write(std::string_view record) override {
    if (target_) target_->write(record);
    else buffer_.append(record);
  }
  void attach(std::shared_ptr<QlogSink> target) {
    target_ = std::move(target);
    if (target_ && !buffer_.empty()) target_->write(buffer_);
    buffer_.clear();
    buffer_.shrink_to_fit();
  }

 private:
  std::string buffer_;
  std::shared_ptr<QlogSink> target_;
};
}  // namespace

Endpoint::Endpoint(const EndpointConfig& config)
    : cfg_(config), reset_limiter_(config.stateless_reset_rate, config.stateless_reset_burst) {
  init_reset_key();  // endpoint_reset.cc
}
Endpoint::~Endpoint() = default;

Result<Connection*> Endpoint::connect(const Path& path, Time now) {
  return connect(path, now, cfg_.conn);
}

Result<Connection*> Endpoint::connect(const Path& path, Time now, const ConnectionConfig& config) {
  if (!config.reset_key) {  // our connections share the endpoint's static key (endpoint_reset.cc)
    ConnectionConfig with_key = config;
    with_key.reset_key = cfg_.reset_key;
    return connect(path, now, with_key);
  }
  std::shared_ptr<PendingQlog> pending;
  std::unique_ptr<Connection> c;
  if (cfg_.qlog_factory && !config.qlog) {
    ConnectionConfig with_qlog = config;
    pending = std::make_shared<PendingQlog>();
    with_qlog.qlog = pending;
    WT_ASSIGN(c, Connection::connect(with_qlog, path, now));
    pending->attach(cfg_.qlog_factory(c->original_dcid().hex(), false));
  } else {
    WT_ASSIGN(c, Connection::connect(config, path, now));
  }
  Connection* p = c.get();
  conns_.push_back(std::move(c));
  adopt(*p);  // endpoint_schedule.cc
  sync_cids(*p);
  return p;
}

void Endpoint::sync_cids(Connection& c) {
  added_.clear();
  removed_.clear();
  c.take_cid_changes(added_, removed_);
  for (const auto& id : added_) by_cid_[id] = &c;
  for (const auto& id : removed_) {
    if (id == last_cid_) last_conn_ = nullptr;
    auto it = by_cid_.find(id);
    if (it != by_cid_.end() && it->second == &c) by_cid_.erase(it);
  }
  sync_reset_tokens(c);  // endpoint_reset.cc
}

Connection* Endpoint::route(Bytes datagram) {
  auto inv = parse_invariant_header(datagram, cfg_.conn.cid_length);
  if (!inv.ok()) return nullptr;
  // Consecutive datagrams mostly belong to one connection (a GRO batch).
  if (last_conn_ && last_cid_.size() == inv->dcid.size() &&
      std::equal(inv->dcid.begin(), inv->dcid.end(), last_cid_.data()))
    return last_conn_;
  ConnectionId cid(inv->dcid);
  auto it = by_cid_.find(cid);
  if (it == by_cid_.end()) return nullptr;
  last_cid_ = cid;
  last_conn_ = it->second;
  return it->second;
}

void Endpoint::receive(MutBytes datagram, const Path& path, Ecn ecn, Time now) {
  ++stats_.datagrams_received;
  if (Connection* c = route(datagram)) {
    c->receive(datagram, path, ecn, now);
    sync_cids(*c);
    after_receive(*c, now);  // NEW_TOKEN (endpoint_admission.cc)
    return;
  }
  // Stateless resets, received or owed (RFC 9000 §10.3, endpoint_reset.cc).
  if (on_unroutable_short(datagram, path, now)) return;
  if (!cfg_.server) {
    ++stats_.datagrams_dropped;
    return;
  }
  // Versions we do not speak get Version Negotiation (endpoint_admission.cc).
  if (answer_unsupported_version(datagram, path)) return;
  // A new connection needs an Initial of a version we speak in a datagram of
  // at least 1200 bytes (RFC 9000 §14.1).
  HeaderParseOptions opts;
  opts.short_dcid_len = cfg_.conn.cid_length;
  auto hdr = parse_packet_header(datagram, opts);
  if (!hdr.ok() || hdr->type != PacketType::initial || datagram.size() < kMinInitialDatagram ||
      !is_supported_version(hdr->version) || hdr->dcid.size() < 8 ||
      conns_.size() >= cfg_.max_connections) {
    ++stats_.datagrams_dropped;
    return;
  }
  InitialInfo info{hdr->version, ConnectionId(hdr->dcid), ConnectionId(hdr->scid)};
  // Tokens and Retry (RFC 9000 §8.1, endpoint_admission.cc).
  if (!admit_initial(*hdr, path, now, info)) return;
  std::optional<ConnectionConfig> with_qlog;
  if (cfg_.qlog_factory && !cfg_.conn.qlog) {
    with_qlog.emplace(cfg_.conn);
    // After a Retry the connection is still named by the client's first DCID.
    const ConnectionId& odcid = info.retry_original_dcid ? *info.retry_original_dcid : info.dcid;
    with_qlog->qlog = cfg_.qlog_factory(odcid.hex(), true);
  }
  auto c = Connection::accept(with_qlog ? *with_qlog : cfg_.conn, path, info, now);
  if (!c.ok()) {
    log::warn("quic: cannot accept connection: {}", c.error().detail);
    ++stats_.datagrams_dropped;
    return;
  }
  Connection* p = c->get();
  p->receive(datagram, path, ecn, now);
  // Anyone can forge an Initial's header: keep state only for a datagram
  // that held a packet that decrypted (RFC 9000 §21.2), or one that got the
  // connection closed with an error to report.
  if (p->stats().packets_received == 0 && p->state() == Connection::State::handshaking) {
    ++stats_.datagrams_dropped;
    return;
  }
  conns_.push_back(std::move(*c));
  adopt(*p);  // endpoint_schedule.cc
  // The client keeps using its chosen DCID until it sees our SCID.
  by_cid_[info.dcid] = p;
  accepted_.push_back(p);
  ++stats_.connections_accepted;
  sync_cids(*p);
}

SendBatch Endpoint::send(MutBytes out, Time now) {
  if (stateless_count_) return send_stateless(out);  // VN, Retry (endpoint_admission.cc)
  return send_active(out, now);                        // endpoint_schedule.cc
}

// next_timeout() and on_timeout() are in endpoint_schedule.cc.

Connection* Endpoint::accept() {
  if (accept_pos_ >= accepted_.size()) {
    accepted_.clear();
    accept_pos_ = 0;
    return nullptr;
  }
  return accepted_[accept_pos_++];
}

void Endpoint::remove_closed() {
  size_t kept = 0;
  for (size_t i = 0; i < conns_.size(); ++i) {
    Connection* c = conns_[i].get();
    if (!c->is_closed() || c->has_events()) {
      if (kept != i) conns_[kept] = std::move(conns_[i]);
      ++kept;
      continue;
    }
    if (last_conn_ == c) last_conn_ = nullptr;
    // Its own CIDs and tokens, not a scan of the tables: freeing stays cheap
    // with many connections. A closed connection reports every reset token
    // it published as removed (endpoint_reset.cc).
    sync_cids(*c);
    added_.clear();
    c->routing_cids(added_);
    for (const auto& id : added_) {
      auto m = by_cid_.find(id);
      if (m != by_cid_.end() && m->second == c) by_cid_.erase(m);
    }
    accepted_.erase(std::remove(accepted_.begin(), accepted_.end(), c), accepted_.end());
    accept_pos_ = std::min(accept_pos_, accepted_.size());
    forget_scheduling(*c);  // endpoint_schedule.cc
    conns_[i].reset();
  }
  conns_.resize(kept);
}

}  // namespace wt::quic
