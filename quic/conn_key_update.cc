// Key update of the 1-RTT keys (RFC 9001 §6): initiating one, answering the
// peer's, choosing the read keys of a packet from its key phase and packet
// number, keeping the previous read keys for reordered packets, and the
// AEAD limits (RFC 9001 §6.6).
#include <algorithm>

#include "lib/log.h"
#include "quic/connection.h"
#include "quic/key_schedule.h"
#include "quic/packet_protection.h"

namespace wt::quic {

namespace {
constexpr int kApp = static_cast<int>(PnSpace::application);
// RFC 9001 §6.6: update well before the confidentiality limit.
constexpr uint64_t update_point(CipherSuite s) { return confidentiality_limit(s) / 4 * 3; }
}  // namespace

Status Connection::keep_app_secret(const TlsSecret& s, CipherSuite suite) {
  // The TLS secrets would be gone after install_secret; key updates derive
  // every later generation from them (RFC 9001 §6.1).
  kp_.suite = suite;
  const Secret secret(s.secret());
  if (s.direction == SecretDirection::read) {
    kp_.rx_secret = secret;
    kp_.has_rx = true;
    WT_ASSIGN(Secret next, next_key_update_secret(suite, secret.bytes(), version_));
    // RFC 9001 §6.3: the next read keys exist before any packet needs them.
    if (cfg_.null_cipher) {
      kp_.rx_next.emplace(PacketCipher::null_cipher());
    } else {
      WT_ASSIGN(PacketCipher c,
                make_key_update_cipher(suite, next.bytes(), version_, *spaces_[kApp].rx));
      kp_.rx_next.emplace(std::move(c));
    }
  } else {
    kp_.tx_secret = secret;
    kp_.has_tx = true;
  }
  kp_.ready = kp_.has_rx && kp_.has_tx;
  return {};
}

Status Connection::initiate_key_update() {
  note_activity();
  if (closing_or_closed()) return Error(TransportError::internal_error, "connection is closed");
  // RFC 9001 §6.1: never before the handshake is confirmed.
  if (!handshake_confirmed_ || !kp_.ready)
    return Error(TransportError::internal_error, "key update before the handshake is confirmed");
  kp_.requested = true;
  return {};
}

Status Connection::update_tx_keys() {
  Space& sp = spaces_[kApp];
  WT_ASSIGN(Secret next, next_key_update_secret(kp_.suite, kp_.tx_secret.bytes(), version_));
  if (cfg_.null_cipher) {
    sp.tx.emplace(PacketCipher::null_cipher());
  } else {
    WT_ASSIGN(PacketCipher c, make_key_update_cipher(kp_.suite, next.bytes(), version_, *sp.tx));
    sp.tx.emplace(std::move(c));
  }
  kp_.tx_secret = next;
  ++kp_.info.tx_generation;
  kp_.tx_first_pn = sp.next_pn;
  kp_.tx_phase_acked = false;
  return {};
}

Status Connection::rotate_rx_keys(uint64_t pn, Time now) {
  Space& sp = spaces_[kApp];
  WT_ASSIGN(Secret next, next_key_update_secret(kp_.suite, kp_.rx_secret.bytes(), version_));
  WT_ASSIGN(Secret after, next_key_update_secret(kp_.suite, next.bytes(), version_));
  // RFC 9001 §6.5: the previous read keys stay for about 3 PTO for
  // reordered packets.
  kp_.rx_prev = std::move(sp.rx);
  kp_.rx_prev_discard = now + 3 * pto();
  sp.rx = std::move(kp_.rx_next);
  kp_.rx_next.reset();
  kp_.rx_secret = next;
  ++kp_.info.rx_generation;
  kp_.rx_first_pn = pn;
  if (cfg_.null_cipher) {
    kp_.rx_next.emplace(PacketCipher::null_cipher());
  } else {
    WT_ASSIGN(PacketCipher c, make_key_update_cipher(kp_.suite, after.bytes(), version_, *sp.rx));
    kp_.rx_next.emplace(std::move(c));
  }
  if (kp_.info.tx_generation < kp_.info.rx_generation) {
    // RFC 9001 §6.2: the peer initiated; our write keys follow before we
    // acknowledge the packet (the ACK goes out with the next send()).
    WT_TRY(update_tx_keys());
    ++kp_.info.initiated_by_peer;
  }
  if (qlog_.enabled())
    qlog_.key_updated(now, role_ == Role::client ? "server_1rtt_secret" : "client_1rtt_secret");
  log::debug("quic: key update, read generation {} write generation {}", kp_.info.rx_generation,
             kp_.info.tx_generation);
  return {};
}

Result<UnprotectedPacket> Connection::unprotect_one_rtt(MutBytes packet, size_t pn_offset,
                                                        Time now) {
  Space& sp = spaces_[kApp];
  if (!kp_.ready) return unprotect_packet(packet, pn_offset, sp.largest_rx, *sp.rx);
  // The header protection key never changes with key updates (RFC 9001 §6).
  WT_ASSIGN(UnprotectedHeader h,
            remove_header_protection(packet, pn_offset, sp.largest_rx, *sp.rx));
  const bool current_phase = kp_.info.rx_generation & 1;
  const PacketCipher* cipher = &*sp.rx;
  int step = 0;  // -1: previous keys, +1: next keys
  if (h.key_phase != current_phase) {
    // RFC 9001 §6.3, §6.5: a packet numbered below every packet of the
    // current phase belongs to the previous phase; above, it starts the next.
    if (kp_.rx_first_pn != kNoPacketNumber && h.pn < kp_.rx_first_pn) {
      if (!kp_.rx_prev) return Error(TransportError::internal_error, kDecryptionFailed);
      cipher = &*kp_.rx_prev;
      step = -1;
    } else {
      if (!kp_.rx_next) return Error(TransportError::internal_error, kDecryptionFailed);
      cipher = &*kp_.rx_next;
      step = 1;
    }
  }
  // A failed open zeroes the payload: keep the ciphertext for the check below.
  MutBytes body = packet.subspan(h.header_size);
  const bool second_try = step == 1 && kp_.rx_prev.has_value();
  if (second_try) kp_.scratch.assign(body.begin(), body.end());
  auto payload = decrypt_payload(packet, h, *cipher);
  if (!payload.ok()) {
    if (!is_decryption_failure(payload.error())) return payload.error();
    if (second_try) {
      std::copy(kp_.scratch.begin(), kp_.scratch.end(), body.begin());
      if (decrypt_payload(packet, h, *kp_.rx_prev).ok()) {
        // RFC 9001 §6.4: old keys on a packet numbered above packets that
        // used newer keys.
        const Error e(TransportError::key_update_error, "old keys after a key update");
        close_with_error(e, now);
        return e;
      }
    }
    // RFC 9001 §6.6: forgeries count against the integrity limit.
    if (++kp_.decrypt_failures >= integrity_limit(kp_.suite)) {
      close_with_error(Error(TransportError::aead_limit_reached, "AEAD integrity limit reached"),
                       now);
    }
    return payload.error();
  }
  if (step == 1) {
    if (Status st = rotate_rx_keys(h.pn, now); !st.ok()) {
      close_with_error(st.error(), now);
      return st.error();
    }
  } else if (step == 0 && (kp_.rx_first_pn == kNoPacketNumber || h.pn < kp_.rx_first_pn)) {
    kp_.rx_first_pn = h.pn;
  }
  if (step < 0) ++kp_.info.old_key_packets;
  kp_.packet_generation = kp_.info.rx_generation - (step < 0 ? 1 : 0);
  UnprotectedPacket up;
  up.pn = h.pn;
  up.pn_len = h.pn_len;
  up.header_size = h.header_size;
  up.key_phase = h.key_phase;
  up.payload = *payload;
  return up;
}

Status Connection::check_ack_key_phase(const AckFrame& f) {
  // RFC 9001 §6.2: an ACK carried with older keys than the packets it
  // acknowledges: the peer did not update its keys in response.
  if (kp_.ready && kp_.info.tx_generation > 0 && kp_.packet_generation < kp_.info.tx_generation &&
      f.largest_acknowledged >= kp_.tx_first_pn)
    return Error(TransportError::key_update_error, "ACK with old keys for packets with new keys",
                 f.has_ecn ? frame_type::ack_ecn : frame_type::ack);
  return {};
}

void Connection::key_update_on_ack(const AckFrame& f, Time now) {
  if (kp_.tx_phase_acked || f.largest_acknowledged < kp_.tx_first_pn) return;
  // RFC 9001 §6.1: a packet of the current phase was acknowledged, so the
  // peer has these keys; §6.5: after an update, wait 3 PTO before the next
  // one so the peer can drop its old keys first.
  kp_.tx_phase_acked = true;
  if (kp_.info.tx_generation > 0) kp_.update_allowed_at = now + 3 * pto();
}

void Connection::maybe_update_keys(Time now) {
  if (!kp_.ready || !handshake_confirmed_ || state_ != State::established) return;
  const uint64_t in_phase = spaces_[kApp].next_pn - kp_.tx_first_pn;
  const bool by_interval =
      cfg_.key_update_interval_packets != 0 && in_phase >= cfg_.key_update_interval_packets;
  if (!kp_.requested && !by_interval && in_phase < update_point(kp_.suite)) return;
  if (!kp_.tx_phase_acked || now < kp_.update_allowed_at ||
      kp_.info.rx_generation != kp_.info.tx_generation) {
    // RFC 9001 §6.6: stop before the confidentiality limit if no update is
    // possible in time.
    if (in_phase >= confidentiality_limit(kp_.suite))
      close_with_error(Error(TransportError::aead_limit_reached, "AEAD confidentiality limit"),
                       now);
    return;
  }
  if (Status st = update_tx_keys(); !st.ok()) {
    close_with_error(st.error(), now);
    return;
  }
  ++kp_.info.initiated_locally;
  kp_.requested = false;
  if (qlog_.enabled())
    qlog_.key_updated(now, role_ == Role::client ? "client_1rtt_secret" : "server_1rtt_secret");
  log::debug("quic: initiated key update to generation {}", kp_.info.tx_generation);
}

}  // namespace wt::quic
