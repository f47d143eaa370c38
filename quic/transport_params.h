// QUIC transport parameters (RFC 9000 §7.4, §18), with the extensions this
// stack speaks: max_datagram_frame_size (RFC 9221 §3), version_information
// (RFC 9368 §3) and grease_quic_bit (RFC 9287 §3).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/connection_id.h"
#include "quic/role.h"

namespace wt {
class Random;
}

namespace wt::quic {

// Parameter identifiers, RFC 9000 §18.2 and the registries cited above.
enum class TransportParameterId : uint64_t {
  original_destination_connection_id = 0x00,
  max_idle_timeout = 0x01,
  stateless_reset_token = 0x02,
  max_udp_payload_size = 0x03,
  initial_max_data = 0x04,
  initial_max_stream_data_bidi_local = 0x05,
  initial_max_stream_data_bidi_remote = 0x06,
  initial_max_stream_data_uni = 0x07,
  initial_max_streams_bidi = 0x08,
  initial_max_streams_uni = 0x09,
  ack_delay_exponent = 0x0a,
  max_ack_delay = 0x0b,
  disable_active_migration = 0x0c,
  preferred_address = 0x0d,
  active_connection_id_limit = 0x0e,
  initial_source_connection_id = 0x0f,
  retry_source_connection_id = 0x10,
  version_information = 0x11,      // RFC 9368 §3
  max_datagram_frame_size = 0x20,  // RFC 9221 §3
  grease_quic_bit = 0x2ab2,        // RFC 9287 §3
};

// Name of a parameter id for logs and the dissector: "initial_max_data",
// "GREASE" for 31*N+27, "unknown" otherwise.
const char* transport_parameter_name(uint64_t id);

// RFC 9000 §18.1: ids of the form 31*N+27 are reserved to exercise the
// requirement that unknown parameters be ignored.
constexpr bool is_grease_transport_parameter(uint64_t id) {
  return id >= 27 && (id - 27) % 31 == 0;
}

// RFC 9000 §18.2 limits and defaults.
inline constexpr uint64_t kMinMaxUdpPayloadSize = 1200;
inline constexpr uint64_t kDefaultMaxUdpPayloadSize = 65527;
inline constexpr uint64_t kDefaultAckDelayExponent = 3;
inline constexpr uint64_t kMaxAckDelayExponent = 20;
inline constexpr uint64_t kDefaultMaxAckDelayMs = 25;
inline constexpr uint64_t kMaxAckDelayLimitMs = uint64_t{1} << 14;  // exclusive
inline constexpr uint64_t kDefaultActiveConnectionIdLimit = 2;
inline constexpr uint64_t kMaxStreamsLimit = uint64_t{1} << 60;  // RFC 9000 §4.6

// RFC 9000 §18.2 preferred_address.
struct PreferredAddress {
  std::array<uint8_t, 4> ipv4_address{};
  uint16_t ipv4_port = 0;
  std::array<uint8_t, 16> ipv6_address{};
  uint16_t ipv6_port = 0;
  ConnectionId connection_id;
  StatelessResetToken stateless_reset_token{};
  friend bool operator==(const PreferredAddress&, const PreferredAddress&) = default;
};

// RFC 9368 §3.
struct VersionInformation {
  uint32_t chosen_version = 0;
  std::vector<uint32_t> available_versions;
  friend bool operator==(const VersionInformation&, const VersionInformation&) = default;
};

// A reserved parameter to send (RFC 9000 §18.1). The caller chooses id and
// value, e.g. with make_grease_transport_parameter().
struct GreaseTransportParameter {
  uint64_t id = 27;
  std::array<uint8_t, 16> value{};
  uint8_t value_len = 0;
  Bytes value_bytes() const { return {value.data(), value_len}; }
  friend bool operator==(const GreaseTransportParameter&,
                         const GreaseTransportParameter&) = default;
};

// A GREASE id 31*N+27 (random N) with 0..16 random value bytes.
GreaseTransportParameter make_grease_transport_parameter(Random& rng);

struct TransportParameters {
  // Server only (RFC 9000 §18.2).
  std::optional<ConnectionId> original_destination_connection_id;
  uint64_t max_idle_timeout_ms = 0;                          // 0: no idle timeout
  std::optional<StatelessResetToken> stateless_reset_token;  // server only
  uint64_t max_udp_payload_size = kDefaultMaxUdpPayloadSize;
  uint64_t initial_max_data = 0;
  uint64_t initial_max_stream_data_bidi_local = 0;
  uint64_t initial_max_stream_data_bidi_remote = 0;
  uint64_t initial_max_stream_data_uni = 0;
  uint64_t initial_max_streams_bidi = 0;
  uint64_t initial_max_streams_uni = 0;
  uint64_t ack_delay_exponent = kDefaultAckDelayExponent;
  uint64_t max_ack_delay_ms = kDefaultMaxAckDelayMs;
  bool disable_active_migration = false;
  std::optional<PreferredAddress> preferred_address;  // server only
  uint64_t active_connection_id_limit = kDefaultActiveConnectionIdLimit;
  std::optional<ConnectionId> initial_source_connection_id;
  std::optional<ConnectionId> retry_source_connection_id;  // server only
  // RFC 9221 §3: 0 (the default) means DATAGRAM frames are not supported.
  uint64_t max_datagram_frame_size = 0;
  std::optional<VersionInformation> version_information;
  bool grease_quic_bit = false;

  // Encode only: appended after the real parameters; never set by decode().
  std::optional<GreaseTransportParameter> grease;

  // Parameters equal to their default are omitted; optional ones only when
  // present. Fails (internal_error) when the writer is too small or a value
  // is not encodable as a varint.
  Status encode(Writer& w) const;
  Result<size_t> encoded_size() const;

  // Decodes parameters sent by `sender`, skipping unknown and GREASE ids, and
  // validates them (validate()). Errors are TRANSPORT_PARAMETER_ERROR.
  static Result<TransportParameters> decode(Bytes b, Role sender);

  // Value checks of RFC 9000 §18.2 / RFC 9368 §4 for parameters from `sender`.
  Status validate(Role sender) const;

  // RFC 9000 §7.3: the connection IDs the peer (`sender`) used in its Initial
  // packets must match these parameters. `peer_initial_scid` is the SCID of
  // the first Initial received from the peer. For a server sender, also give
  // the DCID of the client's first Initial and, if a Retry was received, the
  // SCID of the Retry (nullptr otherwise). Errors: TRANSPORT_PARAMETER_ERROR.
  Status authenticate_connection_ids(Role sender, const ConnectionId& peer_initial_scid,
                                     const ConnectionId* original_dcid = nullptr,
                                     const ConnectionId* retry_scid = nullptr) const;

  friend bool operator==(const TransportParameters&, const TransportParameters&) = default;
};

// One (id, value) element of an encoded parameter list, value not interpreted.
struct RawTransportParameter {
  uint64_t id = 0;
  Bytes value;
};

// Walks the encoded list (RFC 9000 §18): the dissector's view, and the first
// pass of decode().
class TransportParameterIterator {
 public:
  explicit TransportParameterIterator(Bytes b) : r_(b) {}
  // True and `out` set, false at the end; error on a truncated element.
  Result<bool> next(RawTransportParameter& out);

 private:
  Reader r_;
};

}  // namespace wt::quic
