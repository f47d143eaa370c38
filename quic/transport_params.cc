#include "quic/transport_params.h"

#include <algorithm>

#include "lib/random.h"

namespace wt::quic {
namespace {

using Id = TransportParameterId;

constexpr Error param_error(const char* detail) {
  return Error(TransportError::transport_parameter_error, detail);
}

constexpr uint64_t id_value(Id id) { return static_cast<uint64_t>(id); }

// Counts the bytes Writer would produce; the same interface as Writer for the
// calls emit() makes, so one routine yields both encode and encoded_size.
class SizeCounter {
 public:
  bool ok() const { return ok_; }
  size_t written() const { return n_; }
  bool varint(uint64_t v) {
    if (v > kVarintMax) return ok_ = false;
    n_ += varint_size(v);
    return true;
  }
  bool u8(uint8_t) { return add(1); }
  bool u16(uint16_t) { return add(2); }
  bool u32(uint32_t) { return add(4); }
  bool bytes(Bytes b) { return add(b.size()); }

 private:
  bool add(size_t n) {
    n_ += n;
    return true;
  }
  size_t n_ = 0;
  bool ok_ = true;
};

template <class Sink>
void emit_int(Sink& s, Id id, uint64_t v) {
  s.varint(id_value(id));
  s.varint(v > kVarintMax ? 0 : varint_size(v));
  s.varint(v);
}

template <class Sink>
void emit_bytes(Sink& s, uint64_t id, Bytes b) {
  s.varint(id);
  s.varint(b.size());
  s.bytes(b);
}

size_t preferred_address_size(const PreferredAddress& pa) {
  return 4 + 2 + 16 + 2 + 1 + pa.connection_id.size() + 16;
}

// RFC 9000 §18: each parameter is (id, length, value), all varint-framed.
template <class Sink>
bool emit(const TransportParameters& tp, Sink& s) {
  if (tp.original_destination_connection_id)
    emit_bytes(s, id_value(Id::original_destination_connection_id),
               tp.original_destination_connection_id->bytes());
  if (tp.max_idle_timeout_ms != 0) emit_int(s, Id::max_idle_timeout, tp.max_idle_timeout_ms);
  if (tp.stateless_reset_token)
    emit_bytes(s, id_value(Id::stateless_reset_token), *tp.stateless_reset_token);
  if (tp.max_udp_payload_size != kDefaultMaxUdpPayloadSize)
    emit_int(s, Id::max_udp_payload_size, tp.max_udp_payload_size);
  if (tp.initial_max_data != 0) emit_int(s, Id::initial_max_data, tp.initial_max_data);
  if (tp.initial_max_stream_data_bidi_local != 0)
    emit_int(s, Id::initial_max_stream_data_bidi_local, tp.initial_max_stream_data_bidi_local);
  if (tp.initial_max_stream_data_bidi_remote != 0)
    emit_int(s, Id::initial_max_stream_data_bidi_remote, tp.initial_max_stream_data_bidi_remote);
  if (tp.initial_max_stream_data_uni != 0)
    emit_int(s, Id::initial_max_stream_data_uni, tp.initial_max_stream_data_uni);
  if (tp.initial_max_streams_bidi != 0)
    emit_int(s, Id::initial_max_streams_bidi, tp.initial_max_streams_bidi);
  if (tp.initial_max_streams_uni != 0)
    emit_int(s, Id::initial_max_streams_uni, tp.initial_max_streams_uni);
  if (tp.ack_delay_exponent != kDefaultAckDelayExponent)
    emit_int(s, Id::ack_delay_exponent, tp.ack_delay_exponent);
  if (tp.max_ack_delay_ms != kDefaultMaxAckDelayMs)
    emit_int(s, Id::max_ack_delay, tp.max_ack_delay_ms);
  if (tp.disable_active_migration) emit_bytes(s, id_value(Id::disable_active_migration), {});
  if (tp.preferred_address) {
    const PreferredAddress& pa = *tp.preferred_address;
    s.varint(id_value(Id::preferred_address));
    s.varint(preferred_address_size(pa));
    s.bytes(pa.ipv4_address);
    s.u16(pa.ipv4_port);
    s.bytes(pa.ipv6_address);
    s.u16(pa.ipv6_port);
    s.u8(static_cast<uint8_t>(pa.connection_id.size()));
    s.bytes(pa.connection_id.bytes());
    s.bytes(pa.stateless_reset_token);
  }
  if (tp.active_connection_id_limit != kDefaultActiveConnectionIdLimit)
    emit_int(s, Id::active_connection_id_limit, tp.active_connection_id_limit);
  if (tp.initial_source_connection_id)
    emit_bytes(s, id_value(Id::initial_source_connection_id),
               tp.initial_source_connection_id->bytes());
  if (tp.retry_source_connection_id)
    emit_bytes(s, id_value(Id::retry_source_connection_id), tp.retry_source_connection_id->bytes());
  if (tp.version_information) {
    const VersionInformation& vi = *tp.version_information;
    s.varint(id_value(Id::version_information));
    s.varint(4 * (1 + vi.available_versions.size()));
    s.u32(vi.chosen_version);
    for (uint32_t v : vi.available_versions) s.u32(v);
  }
  if (tp.max_datagram_frame_size != 0)
    emit_int(s, Id::max_datagram_frame_size, tp.max_datagram_frame_size);
  if (tp.grease_quic_bit) emit_bytes(s, id_value(Id::grease_quic_bit), {});
  if (tp.grease) {
    if (!is_grease_transport_parameter(tp.grease->id) || tp.grease->value_len > 16) return false;
    emit_bytes(s, tp.grease->id, tp.grease->value_bytes());
  }
  return s.ok();
}

// An integer parameter: exactly one varint fills the value (RFC 9000 §18).
Result<uint64_t> decode_int(Bytes value) {
  Reader r(value);
  uint64_t v = r.varint();
  if (!r.ok() || !r.empty()) return param_error("integer parameter length mismatch");
  return v;
}

Result<ConnectionId> decode_cid(Bytes value) {
  if (value.size() > kMaxCidLength) return param_error("connection ID longer than 20 bytes");
  return ConnectionId(value);
}

Result<PreferredAddress> decode_preferred_address(Bytes value) {
  // RFC 9000 §18.2, Figure 22.
  Reader r(value);
  PreferredAddress pa;
  Bytes v4 = r.bytes(4);
  pa.ipv4_port = r.u16();
  Bytes v6 = r.bytes(16);
  pa.ipv6_port = r.u16();
  size_t cid_len = r.u8();
  if (!r.ok() || cid_len > kMaxCidLength) return param_error("malformed preferred_address");
  Bytes cid = r.bytes(cid_len);
  Bytes token = r.bytes(16);
  if (!r.ok() || !r.empty()) return param_error("malformed preferred_address");
  std::copy(v4.begin(), v4.end(), pa.ipv4_address.begin());
  std::copy(v6.begin(), v6.end(), pa.ipv6_address.begin());
  pa.connection_id = ConnectionId(cid);
  std::copy(token.begin(), token.end(), pa.stateless_reset_token.begin());
  return pa;
}

Result<VersionInformation> decode_version_information(Bytes value) {
  // RFC 9368 §4: too short or not a multiple of four is a parsing failure.
  if (value.size() < 4 || value.size() % 4 != 0)
    return param_error("malformed version_information");
  Reader r(value);
  VersionInformation vi;
  vi.chosen_version = r.u32();
  vi.available_versions.reserve(r.remaining() / 4);
  while (!r.empty()) vi.available_versions.push_back(r.u32());
  return vi;
}

// Index of a known id in the duplicate bitmask, or -1.
int known_index(uint64_t id) {
  if (id <= id_value(Id::version_information)) return static_cast<int>(id);
  if (id == id_value(Id::max_datagram_frame_size)) return 18;
  if (id == id_value(Id::grease_quic_bit)) return 19;
  return -1;
}

}  // namespace

const char* transport_parameter_name(uint64_t id) {
  switch (static_cast<Id>(id)) {
    case Id::original_destination_connection_id: return "original_destination_connection_id";
    case Id::max_idle_timeout: return "max_idle_timeout";
    case Id::stateless_reset_token: return "stateless_reset_token";
    case Id::max_udp_payload_size: return "max_udp_payload_size";
    case Id::initial_max_data: return "initial_max_data";
    case Id::initial_max_stream_data_bidi_local: return "initial_max_stream_data_bidi_local";
    case Id::initial_max_stream_data_bidi_remote: return "initial_max_stream_data_bidi_remote";
    case Id::initial_max_stream_data_uni: return "initial_max_stream_data_uni";
    case Id::initial_max_streams_bidi: return "initial_max_streams_bidi";
    case Id::initial_max_streams_uni: return "initial_max_streams_uni";
    case Id::ack_delay_exponent: return "ack_delay_exponent";
    case Id::max_ack_delay: return "max_ack_delay";
    case Id::disable_active_migration: return "disable_active_migration";
    case Id::preferred_address: return "preferred_address";
    case Id::active_connection_id_limit: return "active_connection_id_limit";
    case Id::initial_source_connection_id: return "initial_source_connection_id";
    case Id::retry_source_connection_id: return "retry_source_connection_id";
    case Id::version_information: return "version_information";
    case Id::max_datagram_frame_size: return "max_datagram_frame_size";
    case Id::grease_quic_bit: return "grease_quic_bit";
  }
  return is_grease_transport_parameter(id) ? "GREASE" : "unknown";
}

GreaseTransportParameter make_grease_transport_parameter(Random& rng) {
  GreaseTransportParameter g;
  // Keep 31*N+27 within a varint: N < (2^62 - 27) / 31.
  g.id = 31 * rng.uniform((kVarintMax - 27) / 31) + 27;
  g.value_len = static_cast<uint8_t>(rng.uniform(g.value.size() + 1));
  rng.fill({g.value.data(), g.value_len});
  return g;
}

Result<bool> TransportParameterIterator::next(RawTransportParameter& out) {
  if (r_.empty()) return false;
  uint64_t id = 0, len = 0;
  if (!r_.varint(id) || !r_.varint(len) || len > r_.remaining())
    return param_error("truncated transport parameter");
  out.id = id;
  out.value = r_.bytes(static_cast<size_t>(len));
  return true;
}

Status TransportParameters::encode(Writer& w) const {
  if (!emit(*this, w))
    return Error(TransportError::internal_error, "transport parameters do not fit");
  return {};
}

Result<size_t> TransportParameters::encoded_size() const {
  SizeCounter c;
  if (!emit(*this, c))
    return Error(TransportError::internal_error, "unencodable transport parameter");
  return c.written();
}

Result<TransportParameters> TransportParameters::decode(Bytes b, Role sender) {
  TransportParameters tp;
  uint32_t seen = 0;
  std::vector<uint64_t> other_ids;  // unknown ids, checked for duplicates at the end
  TransportParameterIterator it(b);
  RawTransportParameter p;
  for (;;) {
    WT_ASSIGN(bool more, it.next(p));
    if (!more) break;
    int k = known_index(p.id);
    if (k < 0) {
      // RFC 9000 §7.4.2: unknown (including GREASE, §18.1) ids are ignored.
      other_ids.push_back(p.id);
      continue;
    }
    // RFC 9000 §7.4: a parameter sent twice is a TRANSPORT_PARAMETER_ERROR.
    if (seen & (uint32_t{1} << k)) return param_error("duplicate transport parameter");
    seen |= uint32_t{1} << k;
    switch (static_cast<Id>(p.id)) {
      case Id::original_destination_connection_id: {
        WT_ASSIGN(tp.original_destination_connection_id, decode_cid(p.value));
        break;
      }
      case Id::max_idle_timeout: {
        WT_ASSIGN(tp.max_idle_timeout_ms, decode_int(p.value));
        break;
      }
      case Id::stateless_reset_token: {
        if (p.value.size() != 16) return param_error("stateless_reset_token is not 16 bytes");
        StatelessResetToken t;
        std::copy(p.value.begin(), p.value.end(), t.begin());
        tp.stateless_reset_token = t;
        break;
      }
      case Id::max_udp_payload_size: {
        WT_ASSIGN(tp.max_udp_payload_size, decode_int(p.value));
        break;
      }
      case Id::initial_max_data: {
        WT_ASSIGN(tp.initial_max_data, decode_int(p.value));
        break;
      }
      case Id::initial_max_stream_data_bidi_local: {
        WT_ASSIGN(tp.initial_max_stream_data_bidi_local, decode_int(p.value));
        break;
      }
      case Id::initial_max_stream_data_bidi_remote: {
        WT_ASSIGN(tp.initial_max_stream_data_bidi_remote, decode_int(p.value));
        break;
      }
      case Id::initial_max_stream_data_uni: {
        WT_ASSIGN(tp.initial_max_stream_data_uni, decode_int(p.value));
        break;
      }
      case Id::initial_max_streams_bidi: {
        WT_ASSIGN(tp.initial_max_streams_bidi, decode_int(p.value));
        break;
      }
      case Id::initial_max_streams_uni: {
        WT_ASSIGN(tp.initial_max_streams_uni, decode_int(p.value));
        break;
      }
      case Id::ack_delay_exponent: {
        WT_ASSIGN(tp.ack_delay_exponent, decode_int(p.value));
        break;
      }
      case Id::max_ack_delay: {
        WT_ASSIGN(tp.max_ack_delay_ms, decode_int(p.value));
        break;
      }
      case Id::disable_active_migration:
        // RFC 9000 §18.2: a zero-length value.
        if (!p.value.empty()) return param_error("disable_active_migration has a value");
        tp.disable_active_migration = true;
        break;
      case Id::preferred_address: {
        WT_ASSIGN(tp.preferred_address, decode_preferred_address(p.value));
        break;
      }
      case Id::active_connection_id_limit: {
        WT_ASSIGN(tp.active_connection_id_limit, decode_int(p.value));
        break;
      }
      case Id::initial_source_connection_id: {
        WT_ASSIGN(tp.initial_source_connection_id, decode_cid(p.value));
        break;
      }
      case Id::retry_source_connection_id: {
        WT_ASSIGN(tp.retry_source_connection_id, decode_cid(p.value));
        break;
      }
      case Id::version_information: {
        WT_ASSIGN(tp.version_information, decode_version_information(p.value));
        break;
      }
      case Id::max_datagram_frame_size: {
        WT_ASSIGN(tp.max_datagram_frame_size, decode_int(p.value));
        break;
      }
      case Id::grease_quic_bit:
        // RFC 9287 §3: a zero-length value.
        if (!p.value.empty()) return param_error("grease_quic_bit has a value");
        tp.grease_quic_bit = true;
        break;
    }
  }
  std::sort(other_ids.begin(), other_ids.end());
  if (std::adjacent_find(other_ids.begin(), other_ids.end()) != other_ids.end())
    return param_error("duplicate transport parameter");
  WT_TRY(tp.validate(sender));
  return tp;
}

Status TransportParameters::validate(Role sender) const {
  // RFC 9000 §18.2: a client MUST NOT send these; a server treats them as an error.
  if (sender == Role::client && (original_destination_connection_id || stateless_reset_token ||
                                 preferred_address || retry_source_connection_id))
    return param_error("server-only transport parameter sent by a client");
  // RFC 9000 §18.2: values below 1200 are invalid.
  if (max_udp_payload_size < kMinMaxUdpPayloadSize)
    return param_error("max_udp_payload_size < 1200");
  // RFC 9000 §18.2: values above 20 are invalid.
  if (ack_delay_exponent > kMaxAckDelayExponent) return param_error("ack_delay_exponent > 20");
  // RFC 9000 §18.2: values of 2^14 or greater are invalid.
  if (max_ack_delay_ms >= kMaxAckDelayLimitMs) return param_error("max_ack_delay >= 2^14");
  // RFC 9000 §18.2: at least 2.
  if (active_connection_id_limit < 2) return param_error("active_connection_id_limit < 2");
  // RFC 9000 §4.6: more than 2^60 streams is a TRANSPORT_PARAMETER_ERROR.
  if (initial_max_streams_bidi > kMaxStreamsLimit || initial_max_streams_uni > kMaxStreamsLimit)
    return param_error("initial_max_streams > 2^60");
  // RFC 9000 §18.2: no zero-length CID in preferred_address.
  if (preferred_address && preferred_address->connection_id.empty())
    return param_error("preferred_address with a zero-length connection ID");
  if (version_information) {
    const VersionInformation& vi = *version_information;
    // RFC 9368 §4: a zero Chosen or Available Version is a parsing failure,
    // and so is a client's Chosen Version missing from its Available Versions.
    if (vi.chosen_version == 0) return param_error("version_information: chosen version 0");
    const auto& av = vi.available_versions;
    if (std::find(av.begin(), av.end(), 0u) != av.end())
      return param_error("version_information: available version 0");
    if (sender == Role::client && std::find(av.begin(), av.end(), vi.chosen_version) == av.end())
      return param_error("version_information: chosen version not available");
  }
  return {};
}

Status TransportParameters::authenticate_connection_ids(Role sender,
                                                        const ConnectionId& peer_initial_scid,
                                                        const ConnectionId* original_dcid,
                                                        const ConnectionId* retry_scid) const {
  // RFC 9000 §7.3: absence of initial_source_connection_id (either side) or of
  // original_destination_connection_id (server) is a TRANSPORT_PARAMETER_ERROR,
  // and so is any mismatch with the CIDs seen in the Initial/Retry packets.
  if (!initial_source_connection_id) return param_error("missing initial_source_connection_id");
  if (*initial_source_connection_id != peer_initial_scid)
    return param_error("initial_source_connection_id mismatch");
  if (sender == Role::client) return {};
  if (!original_destination_connection_id)
    return param_error("missing original_destination_connection_id");
  if (original_dcid && *original_destination_connection_id != *original_dcid)
    return param_error("original_destination_connection_id mismatch");
  if (retry_scid) {
    if (!retry_source_connection_id) return param_error("missing retry_source_connection_id");
    if (*retry_source_connection_id != *retry_scid)
      return param_error("retry_source_connection_id mismatch");
  } else if (retry_source_connection_id) {
    return param_error("retry_source_connection_id without a Retry");
  }
  return {};
}

}  // namespace wt::quic
