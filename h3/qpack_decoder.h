// QPACK decoder (RFC 9204 §2.2, §4.3, §4.5), sans-I/O: encoded field sections
// and encoder-stream bytes in; field sections and decoder-stream bytes out.
//
// A field section whose Required Insert Count exceeds the inserts received so
// far is blocked (§2.2.1): decode() keeps a copy and returns Blocked; once
// on_encoder_stream_bytes() has received the inserts it needs, it is decoded
// and handed out by take_unblocked(), in arrival order per stream.
//
// Decoder instructions (§4.4) accumulate for take_decoder_stream_bytes():
// a Section Acknowledgment per decoded section that referenced the dynamic
// table, Stream Cancellations, and, when taken, one Insert Count Increment
// covering inserts not already acknowledged by those (§2.2.2.3).
//
// Errors: QPACK_DECOMPRESSION_FAILED and QPACK_ENCODER_STREAM_ERROR are
// connection errors. A section larger than max_field_section_size yields
// qpack_error::field_section_too_large, a stream error: the section is still
// fully validated and acknowledged.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "h3/header_field.h"
#include "h3/qpack_dynamic_table.h"
#include "h3/qpack_instructions.h"
#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::h3 {

class QpackDecoder {
 public:
  static constexpr uint64_t kNoLimit = UINT64_MAX;

  struct Blocked {};
  using Decoded = std::variant<HeaderList, Blocked>;
  struct Unblocked {
    uint64_t stream_id;
    Result<HeaderList> headers;  // ok, or field_section_too_large
  };

  // Our SETTINGS_QPACK_MAX_TABLE_CAPACITY, SETTINGS_QPACK_BLOCKED_STREAMS and
  // SETTINGS_MAX_FIELD_SECTION_SIZE.
  QpackDecoder(uint64_t max_table_capacity, uint64_t max_blocked_streams,
               uint64_t max_field_section_size = kNoLimit)
      : max_table_capacity_(max_table_capacity),
        max_blocked_streams_(max_blocked_streams),
        max_field_section_size_(max_field_section_size) {}

  // Decodes one encoded field section (the payload of a HEADERS frame).
  Result<Decoded> decode(uint64_t stream_id, Bytes block);

  // The same, into `out` (cleared first; its capacity is reused), which
  // saves a list allocation when the caller keeps one. `decoded`: `out`
  // holds the fields; `blocked`: as Blocked above (the section comes out of
  // take_unblocked()). On an error `out` is left empty.
  enum class Outcome : uint8_t { decoded, blocked };
  Result<Outcome> decode_into(uint64_t stream_id, Bytes block, HeaderList& out);

  // Encoder instructions, in pieces of any size. May unblock sections.
  Status on_encoder_stream_bytes(Bytes data);
  std::vector<Unblocked> take_unblocked() { return std::exchange(unblocked_, {}); }
  bool has_unblocked() const { return !unblocked_.empty(); }

  // The stream was reset or its reading abandoned (§2.2.2.2): drops its
  // blocked sections and queues a Stream Cancellation.
  void cancel_stream(uint64_t stream_id);

  std::vector<uint8_t> take_decoder_stream_bytes();
  // The same into `out` (its old contents dropped), whose capacity the
  // decoder keeps for the next instructions: no allocation per batch.
  void take_decoder_stream_bytes(std::vector<uint8_t>& out) {
    out.clear();
    std::swap(out, dec_out_);
    put_insert_count_increment(out);
  }
  bool has_decoder_stream_bytes() const {
    return !dec_out_.empty() || table_.insert_count() > krc_;
  }

  size_t blocked_streams() const;
  const QpackDynamicTable& table() const { return table_; }
  uint64_t known_received_count() const { return krc_; }

 private:
  struct Prefix {
    uint64_t required_insert_count = 0;
    uint64_t base = 0;
    size_t lines_offset = 0;
  };
  struct BlockedSection {
    uint64_t stream_id;
    uint64_t required_insert_count;
    uint64_t base;
    std::vector<uint8_t> lines;
  };

  void put_insert_count_increment(std::vector<uint8_t>& out);
  Result<Prefix> parse_prefix(Bytes block) const;
  Result<uint64_t> decode_required_insert_count(uint64_t encoded) const;
  // Decodes field lines, then acknowledges the section.
  Result<HeaderList> decode_section(uint64_t stream_id, Bytes lines, uint64_t ric,
                                    uint64_t base);
  Status decode_section_into(uint64_t stream_id, Bytes lines, uint64_t ric, uint64_t base,
                             HeaderList& out);
  Status decode_lines(Bytes lines, uint64_t ric, uint64_t base, HeaderList& out);
  bool has_blocked(uint64_t stream_id) const;
  Status unblock();
  // Applies one encoder instruction; on incomplete, `missing` bytes at least
  // are still needed and nothing changed.
  QpackParse apply_instruction(const uint8_t*& p, const uint8_t* end, size_t& missing,
                               Error& err);
  Status run_instructions(const uint8_t*& p, const uint8_t* end);

  uint64_t max_table_capacity_;
  uint64_t max_blocked_streams_;
  uint64_t max_field_section_size_;
  QpackDynamicTable table_;
  uint64_t krc_ = 0;  // Known Received Count as told to the encoder (§2.1.4)
  std::vector<BlockedSection> blocked_;  // arrival order
  std::vector<Unblocked> unblocked_;
  std::vector<uint8_t> enc_in_;  // partial encoder instruction
  size_t enc_need_ = 0;          // enc_in_ size worth parsing again
  std::vector<uint8_t> dec_out_;
  std::string name_, value_;  // scratch for encoder instructions
  std::vector<char> huff_name_, huff_value_;  // Huffman-decoded field line strings
};

}  // namespace wt::h3
