// A field line (name, value) and a field section: the unit QPACK encodes and
// decodes (RFC 9204 §1.1, RFC 9114 §4.2).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wt::h3 {

struct HeaderField {
  std::string name;
  std::string value;
  // Never-indexed: the encoder uses a literal with the N bit, and a decoded
  // literal carrying the N bit sets it (RFC 9204 §4.5.4, §7.1.3). A hint for
  // re-encoding, not part of the field's identity: operator== ignores it.
  bool never_index = false;

  friend bool operator==(const HeaderField& a, const HeaderField& b) {
    return a.name == b.name && a.value == b.value;
  }
};

using HeaderList = std::vector<HeaderField>;

// Size of a field line for SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2).
inline uint64_t field_line_size(std::string_view name, std::string_view value) {
  return name.size() + value.size() + 32;
}

inline uint64_t field_section_size(std::span<const HeaderField> fields) {
  uint64_t n = 0;
  for (const HeaderField& f : fields) n += field_line_size(f.name, f.value);
  return n;
}

}  // namespace wt::h3
