#include "h3/h3_settings.h"

#include "h3/h3_error.h"

namespace wt::h3 {

Result<Settings> settings_from_entries(const std::vector<Setting>& entries) {
  Settings s;
  std::vector<uint64_t> seen;
  seen.reserve(entries.size());
  for (const Setting& e : entries) {
    // RFC 9114 §7.2.4: the same identifier twice MAY be an error; we make it
    // one, GREASE included (a peer has no reason to repeat one).
    for (uint64_t id : seen)
      if (id == e.id) return h3_error(H3Error::settings_error, "duplicate setting");
    seen.push_back(e.id);
    // RFC 9114 §7.2.4.1: HTTP/2 settings MUST be treated as H3_SETTINGS_ERROR.
    if (is_http2_reserved_setting(e.id)) return h3_error(H3Error::settings_error, "HTTP/2 setting");
    if (is_grease(e.id)) continue;  // RFC 9114 §7.2.4.1: no meaning, ignore
    // RFC 9220 §3 (RFC 8441 §3) and RFC 9297 §2.1.1: boolean settings.
    if ((e.id == setting_id::enable_connect_protocol || e.id == setting_id::h3_datagram) && e.value > 1)
      return h3_error(H3Error::settings_error, "boolean setting out of range");
    s.values[e.id] = e.value;
  }
  return s;
}

Result<Settings> parse_settings(Bytes payload) {
  WT_ASSIGN(auto entries, decode_settings_payload(payload));
  return settings_from_entries(entries);
}

std::vector<Setting> settings_entries(const Settings& s, uint64_t grease_id, uint64_t grease_value) {
  std::vector<Setting> out;
  out.reserve(s.values.size() + 1);
  for (const auto& [id, v] : s.values) {
    if (is_http2_reserved_setting(id)) continue;  // RFC 9114 §7.2.4.1: MUST NOT be sent
    out.push_back({id, v});
  }
  if (is_grease(grease_id) && !s.has(grease_id)) out.push_back({grease_id, grease_value});
  return out;
}

void append_settings_frame(std::vector<uint8_t>& out, const std::vector<Setting>& entries) {
  append_frame(out, SettingsFrame{entries});
}

}  // namespace wt::h3
