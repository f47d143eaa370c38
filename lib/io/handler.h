// How a protocol endpoint plugs into the event loop (lib/io/loop.h).
//
// lib/io knows nothing of QUIC: it hands received GRO batches to a
// UdpHandler, asks it to fill a SendBuffer with GSO batches, and wakes it at
// the one deadline it reports. quic::Endpoint implements this through a thin
// adapter:
//
//   on_receive(batch, now)   -> endpoint.receive(batch.datagram(i), {batch.local, batch.peer}, batch.ecn, now)
//   on_send(out, now)        -> while (out.has_space()) { b = endpoint.send(out.space(), now); if (!b.bytes) break;
//                                 out.commit(b.bytes, b.segment_size, b.path.remote, b.path.local, b.ecn); }
//   next_deadline()          -> endpoint.next_timeout()
//   on_deadline(now)         -> endpoint.on_timeout(now)
//
// Threading: every callback runs on the loop's thread, one at a time.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>

#include "lib/address.h"
#include "lib/bytes.h"
#include "lib/clock.h"

namespace wt::io {

// Names a socket registered with a Loop.
struct SocketId {
  uint32_t index = UINT32_MAX;
  uint32_t gen = 0;
  bool valid() const { return index != UINT32_MAX; }
  friend bool operator==(const SocketId&, const SocketId&) = default;
};

// One received batch: a single datagram, or several coalesced by UDP GRO,
// all from the same peer to the same local address with the same ECN bits.
// Every datagram is segment_size bytes except possibly the last. The bytes
// are the loop's receive buffer: valid (and writable, e.g. for in-place
// decryption) only during on_receive.
struct DatagramBatchView {
  MutBytes data;
  size_t segment_size = 0;
  Address peer;
  Address local;  // the address the peer sent to (pktinfo), with our port
  Ecn ecn = Ecn::not_ect;

  size_t count() const {
    return segment_size ? (data.size() + segment_size - 1) / segment_size : 0;
  }
  MutBytes datagram(size_t i) const {
    size_t off = i * segment_size;
    size_t len = data.size() - off < segment_size ? data.size() - off : segment_size;
    return data.subspan(off, len);
  }
};

// Largest UDP payload one GSO send may carry, and most segments per send.
inline constexpr size_t kMaxGsoBytes = 65507;
inline constexpr size_t kMaxGsoSegments = 64;

// The loop's per-socket queue of outgoing batches: a ring of fixed slots the
// handler writes into directly (no copy). A batch is datagrams of one size
// (the last may be shorter) to one peer from one local address with one ECN
// value; it goes out as one sendmsg with UDP_SEGMENT when the kernel has GSO,
// and is split into datagrams (or into several GSO sends when larger than
// kMaxGsoBytes / kMaxGsoSegments) by the loop otherwise.
class SendBuffer {
 public:
  struct Batch {
    uint8_t* data = nullptr;
    size_t bytes = 0;
    size_t segment_size = 0;
    Address peer;
    Address local;  // unset: the socket's default source address
    Ecn ecn = Ecn::not_ect;
  };

  SendBuffer(size_t slots, size_t slot_bytes);

  // ---- for the handler
  bool has_space() const { return count_ < slots_; }
  // The next free slot (slot_bytes long), or an empty span when all are queued.
  MutBytes space() {
    if (!has_space()) return {};
    return {memory_.get() + slot_bytes_ * ((head_ + count_) % slots_), slot_bytes_};
  }
  // Queues the first `bytes` of space(). segment_size 0 means one datagram.
  void commit(size_t bytes, size_t segment_size, const Address& peer, const Address& local = {},
              Ecn ecn = Ecn::not_ect);
  size_t slot_bytes() const { return slot_bytes_; }

  // ---- for the loop's back-ends: queued batches, oldest first
  size_t queued() const { return count_; }
  Batch& batch(size_t i) { return batches_[(head_ + i) % slots_]; }
  // Bytes of the oldest batch already handed to the kernel.
  size_t head_offset() const { return head_offset_; }
  // Marks progress: `n` whole batches done, then `offset` bytes into the next.
  void advance(size_t n, size_t offset);

  // One sendmsg's worth of a batch starting at `offset`: `len` bytes, with
  // UDP_SEGMENT = `segment` if nonzero.
  struct Message {
    size_t len = 0;
    uint16_t segment = 0;
  };
  static Message next_message(const Batch& b, size_t offset, bool gso);

 private:
  std::unique_ptr<uint8_t[]> memory_;
  std::unique_ptr<Batch[]> batches_;
  size_t slots_, slot_bytes_;
  size_t head_ = 0, count_ = 0, head_offset_ = 0;
};

class UdpHandler {
 public:
  virtual ~UdpHandler() = default;

  // One received batch (see DatagramBatchView). Called for each batch of a
  // burst; several calls may precede one on_receive_done.
  virtual void on_receive(const DatagramBatchView& batch, Time now) = 0;
  // After a burst of receives: the place to generate ACKs once per burst
  // rather than per datagram. on_send follows in the same loop iteration.
  virtual void on_receive_done(Time now) { (void)now; }

  // Fill `out` (while out.has_space()) with batches; return how many were
  // committed. The loop calls again as long as the result is nonzero and
  // the socket accepts data; after it returns 0 the loop asks again only
  // after the next receive, deadline or Loop::notify(). When the kernel's
  // buffer is full the loop stops asking until the socket is writable.
  virtual size_t on_send(SendBuffer& out, Time now) = 0;

  // The next time on_deadline must run (kTimeInfinite: none); pacing
  // releases belong here too. Re-read after every callback into the handler,
  // and after Loop::notify().
  virtual Time next_deadline() const = 0;
  // The deadline was reached. May be called early or spuriously (after the
  // deadline moved): handle whatever is due at `now`.
  virtual void on_deadline(Time now) = 0;
};

}  // namespace wt::io
