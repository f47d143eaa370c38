#include "quic/qlog.h"

#include <fmt/format.h>

namespace wt::quic {

namespace {

double ms(Duration d) { return static_cast<double>(d.count()) / 1e6; }

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += c;
    }
  }
  return out;
}

std::string sent_frame_json(const SentFrame& f) {
  using K = SentFrame::Kind;
  switch (f.kind) {
    case K::stream:
      return fmt::format(R"({{"frame_type":"stream","stream_id":{},"offset":{},"length":{},"fin":{}}})",
                         f.id, f.offset, f.length, f.fin);
    case K::crypto: return fmt::format(R"({{"frame_type":"crypto","offset":{},"length":{}}})", f.offset, f.length);
    case K::ack: return fmt::format(R"({{"frame_type":"ack","acked_ranges":[[0,{}]]}})", f.offset);
    case K::ping: return R"({"frame_type":"ping"})";
    case K::datagram: return fmt::format(R"({{"frame_type":"datagram","length":{}}})", f.length);
    case K::max_data: return fmt::format(R"({{"frame_type":"max_data","maximum":{}}})", f.offset);
    case K::max_stream_data:
      return fmt::format(R"({{"frame_type":"max_stream_data","stream_id":{},"maximum":{}}})", f.id, f.offset);
    case K::reset_stream: return fmt::format(R"({{"frame_type":"reset_stream","stream_id":{}}})", f.id);
    case K::stop_sending: return fmt::format(R"({{"frame_type":"stop_sending","stream_id":{}}})", f.id);
    case K::handshake_done: return R"({"frame_type":"handshake_done"})";
    case K::new_connection_id:
      return fmt::format(R"({{"frame_type":"new_connection_id","sequence_number":{}}})", f.id);
    case K::retire_connection_id:
      return fmt::format(R"({{"frame_type":"retire_connection_id","sequence_number":{}}})", f.id);
    default: return R"({"frame_type":"unknown"})";
  }
}

}  // namespace

const char* qlog_packet_type(PacketType t) {
  switch (t) {
    case PacketType::initial: return "initial";
    case PacketType::zero_rtt: return "0RTT";
    case PacketType::handshake: return "handshake";
    case PacketType::retry: return "retry";
    case PacketType::one_rtt: return "1RTT";
    case PacketType::version_negotiation: return "version_negotiation";
  }
  return "unknown";
}

std::string qlog_frame(const Frame& frame) {
  return std::visit(
      [](const auto& f) -> std::string {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, StreamFrame>) {
          return fmt::format(R"({{"frame_type":"stream","stream_id":{},"offset":{},"length":{},"fin":{}}})",
                             f.stream_id, f.offset, f.data.size(), f.fin);
        } else if constexpr (std::is_same_v<T, AckFrame>) {
          std::string r = R"({"frame_type":"ack","acked_ranges":[)";
          bool first = true;
          for (const AckRange& a : f) {
            r += fmt::format("{}[{},{}]", first ? "" : ",", a.smallest, a.largest);
            first = false;
          }
          return r + "]}";
        } else if constexpr (std::is_same_v<T, CryptoFrame>) {
          return fmt::format(R"({{"frame_type":"crypto","offset":{},"length":{}}})", f.offset, f.data.size());
        } else if constexpr (std::is_same_v<T, PaddingFrame>) {
          return fmt::format(R"({{"frame_type":"padding","length":{}}})", f.length);
        } else if constexpr (std::is_same_v<T, ConnectionCloseFrame>) {
          return fmt::format(R"({{"frame_type":"connection_close","error_space":"{}","raw_error_code":{}}})",
                             f.application ? "application" : "transport", f.error_code);
        } else if constexpr (std::is_same_v<T, MaxDataFrame>) {
          return fmt::format(R"({{"frame_type":"max_data","maximum":{}}})", f.maximum_data);
        } else {
          return fmt::format(R"({{"frame_type":"{}"}})", frame_name(frame_type_of(Frame{f})));
        }
      },
      frame);
}

Qlog::Qlog(std::shared_ptr<QlogSink> sink, bool server, std::string_view odcid_hex, Time start)
    : sink_(std::move(sink)), start_(start) {
  if (!sink_) return;
  // The JSON-SEQ header record (qlog main schema §5).
  sink_->write(fmt::format(
      "\x1e{{\"qlog_version\":\"0.3\",\"qlog_format\":\"JSON-SEQ\",\"title\":\"wtcpp\","
      "\"trace\":{{\"vantage_point\":{{\"type\":\"{}\"}},\"common_fields\":{{\"ODCID\":\"{}\","
      "\"time_format\":\"relative\",\"reference_time\":0}}}}}}\n",
      server ? "server" : "client", odcid_hex));
}

void Qlog::event(Time t, std::string_view name, const std::string& data) {
  sink_->write(fmt::format("\x1e{{\"time\":{:.3f},\"name\":\"{}\",\"data\":{}}}\n", ms(t - start_), name, data));
}

void Qlog::packet_sent(Time t, PacketType type, uint64_t pn, size_t size, const SentFrames& frames) {
  if (!sink_) return;
  std::string fr;
  for (const SentFrame& f : frames) {
    if (!fr.empty()) fr += ',';
    fr += sent_frame_json(f);
  }
  event(t, "transport:packet_sent",
        fmt::format(R"({{"header":{{"packet_type":"{}","packet_number":{}}},"raw":{{"length":{}}},"frames":[{}]}})",
                    qlog_packet_type(type), pn, size, fr));
}

void Qlog::packet_received(Time t, PacketType type, uint64_t pn, size_t size, Bytes payload) {
  if (!sink_) return;
  std::string fr;
  Reader r{payload};
  while (!r.empty()) {
    auto f = decode_frame(r);
    if (!f.ok()) break;
    if (!fr.empty()) fr += ',';
    fr += qlog_frame(*f);
  }
  event(t, "transport:packet_received",
        fmt::format(R"({{"header":{{"packet_type":"{}","packet_number":{}}},"raw":{{"length":{}}},"frames":[{}]}})",
                    qlog_packet_type(type), pn, size, fr));
}

void Qlog::packet_dropped(Time t, size_t size, std::string_view trigger) {
  if (!sink_) return;
  event(t, "transport:packet_dropped",
        fmt::format(R"({{"raw":{{"length":{}}},"trigger":"{}"}})", size, json_escape(trigger)));
}

void Qlog::packet_lost(Time t, PacketType type, uint64_t pn) {
  if (!sink_) return;
  event(t, "recovery:packet_lost",
        fmt::format(R"({{"header":{{"packet_type":"{}","packet_number":{}}}}})", qlog_packet_type(type), pn));
}

void Qlog::metrics_updated(Time t, Duration min_rtt, Duration smoothed_rtt, Duration latest_rtt,
                           Duration rttvar, uint64_t cwnd, uint64_t bytes_in_flight) {
  if (!sink_) return;
  event(t, "recovery:metrics_updated",
        fmt::format(R"({{"min_rtt":{:.3f},"smoothed_rtt":{:.3f},"latest_rtt":{:.3f},"rtt_variance":{:.3f},)"
                    R"("congestion_window":{},"bytes_in_flight":{}}})",
                    ms(min_rtt), ms(smoothed_rtt), ms(latest_rtt), ms(rttvar), cwnd, bytes_in_flight));
  last_metrics_cwnd_ = cwnd;
}

void Qlog::parameters_set(Time t, bool local, const std::string& summary_json) {
  if (!sink_) return;
  std::string d = fmt::format(R"({{"owner":"{}",)", local ? "local" : "remote");
  d += summary_json.size() > 2 ? summary_json.substr(1) : "}";
  event(t, "transport:parameters_set", d);
}

void Qlog::connection_state(Time t, std::string_view state) {
  if (!sink_) return;
  event(t, "transport:connection_state_updated", fmt::format(R"({{"new":"{}"}})", state));
}

void Qlog::connection_closed(Time t, bool local, uint64_t code, bool application, std::string_view reason) {
  if (!sink_) return;
  event(t, "transport:connection_closed",
        fmt::format(R"({{"owner":"{}","{}":{},"reason":"{}"}})", local ? "local" : "remote",
                    application ? "application_code" : "connection_code", code, json_escape(reason)));
}

void Qlog::key_updated(Time t, std::string_view key_type) {
  if (!sink_) return;
  event(t, "security:key_updated", fmt::format(R"({{"key_type":"{}","trigger":"tls"}})", key_type));
}

}  // namespace wt::quic
