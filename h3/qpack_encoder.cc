#include "h3/qpack_encoder.h"

#include <algorithm>
#include <array>
#include <bit>
#include <utility>

#include "h3/qpack_error.h"
#include "h3/qpack_hash.h"
#include "h3/qpack_instructions.h"
#include "h3/qpack_static_table.h"

namespace wt::h3 {
namespace {

uint64_t name_hash(std::string_view name) { return qpack_hash(name); }
uint64_t field_hash(std::string_view name, std::string_view value) {
  return qpack_hash(value, qpack_hash(name));
}

// RFC 9204 §7.1.3: values worth protecting from dynamic table probing.
constexpr std::array<std::string_view, 4> kSensitive = {
    "authorization", "proxy-authorization", "cookie", "set-cookie"};
// Values that usually change with every message: inserting them only evicts
// entries that would have been reused.
constexpr std::array<std::string_view, 16> kPerMessage = {
    ":path",         "content-length", "date",     "etag",
    "if-modified-since", "if-none-match", "if-range", "last-modified",
    "location",      "age",            "expires",  "content-range",
    "referer",       "x-request-id",   "traceparent", "content-md5"};

// A name set indexed by length: most names are compared with nothing.
template <size_t N>
class NameSet {
 public:
  constexpr explicit NameSet(const std::array<std::string_view, N>& names) : names_(names) {
    static_assert(N <= 32);
    for (size_t i = 0; i < N; ++i) by_len_[slot(names[i].size())] |= uint32_t{1} << i;
  }
  bool contains(std::string_view name) const {
    for (uint32_t m = by_len_[slot(name.size())]; m != 0; m &= m - 1) {
      if (qpack_equal(names_[static_cast<size_t>(std::countr_zero(m))], name)) return true;
    }
    return false;
  }

 private:
  static constexpr size_t kMaxLen = 31;  // longer names share the last slot
  static constexpr size_t slot(size_t len) { return len < kMaxLen ? len : kMaxLen; }
  std::array<std::string_view, N> names_;
  std::array<uint32_t, kMaxLen + 1> by_len_{};
};

constexpr NameSet kSensitiveSet(kSensitive);
constexpr NameSet kPerMessageSet(kPerMessage);

}  // namespace

void QpackEncoder::set_peer_settings(uint64_t max_table_capacity, uint64_t blocked_streams,
                                     uint64_t max_field_section_size) {
  peer_blocked_streams_ = blocked_streams;
  peer_max_field_section_size_ = max_field_section_size;
  if (table_.capacity() != 0) return;  // SETTINGS arrive once; keep the table in use
  max_entries_ = max_table_capacity / QpackDynamicTable::kEntryOverhead;
  const uint64_t cap = std::min(max_table_capacity, config_.max_table_capacity);
  if (cap >= QpackDynamicTable::kEntryOverhead) {
    // RFC 9204 §3.2.3: the initial capacity is 0 until the encoder sets it.
    qpack_put_int(enc_out_, 0x20, 5, cap);
    table_.set_capacity(cap);
  }
}

Result<std::vector<uint8_t>> QpackEncoder::encode(uint64_t stream_id,
                                                  std::span<const HeaderField> fields) {
  std::vector<uint8_t> out;
  WT_TRY(encode(stream_id, fields, out));
  return out;
}

Status QpackEncoder::encode(uint64_t stream_id, std::span<const HeaderField> fields,
                            std::vector<uint8_t>& out) {
  // RFC 9114 §4.2.2: don't send what the peer said it would not accept.
  if (peer_max_field_section_size_ != kNoLimit &&
      field_section_size(fields) > peer_max_field_section_size_) {
    return Error::app(qpack_error::field_section_too_large,
                      "field section exceeds the peer's SETTINGS_MAX_FIELD_SECTION_SIZE");
  }
  Block b;
  b.base = table_.insert_count();
  const bool dynamic = table_.capacity() > 0 && sections_.size() < kMaxOutstandingSections;
  b.may_block =
      dynamic && (stream_blocking(stream_id) || blocking_streams() < peer_blocked_streams_);
  // The field lines go straight to `out`, after room for the usual 2-byte
  // prefix; the prefix is known once the references are.
  const size_t at = out.size();
  out.resize(at + 2);
  for (const HeaderField& f : fields) encode_field(f, dynamic, b, out);

  // Encoded field section prefix (RFC 9204 §4.5.1).
  if (b.ric == 0) {
    out[at] = 0;
    out[at + 1] = 0;
    return {};
  }
  prefix_.clear();
  qpack_put_int(prefix_, 0, 8, b.ric % (2 * max_entries_) + 1);  // §4.5.1.1
  if (b.base >= b.ric) {
    qpack_put_int(prefix_, 0x00, 7, b.base - b.ric);  // §4.5.1.2, S = 0
  } else {
    qpack_put_int(prefix_, 0x80, 7, b.ric - b.base - 1);  // S = 1
  }
  if (prefix_.size() > 2) {
    out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), prefix_.size() - 2, uint8_t{0});
  }
  std::copy(prefix_.begin(), prefix_.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
  sections_.push_back({stream_id, b.ric, b.min_ref});
  return {};
}

void QpackEncoder::encode_field(const HeaderField& f, bool dynamic, Block& b,
                                std::vector<uint8_t>& out) {
  const QpackStaticMatch sm = qpack_static_find(f.name, f.value);
  // A field received never-indexed is forwarded as a literal (§4.5.4).
  if (sm.exact >= 0 && !f.never_index) {
    qpack_put_int(out, 0xc0, 6, static_cast<uint64_t>(sm.exact));  // §4.5.2, T = 1
    return;
  }
  const bool sensitive = f.never_index || kSensitiveSet.contains(f.name);
  // Only fields worth indexing are ever inserted (the capacity and the
  // policy never change), so the others need no dynamic table lookup.
  if (dynamic && !sensitive && worth_indexing(f)) {
    uint64_t abs = 0;
    if (find_field(f.name, f.value, abs)) {
      uint64_t dup = 0;
      if (b.may_block && is_draining(abs) && duplicate(abs, b, dup)) abs = dup;
      if (usable(abs, b)) {
        emit_indexed(abs, b, out);
        return;
      }
    } else if (insert(f, sm.name, b, abs) && usable(abs, b)) {
      emit_indexed(abs, b, out);
      return;
    }
  }
  // Literal field lines (§4.5.4-§4.5.6); N marks never-indexed fields.
  const bool huff = config_.huffman;
  if (sm.name >= 0) {
    qpack_put_int(out, static_cast<uint8_t>(0x50 | (sensitive ? 0x20 : 0)), 4,
                  static_cast<uint64_t>(sm.name));
    qpack_put_string(out, 0, 8, f.value, huff);
    return;
  }
  uint64_t abs = 0;
  if (dynamic && find_name(f.name, abs) && usable(abs, b)) {
    if (abs < b.base) {
      qpack_put_int(out, static_cast<uint8_t>(0x40 | (sensitive ? 0x20 : 0)), 4,
                    b.base - 1 - abs);
    } else {
      qpack_put_int(out, static_cast<uint8_t>(sensitive ? 0x08 : 0), 3, abs - b.base);
    }
    ref(abs, b);
    qpack_put_string(out, 0, 8, f.value, huff);
    return;
  }
  qpack_put_string(out, static_cast<uint8_t>(0x20 | (sensitive ? 0x10 : 0)), 4, f.name, huff);
  qpack_put_string(out, 0, 8, f.value, huff);
}

void QpackEncoder::emit_indexed(uint64_t abs, Block& b, std::vector<uint8_t>& out) {
  if (abs < b.base) {
    qpack_put_int(out, 0x80, 6, b.base - 1 - abs);  // §4.5.2, relative
  } else {
    qpack_put_int(out, 0x10, 4, abs - b.base);  // §4.5.3, post-base
  }
  ref(abs, b);
}

void QpackEncoder::ref(uint64_t abs, Block& b) {
  b.ric = std::max(b.ric, abs + 1);
  b.min_ref = std::min(b.min_ref, abs);
}

bool QpackEncoder::find_field(std::string_view name, std::string_view value,
                              uint64_t& abs) const {
  uint64_t a = 0;
  if (!by_field_.find(field_hash(name, value), a) || !table_.contains(a)) return false;
  const QpackDynamicTable::Entry& e = table_.at(a);
  if (!qpack_equal(e.name, name) || !qpack_equal(e.value, value)) return false;  // collision
  abs = a;
  return true;
}

bool QpackEncoder::find_name(std::string_view name, uint64_t& abs) const {
  uint64_t a = 0;
  if (!by_name_.find(name_hash(name), a) || !table_.contains(a)) return false;
  if (!qpack_equal(table_.at(a).name, name)) return false;
  abs = a;
  return true;
}

// §2.1.1.1: once the table is mostly full, entries in its oldest quarter are
// draining: referencing them would hold off their eviction.
bool QpackEncoder::is_draining(uint64_t abs) const {
  const uint64_t cap = table_.capacity();
  if (table_.size() * 4 <= cap * 3) return false;
  uint64_t bytes = 0;
  for (uint64_t a = table_.dropped(); a <= abs; ++a) {
    bytes += table_.at(a).size();
    if (bytes > cap / 4) return false;
  }
  return true;
}

bool QpackEncoder::worth_indexing(const HeaderField& f) const {
  return QpackDynamicTable::entry_size(f.name, f.value) <= table_.capacity() / 2 &&
         (config_.index_all || !kPerMessageSet.contains(f.name));
}

// Entries below this absolute index are evictable (§2.1.1): acknowledged and
// referenced by no outstanding section, nor by the section being encoded.
uint64_t QpackEncoder::evict_bound(const Block& b) const {
  uint64_t bound = std::min(krc_, b.min_ref);
  for (const Section& s : sections_) bound = std::min(bound, s.min_ref);
  return bound;
}

bool QpackEncoder::insert(const HeaderField& f, int static_name, const Block& b,
                          uint64_t& abs) {
  const uint64_t size = QpackDynamicTable::entry_size(f.name, f.value);
  if (!table_.can_fit(size, evict_bound(b))) return false;
  const bool huff = config_.huffman;
  uint64_t name_abs = 0;
  if (static_name >= 0) {
    // §4.3.2 Insert With Name Reference, T = 1.
    qpack_put_int(enc_out_, 0xc0, 6, static_cast<uint64_t>(static_name));
  } else if (find_name(f.name, name_abs) && name_abs >= table_.evict_point(size)) {
    // T = 0, relative to the newest entry (§3.2.5). The named entry survives
    // this insertion, sparing decoders the §3.2.2 caution.
    qpack_put_int(enc_out_, 0x80, 6, table_.insert_count() - 1 - name_abs);
  } else {
    qpack_put_string(enc_out_, 0x40, 6, f.name, huff);  // §4.3.3
  }
  qpack_put_string(enc_out_, 0, 8, f.value, huff);
  add_entry(f.name, f.value);
  abs = table_.insert_count() - 1;
  return true;
}

bool QpackEncoder::duplicate(uint64_t src, const Block& b, uint64_t& abs) {
  const QpackDynamicTable::Entry& e = table_.at(src);
  // The copy may evict its own source: decoders copy it first (§3.2.2), and
  // that is the point of duplicating a draining entry.
  if (!table_.can_fit(e.size(), evict_bound(b))) return false;
  qpack_put_int(enc_out_, 0x00, 5, table_.insert_count() - 1 - src);  // §4.3.4
  const std::string name = e.name;
  const std::string value = e.value;
  add_entry(name, value);
  abs = table_.insert_count() - 1;
  return true;
}

void QpackEncoder::add_entry(std::string_view name, std::string_view value) {
  const uint64_t size = QpackDynamicTable::entry_size(name, value);
  while (table_.bytes_to_free(size) > 0) {
    forget(table_.dropped());
    table_.evict_oldest();
  }
  table_.insert(std::string(name), std::string(value));
  const uint64_t abs = table_.insert_count() - 1;
  by_field_.set(field_hash(name, value), abs);
  by_name_.set(name_hash(name), abs);
}

void QpackEncoder::forget(uint64_t abs) {
  const QpackDynamicTable::Entry& e = table_.at(abs);
  by_field_.erase(field_hash(e.name, e.value), abs);
  by_name_.erase(name_hash(e.name), abs);
}

bool QpackEncoder::stream_blocking(uint64_t stream_id) const {
  for (const Section& s : sections_) {
    if (s.stream_id == stream_id && s.required_insert_count > krc_) return true;
  }
  return false;
}

size_t QpackEncoder::blocking_streams() const {
  size_t n = 0;
  for (size_t i = 0; i < sections_.size(); ++i) {
    if (sections_[i].required_insert_count <= krc_) continue;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) {
      seen = sections_[j].stream_id == sections_[i].stream_id &&
             sections_[j].required_insert_count > krc_;
    }
    if (!seen) ++n;
  }
  return n;
}

std::vector<uint8_t> QpackEncoder::take_encoder_stream_bytes() {
  return std::exchange(enc_out_, {});
}

Status QpackEncoder::on_decoder_stream_bytes(Bytes data) {
  if (data.empty()) return {};
  const bool buffered = !dec_in_.empty();
  if (buffered) dec_in_.insert(dec_in_.end(), data.begin(), data.end());
  const uint8_t* p = buffered ? dec_in_.data() : data.data();
  const uint8_t* const end = p + (buffered ? dec_in_.size() : data.size());
  const uint8_t* const start = p;
  while (p < end) {
    const uint8_t first = *p;
    uint64_t v = 0;
    const unsigned prefix = (first & 0x80) ? 7 : 6;
    const QpackParse r = qpack_get_int(p, end, prefix, v);
    if (r == QpackParse::incomplete) break;
    if (r == QpackParse::error) return qpack_error::decoder_stream("invalid integer");
    if (first & 0x80) {
      WT_TRY(on_section_ack(v));  // §4.4.1
    } else if (first & 0x40) {
      on_stream_cancel(v);  // §4.4.2
    } else {
      WT_TRY(on_insert_count_increment(v));  // §4.4.3
    }
  }
  const size_t used = static_cast<size_t>(p - start);
  if (buffered) {
    dec_in_.erase(dec_in_.begin(), dec_in_.begin() + static_cast<std::ptrdiff_t>(used));
  } else {
    dec_in_.assign(p, end);
  }
  return {};
}

Status QpackEncoder::on_section_ack(uint64_t stream_id) {
  // Acknowledges the earliest unacknowledged section on the stream (§2.2.2.1).
  for (auto it = sections_.begin(); it != sections_.end(); ++it) {
    if (it->stream_id != stream_id) continue;
    krc_ = std::max(krc_, it->required_insert_count);  // §2.1.4
    sections_.erase(it);
    return {};
  }
  return qpack_error::decoder_stream("Section Acknowledgment without outstanding section");
}

void QpackEncoder::on_stream_cancel(uint64_t stream_id) {
  std::erase_if(sections_, [&](const Section& s) { return s.stream_id == stream_id; });
}

Status QpackEncoder::on_insert_count_increment(uint64_t increment) {
  if (increment == 0 || increment > table_.insert_count() - krc_) {
    return qpack_error::decoder_stream("invalid Insert Count Increment");
  }
  krc_ += increment;
  return {};
}

}  // namespace wt::h3
