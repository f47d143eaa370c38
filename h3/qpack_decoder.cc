#include "h3/qpack_decoder.h"

#include <algorithm>

#include "h3/huffman.h"
#include "h3/qpack_error.h"
#include "h3/qpack_hash.h"
#include "h3/qpack_static_table.h"

namespace wt::h3 {

using qpack_error::decompression;
using qpack_error::encoder_stream;

Result<uint64_t> QpackDecoder::decode_required_insert_count(uint64_t encoded) const {
  // RFC 9204 §4.5.1.1.
  if (encoded == 0) return uint64_t{0};
  const uint64_t max_entries = max_table_capacity_ / QpackDynamicTable::kEntryOverhead;
  const uint64_t full_range = 2 * max_entries;
  if (encoded > full_range) return decompression("invalid Required Insert Count");
  const uint64_t max_value = table_.insert_count() + max_entries;
  const uint64_t max_wrapped = (max_value / full_range) * full_range;
  uint64_t ric = max_wrapped + encoded - 1;
  if (ric > max_value) {
    if (ric <= full_range) return decompression("invalid Required Insert Count");
    ric -= full_range;
  }
  if (ric == 0) return decompression("invalid Required Insert Count");
  return ric;
}

Result<QpackDecoder::Prefix> QpackDecoder::parse_prefix(Bytes block) const {
  const uint8_t* p = block.data();
  const uint8_t* const end = p + block.size();
  uint64_t encoded = 0;
  if (qpack_get_int(p, end, 8, encoded) != QpackParse::ok || p == end) {
    return decompression("invalid field section prefix");
  }
  const bool sign = *p & 0x80;
  uint64_t delta = 0;
  if (qpack_get_int(p, end, 7, delta) != QpackParse::ok) {
    return decompression("invalid field section prefix");
  }
  Prefix pre;
  WT_ASSIGN(pre.required_insert_count, decode_required_insert_count(encoded));
  const uint64_t ric = pre.required_insert_count;
  // §4.5.1.2. Without dynamic references the Base is irrelevant.
  if (ric > 0) {
    if (!sign) {
      pre.base = ric + delta;
    } else if (delta < ric) {
      pre.base = ric - delta - 1;
    } else {
      return decompression("negative Base");
    }
  }
  pre.lines_offset = static_cast<size_t>(p - block.data());
  return pre;
}

bool QpackDecoder::has_blocked(uint64_t stream_id) const {
  return std::any_of(blocked_.begin(), blocked_.end(),
                     [&](const BlockedSection& b) { return b.stream_id == stream_id; });
}

size_t QpackDecoder::blocked_streams() const {
  size_t n = 0;
  for (size_t i = 0; i < blocked_.size(); ++i) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j) seen = blocked_[j].stream_id == blocked_[i].stream_id;
    if (!seen) ++n;
  }
  return n;
}

Result<QpackDecoder::Decoded> QpackDecoder::decode(uint64_t stream_id, Bytes block) {
  HeaderList out;
  WT_ASSIGN(const Outcome o, decode_into(stream_id, block, out));
  if (o == Outcome::blocked) return Decoded{Blocked{}};
  return Decoded{std::move(out)};
}

Result<QpackDecoder::Outcome> QpackDecoder::decode_into(uint64_t stream_id, Bytes block,
                                                        HeaderList& out) {
  out.clear();
  WT_ASSIGN(const Prefix pre, parse_prefix(block));
  const Bytes lines = block.subspan(pre.lines_offset);
  // A later section on a stream waits behind a blocked one: sections of a
  // stream are delivered in order.
  const bool queued = !blocked_.empty() && has_blocked(stream_id);
  if (pre.required_insert_count > table_.insert_count() || queued) {
    // §2.1.2: more blocked streams than we allow is the encoder's fault.
    if (!queued && blocked_streams() >= max_blocked_streams_) {
      return decompression("blocked streams exceed SETTINGS_QPACK_BLOCKED_STREAMS");
    }
    blocked_.push_back({stream_id, pre.required_insert_count, pre.base,
                        std::vector<uint8_t>(lines.begin(), lines.end())});
    return Outcome::blocked;
  }
  WT_TRY(decode_section_into(stream_id, lines, pre.required_insert_count, pre.base, out));
  return Outcome::decoded;
}

Result<HeaderList> QpackDecoder::decode_section(uint64_t stream_id, Bytes lines, uint64_t ric,
                                                uint64_t base) {
  HeaderList out;
  WT_TRY(decode_section_into(stream_id, lines, ric, base, out));
  return out;
}

Status QpackDecoder::decode_section_into(uint64_t stream_id, Bytes lines, uint64_t ric,
                                         uint64_t base, HeaderList& out) {
  // At least a byte per field line; most take a few.
  out.reserve(std::min<size_t>(lines.size() / 2 + 1, 32));
  const Status s = decode_lines(lines, ric, base, out);
  if (!s.ok() && s.error().code != qpack_error::field_section_too_large) {
    out.clear();
    return s.error();
  }
  if (ric > 0) {
    qpack_put_int(dec_out_, 0x80, 7, stream_id);  // §4.4.1 Section Acknowledgment
    krc_ = std::max(krc_, ric);                   // §2.1.4
  }
  return s;
}

namespace {

// Resolves dynamic references of a field section (§3.2.5, §3.2.6) and checks
// them against the Required Insert Count and evictions (§2.2.3).
struct Refs {
  const QpackDynamicTable& table;
  uint64_t ric;
  uint64_t base;
  uint64_t max_ref = 0;
  bool any = false;

  const QpackDynamicTable::Entry* note(uint64_t abs) {
    if (abs >= ric || !table.contains(abs)) return nullptr;
    max_ref = any ? std::max(max_ref, abs) : abs;
    any = true;
    return &table.at(abs);
  }
  const QpackDynamicTable::Entry* relative(uint64_t idx) {
    if (idx >= base) return nullptr;
    return note(base - 1 - idx);
  }
  const QpackDynamicTable::Entry* post_base(uint64_t idx) {
    if (base >= ric || idx >= ric - base) return nullptr;
    return note(base + idx);
  }
};

}  // namespace

namespace {

// A string literal of a field line (§4.1.2) with an N-bit prefix, as a view
// of the block or, when Huffman-coded, of `scratch`. False on any error: a
// field section is complete, so a short string is malformed too.
bool get_string_view(const uint8_t*& p, const uint8_t* end, unsigned prefix_bits,
                     std::vector<char>& scratch, std::string_view& out) {
  const bool huff = (*p >> (prefix_bits - 1)) & 1;
  uint64_t len = 0;
  if (qpack_get_int(p, end, prefix_bits - 1, len) != QpackParse::ok) return false;
  if (len > static_cast<uint64_t>(end - p)) return false;
  const size_t n = static_cast<size_t>(len);
  if (!huff) {
    out = {reinterpret_cast<const char*>(p), n};
    p += n;
    return true;
  }
  const size_t bound = huffman_decode_bound(n);
  if (scratch.size() < bound) scratch.resize(std::max<size_t>(bound, 64));
  size_t decoded = 0;
  if (!huffman_decode({p, n}, scratch.data(), decoded)) return false;
  out = {scratch.data(), decoded};
  p += n;
  return true;
}

}  // namespace

Status QpackDecoder::decode_lines(Bytes lines, uint64_t ric, uint64_t base, HeaderList& out) {
  const uint8_t* p = lines.data();
  const uint8_t* const end = p + lines.size();
  const auto statics = qpack_static_table();
  Refs refs{table_, ric, base};
  uint64_t total = 0;
  bool over = false;
  const auto bad_int = [] { return decompression("invalid integer in field line"); };
  const auto bad_ref = [] { return decompression("invalid dynamic table reference"); };
  while (p < end) {
    const uint8_t first = *p;
    std::string_view name, value;
    bool never_index = false;
    uint64_t idx = 0;
    bool value_follows = true;
    if (first & 0x80) {  // §4.5.2 Indexed Field Line
      if (qpack_get_int(p, end, 6, idx) != QpackParse::ok) return bad_int();
      if (first & 0x40) {
        if (idx >= statics.size()) return decompression("invalid static table index");
        name = statics[idx].name;
        value = statics[idx].value;
      } else {
        const auto* e = refs.relative(idx);
        if (!e) return bad_ref();
        name = e->name;
        value = e->value;
      }
      value_follows = false;
    } else if (first & 0x40) {  // §4.5.4 Literal Field Line With Name Reference
      never_index = first & 0x20;
      if (qpack_get_int(p, end, 4, idx) != QpackParse::ok) return bad_int();
      if (first & 0x10) {
        if (idx >= statics.size()) return decompression("invalid static table index");
        name = statics[idx].name;
      } else {
        const auto* e = refs.relative(idx);
        if (!e) return bad_ref();
        name = e->name;
      }
    } else if (first & 0x20) {  // §4.5.6 Literal Field Line With Literal Name
      never_index = first & 0x10;
      if (!get_string_view(p, end, 4, huff_name_, name)) {
        return decompression("invalid field name literal");
      }
    } else if (first & 0x10) {  // §4.5.3 Indexed Field Line With Post-Base Index
      if (qpack_get_int(p, end, 4, idx) != QpackParse::ok) return bad_int();
      const auto* e = refs.post_base(idx);
      if (!e) return bad_ref();
      name = e->name;
      value = e->value;
      value_follows = false;
    } else {  // §4.5.5 Literal Field Line With Post-Base Name Reference
      never_index = first & 0x08;
      if (qpack_get_int(p, end, 3, idx) != QpackParse::ok) return bad_int();
      const auto* e = refs.post_base(idx);
      if (!e) return bad_ref();
      name = e->name;
    }
    if (value_follows && (p == end || !get_string_view(p, end, 8, huff_value_, value))) {
      return decompression("invalid field value literal");
    }
    // RFC 9114 §4.2.2. Keep validating the rest so the section can be
    // acknowledged, but stop collecting.
    total += field_line_size(name, value);
    if (total > max_field_section_size_) over = true;
    if (!over) {
      HeaderField& f = out.emplace_back();  // built in place: no string moves
      qpack_set_string(f.name, name);
      qpack_set_string(f.value, value);
      f.never_index = never_index;
    }
  }
  // §2.2.1: a Required Insert Count above what the references need is not
  // what a conformant encoder sends.
  if (ric > 0 && (!refs.any || refs.max_ref + 1 != ric)) {
    return decompression("Required Insert Count exceeds the references");
  }
  if (over) {
    out.clear();
    return Error::app(qpack_error::field_section_too_large,
                      "field section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE");
  }
  return {};
}

Status QpackDecoder::on_encoder_stream_bytes(Bytes data) {
  if (data.empty()) return {};
  const uint64_t inserts = table_.insert_count();
  if (enc_in_.empty()) {
    const uint8_t* p = data.data();
    const uint8_t* const end = p + data.size();
    WT_TRY(run_instructions(p, end));
    enc_in_.assign(p, end);
  } else {
    enc_in_.insert(enc_in_.end(), data.begin(), data.end());
    if (enc_in_.size() >= enc_need_) {
      const uint8_t* p = enc_in_.data();
      WT_TRY(run_instructions(p, enc_in_.data() + enc_in_.size()));
      enc_in_.erase(enc_in_.begin(), enc_in_.begin() + (p - enc_in_.data()));
    }
  }
  if (table_.insert_count() != inserts) WT_TRY(unblock());
  return {};
}

Status QpackDecoder::run_instructions(const uint8_t*& p, const uint8_t* end) {
  while (p < end) {
    size_t missing = 1;
    Error err;
    const QpackParse r = apply_instruction(p, end, missing, err);
    if (r == QpackParse::error) return err;
    if (r == QpackParse::incomplete) {
      enc_need_ = static_cast<size_t>(end - p) + missing;
      break;
    }
  }
  return {};
}

QpackParse QpackDecoder::apply_instruction(const uint8_t*& p, const uint8_t* end,
                                           size_t& missing, Error& err) {
  const uint8_t* q = p;
  const uint8_t first = *q;
  uint64_t idx = 0;
  QpackStringError why = QpackStringError::none;
  // An entry must fit in the capacity (§3.2.2); a Huffman string at most
  // 30/8 times longer than its decoding.
  const uint64_t max_len = table_.capacity() * 4 + 8;
  const auto fail = [&](const char* detail) {
    err = encoder_stream(detail);
    return QpackParse::error;
  };
  const auto string = [&](unsigned prefix, std::string& out) {
    const QpackParse r = qpack_get_string(q, end, prefix, max_len, out, missing, why);
    if (r == QpackParse::error) {
      err = encoder_stream(why == QpackStringError::bad_huffman ? "invalid Huffman string"
                                                               : "string literal too long");
    }
    return r;
  };

  if (first & 0x80) {  // §4.3.2 Insert With Name Reference
    QpackParse r = qpack_get_int(q, end, 6, idx);
    if (r == QpackParse::error) return fail("invalid integer");
    if (r == QpackParse::incomplete) return r;
    if ((r = string(8, value_)) != QpackParse::ok) return r;
    if (first & 0x40) {
      if (idx >= kQpackStaticTableSize) return fail("invalid static table index");
      name_ = qpack_static_table()[idx].name;
    } else {
      // §3.2.5: relative to the most recent insertion; §2.2.3 for evicted.
      if (idx >= table_.count()) return fail("invalid dynamic table reference");
      name_ = table_.at(table_.insert_count() - 1 - idx).name;
    }
  } else if (first & 0x40) {  // §4.3.3 Insert With Literal Name
    QpackParse r = string(6, name_);
    if (r != QpackParse::ok) return r;
    if ((r = string(8, value_)) != QpackParse::ok) return r;
  } else if (first & 0x20) {  // §4.3.1 Set Dynamic Table Capacity
    const QpackParse r = qpack_get_int(q, end, 5, idx);
    if (r == QpackParse::error) return fail("invalid integer");
    if (r == QpackParse::incomplete) return r;
    if (idx > max_table_capacity_) return fail("capacity exceeds SETTINGS_QPACK_MAX_TABLE_CAPACITY");
    table_.set_capacity(idx);
    p = q;
    return QpackParse::ok;
  } else {  // §4.3.4 Duplicate
    const QpackParse r = qpack_get_int(q, end, 5, idx);
    if (r == QpackParse::error) return fail("invalid integer");
    if (r == QpackParse::incomplete) return r;
    if (idx >= table_.count()) return fail("invalid dynamic table reference");
    const QpackDynamicTable::Entry& e = table_.at(table_.insert_count() - 1 - idx);
    name_ = e.name;  // copied before the insertion may evict it (§3.2.2)
    value_ = e.value;
  }
  if (QpackDynamicTable::entry_size(name_, value_) > table_.capacity()) {
    return fail("entry larger than the dynamic table capacity");  // §3.2.2
  }
  table_.insert(std::move(name_), std::move(value_));
  name_.clear();
  value_.clear();
  p = q;
  return QpackParse::ok;
}

Status QpackDecoder::unblock() {
  std::vector<BlockedSection> still;
  for (size_t i = 0; i < blocked_.size(); ++i) {
    BlockedSection& b = blocked_[i];
    const bool behind = std::any_of(still.begin(), still.end(), [&](const BlockedSection& s) {
      return s.stream_id == b.stream_id;
    });
    if (behind || b.required_insert_count > table_.insert_count()) {
      still.push_back(std::move(b));
      continue;
    }
    auto r = decode_section(b.stream_id, b.lines, b.required_insert_count, b.base);
    if (!r.ok() && r.error().code != qpack_error::field_section_too_large) return r.error();
    unblocked_.push_back({b.stream_id, std::move(r)});
  }
  blocked_ = std::move(still);
  return {};
}

void QpackDecoder::cancel_stream(uint64_t stream_id) {
  std::erase_if(blocked_, [&](const BlockedSection& b) { return b.stream_id == stream_id; });
  // §4.4.2; optional when the encoder cannot have used the dynamic table.
  if (max_table_capacity_ > 0) qpack_put_int(dec_out_, 0x40, 6, stream_id);
}

void QpackDecoder::put_insert_count_increment(std::vector<uint8_t>& out) {
  // §4.4.3: one increment for the inserts not covered by acknowledgments.
  if (table_.insert_count() > krc_) {
    qpack_put_int(out, 0x00, 6, table_.insert_count() - krc_);
    krc_ = table_.insert_count();
  }
}

std::vector<uint8_t> QpackDecoder::take_decoder_stream_bytes() {
  std::vector<uint8_t> out;
  take_decoder_stream_bytes(out);
  return out;
}

}  // namespace wt::h3
