// Paths of a connection: path validation (RFC 9000 §8.2), migration and NAT
// rebinding (RFC 9000 §9), owned by the Connection; the logic is in
// conn_paths.cc.
#pragma once
#include <array>
#include <cstdint>

#include "lib/clock.h"
#include "quic/connection_id.h"
#include "quic/path.h"

namespace wt::quic {

inline constexpr size_t kMaxPaths = 4;             // active path + probes
inline constexpr size_t kMinProbeDatagram = 1200;  // RFC 9000 §8.2.1, §8.2.2

using PathData = std::array<uint8_t, 8>;  // PATH_CHALLENGE / PATH_RESPONSE data

struct PathRecord {
  enum class Purpose : uint8_t {
    active,     // the path we send on (always paths_[0])
    migrate,    // client: Connection::migrate() probing a new local address
    preferred,  // client: probing the server's preferred address
    peer,       // a path the peer used (probes, or an old path)
  };
  Path path;
  Purpose purpose = Purpose::peer;
  ConnectionId dcid;      // peer CID for packets on this path
  uint64_t dcid_seq = 0;  // its sequence number (UINT64_MAX: not a tracked CID)
  bool validated = false;
  bool validating = false;
  bool challenge_due = false;            // a new PATH_CHALLENGE must go out
  std::array<PathData, 3> challenges{};  // outstanding data, newest last
  uint8_t n_challenges = 0;
  std::array<PathData, 4> responses{};  // PATH_RESPONSEs owed on this path
  uint8_t n_responses = 0;
  Time retry_at = kTimeInfinite;  // next PATH_CHALLENGE
  Time deadline = kTimeInfinite;  // validation fails (RFC 9000 §8.2.4)
  Duration retry_interval{};
  uint64_t bytes_received = 0, bytes_sent = 0;  // RFC 9000 §8 / §9.3 amplification limit
  ConnectionId peer_used_cid;                   // server: our CID the peer addressed on this path
  bool has_peer_used_cid = false;
};

struct PathStats {
  uint64_t path_changes = 0;     // the active path switched
  uint64_t peer_migrations = 0;  // the peer moved (NAT rebinding or migration)
  uint64_t validations_succeeded = 0;
  uint64_t validations_failed = 0;
  uint64_t challenges_sent = 0, responses_sent = 0;
  uint64_t cids_rotated = 0;  // we switched to a fresh peer CID for a new path
  bool preferred_address_used = false;
};

// RFC 9000 §9.4: a change of port only (NAT rebinding) keeps the congestion
// state; anything else resets it.
inline bool same_hosts(const Path& a, const Path& b) {
  return a.local.family == b.local.family && a.local.ip == b.local.ip &&
         a.remote.family == b.remote.family && a.remote.ip == b.remote.ip;
}

}  // namespace wt::quic
