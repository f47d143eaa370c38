// The QPACK static table (RFC 9204 §3.1, Appendix A): 99 entries, indexed
// from 0.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace wt::h3 {

struct QpackStaticEntry {
  std::string_view name;
  std::string_view value;
};

inline constexpr size_t kQpackStaticTableSize = 99;

std::span<const QpackStaticEntry, kQpackStaticTableSize> qpack_static_table();

// A static table match for the encoder: the index of an entry equal to
// (name, value), and of the first entry with that name; -1 when none.
struct QpackStaticMatch {
  int exact = -1;
  int name = -1;
};
QpackStaticMatch qpack_static_find(std::string_view name, std::string_view value);

}  // namespace wt::h3
