// Extensible Prioritization (RFC 9218): the Priority header field and the
// PRIORITY_UPDATE frame carry a Structured Fields dictionary (RFC 8941) with
// urgency "u" (0..7, default 3) and incremental "i" (boolean, default false).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "h3/header_field.h"

namespace wt::h3 {

struct Priority {
  uint8_t urgency = 3;  // RFC 9218 §4.1: 0 most urgent .. 7
  bool incremental = false;
  bool operator==(const Priority&) const = default;
};

inline constexpr uint8_t kDefaultUrgency = 3;

// Parses a priority field value. Returns nullopt if it is not a valid
// Structured Fields dictionary (RFC 9218 §4: the field is then ignored).
// Parameters with an unexpected type or range are ignored, as are unknown
// ones (RFC 9218 §4.1/§4.2); what is missing keeps the RFC default.
std::optional<Priority> parse_priority(std::string_view field_value);
// Like parse_priority, the defaults for an invalid field value.
inline Priority priority_or_default(std::string_view field_value) {
  return parse_priority(field_value).value_or(Priority{});
}
// RFC 9218 §4: the priority a field section asks for (all its priority
// lines, RFC 9110 §5.3), or the defaults when there is none or it does not
// parse.
Priority priority_of(const HeaderList& fields);
// "u=5, i"; omits defaults (the default priority is the empty string).
std::string format_priority(const Priority& p);

// Generic RFC 8941 dictionary walker used above, exposed for tests and other
// structured header users: calls f(key, value) for every member, where value
// is the member's bare item text for items ("?1" for bare keys), or the raw
// "( ... )" text for inner lists. Returns false on a syntax error.
template <class F>
bool for_each_sf_dictionary_member(std::string_view text, F&& f);

namespace sf_detail {
struct Member {
  std::string_view key;
  std::string_view value;  // bare item or inner list text
};
// Parses the next member at `pos`; false on a syntax error or at the end
// (`at_end` tells which).
bool next_member(std::string_view text, size_t& pos, Member& out, bool& at_end);
}  // namespace sf_detail

template <class F>
bool for_each_sf_dictionary_member(std::string_view text, F&& f) {
  size_t pos = 0;
  sf_detail::Member m;
  bool at_end = false;
  while (sf_detail::next_member(text, pos, m, at_end)) f(m.key, m.value);
  return at_end;
}

}  // namespace wt::h3
