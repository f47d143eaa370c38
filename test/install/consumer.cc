// Built against an installed wtcpp with only `pkg-config wtcpp`: touches each
// installed layer (lib, lib/io, quic, h3, net, http) so a missing header or
// library fails the link.
#include <cstdio>
#include <string>

#include "h3/qpack_encoder.h"
#include "lib/io/loop.h"
#include "lib/varint.h"
#include "net/h3_client.h"
#include "net/quic_driver.h"
#include "quic/connection_id.h"

int main() {
  uint8_t buf[8];
  size_t n = static_cast<size_t>(wt::varint_encode(buf, 494878333) - buf);
  auto loop = wt::io::Loop::create();
  if (!loop) return 1;
  std::string authority = wt::net::make_authority("::1", 4433);
  std::printf("varint %zu bytes, loop ok, authority %s\n", n, authority.c_str());
  return n == 4 && authority == "[::1]:4433" ? 0 : 1;
}
