// qlog (draft-ietf-quic-qlog-main-schema, draft-ietf-quic-qlog-quic-events):
// JSON-SEQ records that qvis loads. The connection formats events; a sink
// supplied by the application stores them (lib/qlog_file.h writes files), so
// the core stays sans-I/O. Nothing is formatted unless a sink is set.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lib/clock.h"
#include "lib/qlog_sink.h"
#include "quic/frame.h"
#include "quic/packet_type.h"
#include "quic/sent_frame.h"

namespace wt::quic {

using wt::QlogSink;

// Formats the events of one connection.
class Qlog {
 public:
  Qlog() = default;
  Qlog(std::shared_ptr<QlogSink> sink, bool server, std::string_view odcid_hex, Time start);
  bool enabled() const { return sink_ != nullptr; }

  void packet_sent(Time t, PacketType type, uint64_t pn, size_t size, const SentFrames& frames);
  void packet_received(Time t, PacketType type, uint64_t pn, size_t size, Bytes payload);
  void packet_dropped(Time t, size_t size, std::string_view trigger);
  void packet_lost(Time t, PacketType type, uint64_t pn);
  void metrics_updated(Time t, Duration min_rtt, Duration smoothed_rtt, Duration latest_rtt,
                       Duration rttvar, uint64_t cwnd, uint64_t bytes_in_flight);
  void parameters_set(Time t, bool local, const std::string& summary_json);
  void connection_state(Time t, std::string_view state);
  void connection_closed(Time t, bool local, uint64_t code, bool application, std::string_view reason);
  void key_updated(Time t, std::string_view key_type);

 private:
  void event(Time t, std::string_view name, const std::string& data);
  std::shared_ptr<QlogSink> sink_;
  Time start_{};
  uint64_t last_metrics_cwnd_ = 0;
};

const char* qlog_packet_type(PacketType t);
// A frame as a qlog JSON object (used for received packets).
std::string qlog_frame(const Frame& f);

}  // namespace wt::quic
