// libFuzzer target for QPACK field sections (RFC 9204 §4.5). A decoder with a
// primed dynamic table (some entries evicted) decodes fuzzer-chosen sections
// on fuzzer-chosen streams, interleaved with a few encoder-stream bytes and
// stream cancellations. Invariants: errors carry QPACK_DECOMPRESSION_FAILED
// (or the field-section-size stream error); a decoded section respects the
// size limit and survives a re-encode/decode round trip unchanged.
#include <cstdint>
#include <cstdlib>
#include <variant>
#include <vector>

#include "h3/header_field.h"
#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"
#include "h3/qpack_error.h"
#include "h3/qpack_instructions.h"
#include "lib/bytes.h"

using namespace wt;
using namespace wt::h3;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr uint64_t kCapacity = 256;
constexpr uint64_t kBlocked = 3;
constexpr uint64_t kMaxSection = 2048;

// Capacity 256, then 12 inserts of mixed kinds: the oldest are evicted.
std::vector<uint8_t> primer() {
  std::vector<uint8_t> s;
  qpack_put_int(s, 0x20, 5, kCapacity);
  for (int i = 0; i < 12; ++i) {
    switch (i % 3) {
      case 0:
        qpack_put_int(s, 0xc0, 6, static_cast<uint64_t>(i));  // static name
        qpack_put_string(s, 0, 8, "value" + std::to_string(i), i % 2 == 0);
        break;
      case 1:
        qpack_put_string(s, 0x40, 6, "x-name" + std::to_string(i), true);
        qpack_put_string(s, 0, 8, "v", false);
        break;
      default:
        qpack_put_int(s, 0x00, 5, 1);  // Duplicate
        break;
    }
  }
  return s;
}

void check_decoded(const HeaderList& h) {
  check(field_section_size(h) <= kMaxSection);
  QpackEncoder enc;  // static table only
  auto block = enc.encode(0, h);
  check(block.ok());
  QpackDecoder dec(0, 0);
  auto again = dec.decode(0, *block);
  check(again.ok());
  const auto* h2 = std::get_if<HeaderList>(&*again);
  check(h2 && *h2 == h);
  // Never-indexed survives re-encoding (§4.5.4); our encoder also adds it
  // for sensitive names.
  for (size_t i = 0; i < h.size(); ++i) check((*h2)[i].never_index || !h[i].never_index);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<uint8_t> prime = primer();
  QpackDecoder dec(kCapacity, kBlocked, kMaxSection);
  check(dec.on_encoder_stream_bytes(prime).ok());
  Reader r{Bytes{data, size}};
  while (!r.empty()) {
    // Operation byte: low 2 bits the kind, the rest a stream id or length.
    const uint8_t op = r.u8();
    const uint64_t stream = (op >> 2) * 4;
    if ((op & 3) == 3) {
      dec.cancel_stream(stream);
      continue;
    }
    const size_t len = std::min<size_t>(r.remaining(), r.u8());
    const Bytes chunk = r.bytes(len);
    if ((op & 3) == 2) {
      const Status s = dec.on_encoder_stream_bytes(chunk);
      if (!s.ok()) {
        check(s.error().application);
        check(s.error().code == qpack_error::encoder_stream_error ||
              s.error().code == qpack_error::decompression_failed);
        break;
      }
    } else {
      auto res = dec.decode(stream, chunk);
      if (!res.ok()) {
        check(res.error().application);
        if (res.error().code == qpack_error::field_section_too_large) continue;
        check(res.error().code == qpack_error::decompression_failed);
        break;
      }
      if (const auto* h = std::get_if<HeaderList>(&*res)) check_decoded(*h);
    }
    for (auto& u : dec.take_unblocked()) {
      if (u.headers.ok()) check_decoded(*u.headers);
    }
    check(dec.blocked_streams() <= kBlocked);
    (void)dec.take_decoder_stream_bytes();
  }
  check(dec.table().size() <= dec.table().capacity());
  return 0;
}
