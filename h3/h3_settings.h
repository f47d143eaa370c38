// HTTP/3 SETTINGS (RFC 9114 §7.2.4): identifiers, validation of a received
// SETTINGS frame, and building ours.
#pragma once
#include <cstdint>
#include <map>
#include <vector>

#include "h3/h3_frame.h"
#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::h3 {

namespace setting_id {
inline constexpr uint64_t qpack_max_table_capacity = 0x01;  // RFC 9204 §5
inline constexpr uint64_t max_field_section_size = 0x06;    // RFC 9114 §7.2.4.1
inline constexpr uint64_t qpack_blocked_streams = 0x07;     // RFC 9204 §5
inline constexpr uint64_t enable_connect_protocol = 0x08;   // RFC 9220 §5
inline constexpr uint64_t h3_datagram = 0x33;               // RFC 9297 §5.1
inline constexpr uint64_t h3_datagram_draft04 = 0xffd277;   // draft-ietf-masque-h3-datagram-04
inline constexpr uint64_t webtransport_draft02 = 0x2b603742;
inline constexpr uint64_t webtransport_max_sessions_draft07 = 0xc671706a;
}  // namespace setting_id

inline constexpr uint64_t kUnlimited = ~uint64_t{0};

// RFC 9114 §7.2.4.1 / §11.2.2: identifiers of HTTP/2 settings without an
// HTTP/3 meaning; sending them is forbidden, receiving them is an error.
constexpr bool is_http2_reserved_setting(uint64_t id) { return id == 0x00 || (id >= 0x02 && id <= 0x05); }

// The settings of one endpoint: every non-GREASE identifier it sent, with
// typed accessors that apply the RFC defaults for absent ones.
struct Settings {
  std::map<uint64_t, uint64_t> values;

  bool has(uint64_t id) const { return values.count(id) != 0; }
  uint64_t get(uint64_t id, uint64_t dflt = 0) const {
    auto it = values.find(id);
    return it == values.end() ? dflt : it->second;
  }
  void set(uint64_t id, uint64_t v) { values[id] = v; }

  uint64_t qpack_max_table_capacity() const { return get(setting_id::qpack_max_table_capacity); }
  uint64_t qpack_blocked_streams() const { return get(setting_id::qpack_blocked_streams); }
  uint64_t max_field_section_size() const { return get(setting_id::max_field_section_size, kUnlimited); }
  bool enable_connect_protocol() const { return get(setting_id::enable_connect_protocol) == 1; }
  // RFC 9297 §2.1.1, or the draft-04 codepoint older WebTransport peers send.
  bool h3_datagram() const {
    return get(setting_id::h3_datagram) == 1 || get(setting_id::h3_datagram_draft04) == 1;
  }
  bool operator==(const Settings&) const = default;
};

// Interprets a received SETTINGS payload. Errors: H3_FRAME_ERROR (truncated
// entry), H3_SETTINGS_ERROR (duplicate identifier, HTTP/2 identifier,
// a boolean setting other than 0 or 1). GREASE identifiers are dropped,
// unknown ones kept.
Result<Settings> parse_settings(Bytes payload);
Result<Settings> settings_from_entries(const std::vector<Setting>& entries);

// Our SETTINGS entries in identifier order, with `grease_id` (if it is a
// reserved identifier) appended with `grease_value`.
std::vector<Setting> settings_entries(const Settings& s, uint64_t grease_id = 0,
                                      uint64_t grease_value = 0);
void append_settings_frame(std::vector<uint8_t>& out, const std::vector<Setting>& entries);

}  // namespace wt::h3
