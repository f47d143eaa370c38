#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wt {

std::string to_hex(std::span<const uint8_t> b);
// Parses hex, ignoring whitespace; nullopt on odd length or a bad digit.
std::optional<std::vector<uint8_t>> from_hex(std::string_view s);
// As from_hex, but for literals in tests and tools: aborts on bad input.
std::vector<uint8_t> hex(std::string_view s);

}  // namespace wt
