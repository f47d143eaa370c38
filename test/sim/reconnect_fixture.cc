#include "test/sim/reconnect_fixture.h"

namespace wt::sim::reconnect {

using quic::Connection;
using quic::Event;

const TlsPair& tls_pair() {
  static const TlsPair pair = make_tls_pair(true);
  return pair;
}

Net::Net(const NetOptions& o)
    : sim(o.seed),
      download_(o.download),
      client_rng_(o.seed * 7919 + 1),
      server_rng_(o.seed * 7919 + 2) {
  auto make = [&](bool is_server) {
    quic::EndpointConfig ec;
    ec.server = is_server;
    ec.conn.tls = is_server ? tls_pair().server : tls_pair().client;
    ec.conn.server_name = "sim.test";
    ec.conn.rng = is_server ? &server_rng_ : &client_rng_;
    if (is_server && o.server) o.server(ec);
    if (!is_server && o.client) o.client(ec);
    return std::make_unique<EndpointNode>(ec);
  };
  client_ = make(false);
  server_ = make(true);
  sim.add_node(*client_, kClientAddr);
  sim.add_node(*server_, kServerAddr);
  sim.add_link(kClientAddr, kServerAddr, o.c2s);
  sim.add_link(kServerAddr, kClientAddr, o.s2c);
  client_->app = [this](Time now) { client_app(now); };
  server_->app = [this](Time now) { server_app(now); };
}

ClientConn& Net::connect(const quic::ConnectionConfig& cfg, uint64_t upload, bool start_early,
                         const Address& from) {
  if (!(from == kClientAddr) && !sim.link(from, kServerAddr)) {
    sim.add_address(0, from);
    sim.add_link(from, kServerAddr, sim.link(kClientAddr, kServerAddr)->config());
    sim.add_link(kServerAddr, from, sim.link(kServerAddr, kClientAddr)->config());
  }
  auto c = client_ep().connect(Path{from, kServerAddr}, sim.now(), cfg);
  if (!c) throw std::runtime_error(std::string("connect failed: ") + c.error().detail);
  auto cc = std::make_unique<ClientConn>();
  cc->conn = *c;
  cc->upload = upload;
  cc->start_early = start_early;
  clients.push_back(std::move(cc));
  return *clients.back();
}

bool Net::transfer(ClientConn& c, Duration max) {
  return run_until([&] { return c.done(download_) || c.closed.has_value(); }, max) &&
         c.done(download_);
}

ServerConn* Net::server_for(const ClientConn& c) {
  for (auto& s : servers) {
    const auto& scid = s->conn->peer_params().initial_source_connection_id;
    if (scid && *scid == c.conn->initial_scid()) return s.get();
  }
  return nullptr;
}

void Net::client_app(Time) {
  for (auto& cp : clients) {
    ClientConn& c = *cp;
    if (c.closed) continue;
    Connection& conn = *c.conn;
    while (auto ev = conn.poll_event()) {
      if (ev->type == Event::Type::connection_closed) c.closed = ev->close;
    }
    if (c.closed) continue;
    if (!c.stream && (conn.is_established() || c.start_early)) {
      // Before the handshake this works only with remembered limits (0-RTT).
      auto id = conn.open_stream(true);
      if (id) {
        c.stream = *id;
        c.opened_before_handshake = !conn.is_established();
        c.writer.emplace(*id, kUpKey, c.upload);
        c.reader.emplace(*id, kDownKey);
      }
    }
    if (c.writer && !c.writer->write(conn)) c.stream_error = true;
    if (c.reader) c.reader->read(conn, MutBytes(scratch_));
    while (auto t = conn.take_session_ticket()) c.tickets.push_back(std::move(*t));
    while (auto t = conn.take_new_token()) c.tokens.push_back(std::move(*t));
  }
}

void Net::server_app(Time) {
  while (Connection* c = server_ep().accept()) {
    auto s = std::make_unique<ServerConn>();
    s->conn = c;
    servers.push_back(std::move(s));
  }
  for (auto& sp : servers) {
    ServerConn& s = *sp;
    if (s.closed) continue;
    Connection& conn = *s.conn;
    while (auto ev = conn.poll_event()) {
      switch (ev->type) {
        case Event::Type::connection_closed:
          s.closed = ev->close;
          break;
        case Event::Type::stream_opened:
        case Event::Type::stream_readable:
          if ((ev->stream_id & 3) == 0 && !s.streams.count(ev->stream_id))
            s.streams.emplace(ev->stream_id,
                              ServerConn::Stream{PatternReader(ev->stream_id, kUpKey), {}});
          break;
        default:
          break;
      }
    }
    if (s.closed) continue;
    for (auto& [id, st] : s.streams) {
      const uint64_t before = st.reader.received();
      st.reader.read(conn, MutBytes(scratch_));
      if (st.reader.received() > before && !conn.is_established()) s.data_before_handshake = true;
      s.received += st.reader.received() - before;
      if (st.reader.corrupt()) s.corrupt = true;
      if (st.reader.fin() && !st.reader.corrupt() && !st.writer)
        st.writer.emplace(id, kDownKey, download_);
      if (st.writer && !st.writer->write(conn)) s.corrupt = true;
    }
  }
}

}  // namespace wt::sim::reconnect
