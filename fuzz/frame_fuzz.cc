// libFuzzer target for the frame codec: decode frames until error or end;
// every decoded frame must re-encode to exactly encoded_size() bytes and
// decode back to an equal frame. Any mismatch aborts.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "lib/bytes.h"
#include "quic/frame.h"

using namespace wt;
using namespace wt::quic;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_ack(const AckFrame& a) {
  // Decoding validated the ranges: they descend and never wrap below 0.
  bool first = true;
  AckRange prev;
  uint64_t count = 0;
  for (const AckRange& r : a) {
    check(r.smallest <= r.largest);
    if (first) {
      check(r.largest == a.largest_acknowledged);
    } else {
      check(r.largest + 2 <= prev.smallest);
    }
    first = false;
    prev = r;
    ++count;
  }
  check(count == a.range_count + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{Bytes{data, size}};
  std::vector<uint8_t> buf;
  while (!r.empty()) {
    size_t before = r.remaining();
    auto d = decode_frame(r);
    if (!d.ok()) {
      check(d.error().is(TransportError::frame_encoding_error) ||
            d.error().is(TransportError::protocol_violation));
      check(!r.ok());
      break;
    }
    check(r.remaining() < before);
    const Frame& f = *d;
    uint64_t type = frame_type_of(f);
    check(frame_allowed_in(type, PacketType::one_rtt));
    if (const auto* a = std::get_if<AckFrame>(&f)) check_ack(*a);

    size_t n = encoded_size(f);
    buf.assign(n, 0xee);  // exact size: ASan catches any overrun
    Writer w{MutBytes{buf}};
    check(encode_frame(w, f));
    check(w.written() == n);
    Reader r2{Bytes{buf}};
    auto d2 = decode_frame(r2);
    check(d2.ok());
    check(r2.empty());
    check(*d2 == f);
    check(frame_type_of(*d2) == type);
  }
  return 0;
}
