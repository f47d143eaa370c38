#include <fmt/format.h>

#include "lib/address.h"

namespace wt {

std::string Address::to_string() const {
  if (family == 4) return fmt::format("{}.{}.{}.{}:{}", ip[0], ip[1], ip[2], ip[3], port);
  if (family == 6) {
    std::string s = "[";
    for (int i = 0; i < 16; i += 2) {
      if (i) s += ':';
      s += fmt::format("{:x}", (ip[i] << 8) | ip[i + 1]);
    }
    return s + fmt::format("]:{}", port);
  }
  return "unset";
}

}  // namespace wt
