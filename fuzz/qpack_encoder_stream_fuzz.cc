// libFuzzer target for QPACK encoder-stream instructions (RFC 9204 §4.3) fed
// to a decoder. The input goes to one decoder whole and to another in pieces
// whose sizes the input's first bytes choose: both must agree on success or
// failure and on the resulting table. Errors carry QPACK_ENCODER_STREAM_ERROR
// (or QPACK_DECOMPRESSION_FAILED for a blocked section that an insert
// unblocks, not exercised here). The table never exceeds its capacity.
#include <cstdint>
#include <cstdlib>

#include "h3/qpack_decoder.h"
#include "h3/qpack_error.h"
#include "lib/bytes.h"

using namespace wt;
using namespace wt::h3;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_table(const QpackDynamicTable& t) {
  check(t.size() <= t.capacity());
  uint64_t sum = 0;
  for (uint64_t a = t.dropped(); a < t.insert_count(); ++a) sum += t.at(a).size();
  check(sum == t.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint64_t max_capacity = uint64_t{data[0]} * 16;  // 0..4080
  const uint8_t split_seed = data[1];
  const Bytes in{data + 2, size - 2};

  QpackDecoder whole(max_capacity, 4);
  const Status sw = whole.on_encoder_stream_bytes(in);
  if (!sw.ok()) {
    check(sw.error().application && sw.error().code == qpack_error::encoder_stream_error);
  }

  QpackDecoder split(max_capacity, 4);
  Status ss;
  size_t at = 0;
  unsigned piece = split_seed;
  while (at < in.size() && ss.ok()) {
    const size_t n = std::min<size_t>(in.size() - at, 1 + piece % 7);
    piece = piece * 33 + 7;
    ss = split.on_encoder_stream_bytes(in.subspan(at, n));
    at += n;
  }
  check(ss.ok() == sw.ok());
  if (sw.ok()) {
    check(whole.table().insert_count() == split.table().insert_count());
    check(whole.table().size() == split.table().size());
    for (uint64_t a = whole.table().dropped(); a < whole.table().insert_count(); ++a) {
      check(whole.table().at(a).name == split.table().at(a).name);
      check(whole.table().at(a).value == split.table().at(a).value);
    }
    check_table(whole.table());
    // Decoder instructions: one Insert Count Increment for everything.
    const auto d = whole.take_decoder_stream_bytes();
    check(d.empty() == (whole.table().insert_count() == 0));
  }
  check_table(split.table());
  return 0;
}
