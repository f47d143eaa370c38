// Retry packets and their integrity tag (RFC 9000 §17.2.5, RFC 9001 §5.8,
// RFC 9369 §3.3.3).
#pragma once
#include <cstddef>
#include <cstdint>

#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/packet_header.h"

namespace wt::quic {

// Tag over the Retry pseudo-packet: ODCID Length, ODCID, then the Retry
// packet up to (not including) its tag. `odcid` is the DCID of the client's
// Initial that the Retry answers.
Status compute_retry_integrity_tag(uint32_t version, Bytes odcid, Bytes retry_without_tag,
                                   uint8_t tag[kRetryIntegrityTagSize]);

// True if the last 16 bytes of `retry_packet` are its valid tag (constant time).
bool verify_retry_integrity_tag(uint32_t version, Bytes odcid, Bytes retry_packet);

// Writes a whole Retry packet: header, token, integrity tag. `dcid` is the
// client's SCID, `scid` the server's new CID, `unused_bits` the low four bits
// of the first byte (arbitrary, RFC 9000 §17.2.5). Returns the packet size.
Result<size_t> encode_retry_packet(MutBytes out, uint32_t version, Bytes dcid, Bytes scid,
                                   Bytes token, Bytes odcid, uint8_t unused_bits = 0);

}  // namespace wt::quic
