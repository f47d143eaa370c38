// Which endpoint of a connection: client or server. Shared by transport
// parameters (who sent them) and streams (who initiated a stream).
#pragma once
#include <cstdint>

namespace wt::quic {

enum class Role : uint8_t { client, server };

constexpr Role peer_of(Role r) { return r == Role::client ? Role::server : Role::client; }

}  // namespace wt::quic
