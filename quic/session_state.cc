#include "quic/session_state.h"

#include <algorithm>

namespace wt::quic {

namespace {
constexpr uint8_t kMagic[4] = {'w', 't', 'S', 'S'};
constexpr uint8_t kFormat = 1;

Error bad(const char* what) { return Error(TransportError::internal_error, what); }
}  // namespace

TransportParameters remembered_params(const TransportParameters& s) {
  TransportParameters r;
  r.active_connection_id_limit = s.active_connection_id_limit;
  r.initial_max_data = s.initial_max_data;
  r.initial_max_stream_data_bidi_local = s.initial_max_stream_data_bidi_local;
  r.initial_max_stream_data_bidi_remote = s.initial_max_stream_data_bidi_remote;
  r.initial_max_stream_data_uni = s.initial_max_stream_data_uni;
  r.initial_max_streams_bidi = s.initial_max_streams_bidi;
  r.initial_max_streams_uni = s.initial_max_streams_uni;
  r.max_datagram_frame_size = s.max_datagram_frame_size;
  return r;
}

std::vector<uint8_t> SessionState::encode() const {
  const auto tp_len = params.encoded_size();
  if (!tp_len) return {};
  const size_t tp_size = *tp_len;
  std::vector<uint8_t> out(4 + 1 + 4 + 8 + tp_size + 8 + tls_session.size());
  Writer w{MutBytes{out}};
  w.bytes(kMagic);
  w.u8(kFormat);
  w.u32(version);
  w.varint(tp_size);
  if (tp_size && !params.encode(w).ok()) return {};
  w.varint(tls_session.size());
  w.bytes(tls_session);
  if (!w.ok()) return {};
  out.resize(w.written());
  return out;
}

Result<SessionState> SessionState::decode(Bytes b) {
  Reader r{b};
  Bytes magic = r.bytes(4);
  if (!r.ok() || !std::equal(magic.begin(), magic.end(), kMagic)) return bad("not a session state");
  if (r.u8() != kFormat) return bad("unknown session state format");
  SessionState s;
  s.version = r.u32();
  Bytes tp = r.bytes(r.varint());
  Bytes tls = r.bytes(r.varint());
  if (!r.ok() || !r.empty() || tls.empty()) return bad("truncated session state");
  auto params = TransportParameters::decode(tp, Role::server);
  if (!params) return bad("invalid transport parameters in session state");
  s.params = remembered_params(*params);
  s.tls_session.assign(tls.begin(), tls.end());
  return s;
}

}  // namespace wt::quic
