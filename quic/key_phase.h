// State of 1-RTT key updates (RFC 9001 §6), owned by the Connection; the
// logic is in conn_key_update.cc.
//
// Generations count key updates (the Key Phase bit is generation & 1). The
// current read and write ciphers live in the application Space (rx, tx);
// this keeps the secrets that derive the next generation, the precomputed
// next read cipher (RFC 9001 §6.3: no timing side channel) and the previous
// read cipher for reordered packets (RFC 9001 §6.5).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "lib/clock.h"
#include "quic/hkdf.h"
#include "quic/packet_cipher.h"
#include "quic/packet_number.h"

namespace wt::quic {

// What the user may read about key updates.
struct KeyUpdateInfo {
  uint64_t tx_generation = 0;      // key updates of our write keys
  uint64_t rx_generation = 0;      // key updates of our read keys
  uint64_t initiated_locally = 0;  // updates we started
  uint64_t initiated_by_peer = 0;  // updates the peer started (we answered)
  uint64_t old_key_packets = 0;    // packets opened with the previous read keys
  bool tx_key_phase() const { return tx_generation & 1; }
};

struct KeyPhaseState {
  bool ready = false;  // both 1-RTT secrets installed
  bool has_rx = false, has_tx = false;
  CipherSuite suite = CipherSuite::aes_128_gcm;
  Secret rx_secret, tx_secret;  // of the current generations
  std::optional<PacketCipher> rx_next;
  std::optional<PacketCipher> rx_prev;
  Time rx_prev_discard = kTimeInfinite;    // RFC 9001 §6.5: about 3 PTO
  uint64_t rx_first_pn = kNoPacketNumber;  // lowest pn opened with the current read keys
  uint64_t tx_first_pn = 0;                // first pn sent with the current write keys
  bool tx_phase_acked = false;             // a packet of the current write phase was acked
  Time update_allowed_at = kTimeZero;      // RFC 9001 §6.5: 3 PTO after that ack
  bool requested = false;                  // initiate_key_update() is pending
  uint64_t packet_generation = 0;          // read generation of the packet being processed
  uint64_t decrypt_failures = 0;           // RFC 9001 §6.6 integrity limit
  KeyUpdateInfo info;
  std::vector<uint8_t> scratch;  // ciphertext copy for a second open attempt
};

}  // namespace wt::quic
