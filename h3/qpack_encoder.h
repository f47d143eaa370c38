// QPACK encoder (RFC 9204 §2.1, §4.3, §4.5), sans-I/O: field sections in,
// encoded field sections and encoder-stream bytes out, decoder-stream bytes
// in.
//
// Policy: static table matches first; the dynamic table only when the peer
// allows it (SETTINGS_QPACK_MAX_TABLE_CAPACITY > 0). Fields likely to repeat
// (:authority, user-agent, accept-*, custom headers...) are inserted and
// referenced; per-message values (:path, content-length, date, etag...) are
// not; sensitive fields (authorization, cookie, set-cookie,
// proxy-authorization, or HeaderField::never_index) are never-indexed
// literals (§7.1.3). Entries close to eviction are duplicated rather than
// referenced (§2.1.1.1). Strings are Huffman-coded when that is shorter.
//
// Bookkeeping (§2.1.1, §2.1.2, §2.1.4): each field section with dynamic
// references is remembered until acknowledged or its stream cancelled; an
// entry is evicted only once its insertion is acknowledged and no
// outstanding section references it. A section that references entries not
// yet acknowledged can block its stream; the encoder keeps the number of such
// streams within the peer's SETTINGS_QPACK_BLOCKED_STREAMS and otherwise
// references only acknowledged entries.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "h3/header_field.h"
#include "h3/qpack_dynamic_table.h"
#include "h3/qpack_hash.h"
#include "lib/bytes.h"
#include "lib/result.h"

namespace wt::h3 {

class QpackEncoder {
 public:
  static constexpr uint64_t kNoLimit = UINT64_MAX;

  struct Config {
    // Upper bound on the dynamic table capacity we use; the peer's
    // SETTINGS_QPACK_MAX_TABLE_CAPACITY bounds it further.
    uint64_t max_table_capacity = 4096;
    bool huffman = true;
    // Insert every non-sensitive field that fits, not only those likely to
    // repeat (reproduces RFC 9204 Appendix B; costs table churn otherwise).
    bool index_all = false;
  };

  QpackEncoder() : QpackEncoder(Config{}) {}
  explicit QpackEncoder(Config config) : config_(config) {}

  // The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY, SETTINGS_QPACK_BLOCKED_STREAMS
  // (RFC 9204 §5) and SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2).
  // Until called, only the static table is used. Queues a Set Dynamic Table
  // Capacity instruction when the dynamic table becomes usable.
  void set_peer_settings(uint64_t max_table_capacity, uint64_t blocked_streams,
                         uint64_t max_field_section_size = kNoLimit);

  // Appends the encoded field section for `stream_id` to `out`; any encoder
  // instructions it needs are queued for take_encoder_stream_bytes(), which
  // must be sent no later than the field section. Fails only when the
  // section exceeds the peer's SETTINGS_MAX_FIELD_SECTION_SIZE (then nothing
  // is appended).
  Status encode(uint64_t stream_id, std::span<const HeaderField> fields,
                std::vector<uint8_t>& out);
  Result<std::vector<uint8_t>> encode(uint64_t stream_id, std::span<const HeaderField> fields);

  std::vector<uint8_t> take_encoder_stream_bytes();
  // The same into `out` (its old contents dropped); the encoder keeps
  // out's capacity for the next instructions.
  void take_encoder_stream_bytes(std::vector<uint8_t>& out) {
    out.clear();
    std::swap(out, enc_out_);
  }
  bool has_encoder_stream_bytes() const { return !enc_out_.empty(); }

  // Decoder instructions (RFC 9204 §4.4), in pieces of any size. Errors are
  // QPACK_DECODER_STREAM_ERROR (connection errors).
  Status on_decoder_stream_bytes(Bytes data);

  const QpackDynamicTable& table() const { return table_; }
  uint64_t known_received_count() const { return krc_; }
  // Streams with an unacknowledged section that may block the decoder.
  size_t blocking_streams() const;
  // Unacknowledged field sections that reference the dynamic table.
  size_t outstanding_sections() const { return sections_.size(); }

 private:
  static constexpr uint64_t kNone = UINT64_MAX;
  // Beyond this many unacknowledged sections, stop using the dynamic table.
  static constexpr size_t kMaxOutstandingSections = 1024;

  struct Section {
    uint64_t stream_id;
    uint64_t required_insert_count;
    uint64_t min_ref;  // smallest absolute index referenced
  };
  struct Block {  // state while encoding one field section
    uint64_t base = 0;
    uint64_t ric = 0;  // largest referenced absolute index + 1
    uint64_t min_ref = kNone;
    bool may_block = false;
  };

  void encode_field(const HeaderField& f, bool dynamic, Block& b, std::vector<uint8_t>& out);
  static void emit_indexed(uint64_t abs, Block& b, std::vector<uint8_t>& out);
  static void ref(uint64_t abs, Block& b);
  bool usable(uint64_t abs, const Block& b) const { return abs < krc_ || b.may_block; }

  bool find_field(std::string_view name, std::string_view value, uint64_t& abs) const;
  bool find_name(std::string_view name, uint64_t& abs) const;
  bool is_draining(uint64_t abs) const;
  bool worth_indexing(const HeaderField& f) const;
  uint64_t evict_bound(const Block& b) const;
  bool insert(const HeaderField& f, int static_name, const Block& b, uint64_t& abs);
  bool duplicate(uint64_t src, const Block& b, uint64_t& abs);
  void add_entry(std::string_view name, std::string_view value);
  void forget(uint64_t abs);

  bool stream_blocking(uint64_t stream_id) const;
  Status on_section_ack(uint64_t stream_id);
  void on_stream_cancel(uint64_t stream_id);
  Status on_insert_count_increment(uint64_t increment);

  Config config_;
  QpackDynamicTable table_;
  uint64_t max_entries_ = 0;  // floor(peer's max capacity / 32), RFC 9204 §4.5.1.1
  uint64_t peer_blocked_streams_ = 0;
  uint64_t peer_max_field_section_size_ = kNoLimit;
  uint64_t krc_ = 0;  // Known Received Count (§2.1.4)
  std::vector<Section> sections_;  // in the order sent
  // Latest entry by hash of (name, value) and of name.
  QpackHashIndex by_field_;
  QpackHashIndex by_name_;
  std::vector<uint8_t> prefix_;   // scratch for the encoded field section prefix
  std::vector<uint8_t> enc_out_;  // encoder stream
  std::vector<uint8_t> dec_in_;   // partial decoder instruction
};

}  // namespace wt::h3
