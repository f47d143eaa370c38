// Network addresses as plain values: the core never includes socket headers.
#pragma once
#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "lib/address.h"

namespace wt::quic {

using wt::Address;
using wt::AddressHash;

// A network path: our address and the peer's (RFC 9000 §9).
struct Path {
  Address local;
  Address remote;
  friend bool operator==(const Path& a, const Path& b) {
    return a.local == b.local && a.remote == b.remote;
  }
};

}  // namespace wt::quic
