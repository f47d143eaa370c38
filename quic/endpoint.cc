#include "quic/endpoint.h"

#include <algorithm>

#include "lib/log.h"
#include "quic/version.h"

namespace wt::quic {

namespace {
constexpr size_t kMinInitialDatagram = 1200;  // RFC 9000 §14.1
}

Endpoint::Endpoint(const EndpointConfig& config) : cfg_(config) {}
Endpoint::~Endpoint() = default;

Result<Connection*> Endpoint::connect(const Path& path, Time now) {
  return connect(path, now, cfg_.conn);
}

Result<Connection*> Endpoint::connect(const Path& path, Time now, const ConnectionConfig& config) {
  WT_ASSIGN(auto c, Connection::connect(config, path, now));
  Connection* p = c.get();
  conns_.push_back(std::move(c));
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
    return;
  }
  if (!cfg_.server) {
    ++stats_.datagrams_dropped;
    return;
  }
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
  auto c = Connection::accept(cfg_.conn, path, info, now);
  if (!c.ok()) {
    log::warn("quic: cannot accept connection: {}", c.error().detail);
    ++stats_.datagrams_dropped;
    return;
  }
  Connection* p = c->get();
  conns_.push_back(std::move(*c));
  // The client keeps using its chosen DCID until it sees our SCID.
  by_cid_[info.dcid] = p;
  accepted_.push_back(p);
  ++stats_.connections_accepted;
  p->receive(datagram, path, ecn, now);
  sync_cids(*p);
}

SendBatch Endpoint::send(MutBytes out, Time now) {
  const size_t n = conns_.size();
  for (size_t i = 0; i < n; ++i) {
    Connection& c = *conns_[(send_pos_ + i) % n];
    SendBatch b = c.send(out, now);
    if (b.bytes) {
      send_pos_ = (send_pos_ + i + 1) % n;
      return b;
    }
  }
  return {};
}

Time Endpoint::next_timeout() const {
  Time t = kTimeInfinite;
  for (const auto& c : conns_) t = std::min(t, c->next_timeout());
  return t;
}

void Endpoint::on_timeout(Time now) {
  for (auto& c : conns_) {
    if (c->next_timeout() <= now) {
      c->on_timeout(now);
      sync_cids(*c);
    }
  }
}

Connection* Endpoint::accept() {
  if (accept_pos_ >= accepted_.size()) {
    accepted_.clear();
    accept_pos_ = 0;
    return nullptr;
  }
  return accepted_[accept_pos_++];
}

void Endpoint::remove_closed() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    Connection* c = it->get();
    if (!c->is_closed() || c->has_events()) {
      ++it;
      continue;
    }
    if (last_conn_ == c) last_conn_ = nullptr;
    for (auto m = by_cid_.begin(); m != by_cid_.end();) {
      if (m->second == c) m = by_cid_.erase(m);
      else ++m;
    }
    accepted_.erase(std::remove(accepted_.begin(), accepted_.end(), c), accepted_.end());
    accept_pos_ = std::min(accept_pos_, accepted_.size());
    it = conns_.erase(it);
  }
}

}  // namespace wt::quic
