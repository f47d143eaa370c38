// A two-way transfer on one bidirectional stream, shared by the key update,
// migration, ECN, PMTU and stateless reset scenarios: the client uploads
// `up` pattern bytes, the server answers with `down` bytes as soon as the
// stream opens, and both sides check every byte.
#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "test/sim/scenario.h"

namespace wt::sim {

struct TwoWayTransfer {
  uint64_t up = 0, down = 0;
  uint64_t up_key = 0xc11e, down_key = 0x5e7e;
  std::optional<uint64_t> cstream, sstream;
  std::optional<PatternWriter> cw, sw;
  std::optional<PatternReader> cr, sr;
  std::vector<uint8_t> scratch = std::vector<uint8_t>(64 * 1024);
  bool error = false;
  // Extra application logic run after the transfer's own, on each side.
  std::function<void(quic::Connection&, Time)> client_extra, server_extra;

  TwoWayTransfer(uint64_t up_bytes, uint64_t down_bytes) : up(up_bytes), down(down_bytes) {}

  void attach(Scenario& s) {
    s.client_pump = [this](quic::Connection& c, Time now) {
      if (!cstream && c.is_established()) {
        auto id = c.open_stream(true);
        if (!id) {
          error = true;
          return;
        }
        cstream = *id;
        cw.emplace(*id, up_key, up);
        cr.emplace(*id, down_key);
      }
      if (cw) error |= !cw->write(c);
      if (cr) cr->read(c, MutBytes(scratch));
      if (client_extra) client_extra(c, now);
    };
    s.server_pump = [this](quic::Connection& c, Time now) {
      if (sstream && !sw) {
        sw.emplace(*sstream, down_key, down);
        sr.emplace(*sstream, up_key);
      }
      if (sw) error |= !sw->write(c);
      if (sr) sr->read(c, MutBytes(scratch));
      if (server_extra) server_extra(c, now);
    };
    s.on_server_event = [this](quic::Connection&, const quic::Event& ev, Time) {
      if ((ev.type == quic::Event::Type::stream_opened ||
           ev.type == quic::Event::Type::stream_readable) &&
          !sstream && (ev.stream_id & 3) == 0)
        sstream = ev.stream_id;
    };
  }
  bool corrupt() const { return (cr && cr->corrupt()) || (sr && sr->corrupt()); }
  bool done() const { return cr && cr->fin() && sr && sr->fin(); }
  bool finished_or_failed() const { return done() || error || corrupt(); }
  uint64_t downloaded() const { return cr ? cr->received() : 0; }
  uint64_t uploaded() const { return sr ? sr->received() : 0; }
};

inline LinkConfig feature_link(Duration delay, uint64_t bps, size_t queue, double loss = 0) {
  LinkConfig c;
  c.delay = delay;
  c.bandwidth_bps = bps;
  c.queue_bytes = queue;
  c.loss = loss;
  return c;
}

}  // namespace wt::sim
