#include "h3/qpack_static_table.h"

#include <cstdint>

#include "h3/qpack_hash.h"

namespace wt::h3 {
namespace {

constexpr QpackStaticEntry kTable[kQpackStaticTableSize] = {
    {":authority", ""},
    {":path", "/"},
    {"age", "0"},
    {"content-disposition", ""},
    {"content-length", "0"},
    {"cookie", ""},
    {"date", ""},
    {"etag", ""},
    {"if-modified-since", ""},
    {"if-none-match", ""},
    {"last-modified", ""},
    {"link", ""},
    {"location", ""},
    {"referer", ""},
    {"set-cookie", ""},
    {":method", "CONNECT"},
    {":method", "DELETE"},
    {":method", "GET"},
    {":method", "HEAD"},
    {":method", "OPTIONS"},
    {":method", "POST"},
    {":method", "PUT"},
    {":scheme", "http"},
    {":scheme", "https"},
    {":status", "103"},
    {":status", "200"},
    {":status", "304"},
    {":status", "404"},
    {":status", "503"},
    {"accept", "*/*"},
    {"accept", "application/dns-message"},
    {"accept-encoding", "gzip, deflate, br"},
    {"accept-ranges", "bytes"},
    {"access-control-allow-headers", "cache-control"},
    {"access-control-allow-headers", "content-type"},
    {"access-control-allow-origin", "*"},
    {"cache-control", "max-age=0"},
    {"cache-control", "max-age=2592000"},
    {"cache-control", "max-age=604800"},
    {"cache-control", "no-cache"},
    {"cache-control", "no-store"},
    {"cache-control", "public, max-age=31536000"},
    {"content-encoding", "br"},
    {"content-encoding", "gzip"},
    {"content-type", "application/dns-message"},
    {"content-type", "application/javascript"},
    {"content-type", "application/json"},
    {"content-type", "application/x-www-form-urlencoded"},
    {"content-type", "image/gif"},
    {"content-type", "image/jpeg"},
    {"content-type", "image/png"},
    {"content-type", "text/css"},
    {"content-type", "text/html; charset=utf-8"},
    {"content-type", "text/plain"},
    {"content-type", "text/plain;charset=utf-8"},
    {"range", "bytes=0-"},
    {"strict-transport-security", "max-age=31536000"},
    {"strict-transport-security", "max-age=31536000; includesubdomains"},
    {"strict-transport-security", "max-age=31536000; includesubdomains; preload"},
    {"vary", "accept-encoding"},
    {"vary", "origin"},
    {"x-content-type-options", "nosniff"},
    {"x-xss-protection", "1; mode=block"},
    {":status", "100"},
    {":status", "204"},
    {":status", "206"},
    {":status", "302"},
    {":status", "400"},
    {":status", "403"},
    {":status", "421"},
    {":status", "425"},
    {":status", "500"},
    {"accept-language", ""},
    {"access-control-allow-credentials", "FALSE"},
    {"access-control-allow-credentials", "TRUE"},
    {"access-control-allow-headers", "*"},
    {"access-control-allow-methods", "get"},
    {"access-control-allow-methods", "get, post, options"},
    {"access-control-allow-methods", "options"},
    {"access-control-expose-headers", "content-length"},
    {"access-control-request-headers", "content-type"},
    {"access-control-request-method", "get"},
    {"access-control-request-method", "post"},
    {"alt-svc", "clear"},
    {"authorization", ""},
    {"content-security-policy", "script-src 'none'; object-src 'none'; base-uri 'none'"},
    {"early-data", "1"},
    {"expect-ct", ""},
    {"forwarded", ""},
    {"if-range", ""},
    {"origin", ""},
    {"purpose", "prefetch"},
    {"server", ""},
    {"timing-allow-origin", "*"},
    {"upgrade-insecure-requests", "1"},
    {"user-agent", ""},
    {"x-forwarded-for", ""},
    {"x-frame-options", "deny"},
    {"x-frame-options", "sameorigin"},
};

// Name lookup by a perfect hash built at compile time: a key from the
// name's length and first and last 8 bytes, times a multiplier chosen so
// that the 52 distinct names land in distinct slots of 256. One probe and a
// comparison of packed words; values likewise compare as packed words.
constexpr size_t kMaxGroup = 14;  // :status has 14 entries
struct NameGroup {
  QpackPacked name;
  uint8_t count = 0;
  uint8_t idx[kMaxGroup] = {};  // entries with this name, in table order
};

constexpr size_t count_names() {
  size_t n = 0;
  for (size_t i = 0; i < kQpackStaticTableSize; ++i) {
    bool seen = false;
    for (size_t j = 0; j < i; ++j) seen = seen || kTable[j].name == kTable[i].name;
    if (!seen) ++n;
  }
  return n;
}
constexpr size_t kNames = count_names();

constexpr unsigned kSlotBits = 8;
constexpr size_t name_slot(const QpackPacked& k, uint64_t mul) {
  const uint64_t key = k.head + k.tail * 3 + k.len;
  return static_cast<size_t>((key * mul) >> (64 - kSlotBits));
}

// Whether a packed query equals a packed table string `t` of the text `text`.
inline bool packed_equal(const QpackPacked& q, const char* query, const QpackPacked& t,
                         std::string_view text) {
  if (q.len != t.len || q.head != t.head || q.tail != t.tail) return false;
  // Head and tail cover 16 bytes; compare what lies between.
  return q.len <= 16 || qpack_bytes_equal(query + 8, text.data() + 8, q.len - 16);
}

// Exact (name, value) lookup: a second perfect hash over all 99 entries,
// into 2048 slots (sparse enough that a multiplier is found in a few tries).
constexpr unsigned kFieldSlotBits = 11;
constexpr size_t field_slot(const QpackPacked& n, const QpackPacked& v, uint64_t mul) {
  const uint64_t key =
      (n.head + n.tail * 3 + n.len) * 0x9e3779b97f4a7c15ull ^ (v.head + v.tail * 5 + v.len);
  return static_cast<size_t>((key * mul) >> (64 - kFieldSlotBits));
}

struct StaticIndex {
  NameGroup groups[kNames] = {};
  std::string_view group_names[kNames] = {};
  QpackPacked names[kQpackStaticTableSize] = {};
  QpackPacked values[kQpackStaticTableSize] = {};
  uint8_t first_of_name[kQpackStaticTableSize] = {};  // index of the name's first entry
  uint8_t slots[1u << kSlotBits] = {};         // name group + 1; 0: no static name
  uint8_t field_slots[1u << kFieldSlotBits] = {};  // entry + 1; 0: no static field
  uint64_t mul = 0;
  uint64_t field_mul = 0;
};

// Odd multipliers from a fixed sequence.
constexpr uint64_t next_multiplier(uint64_t& state) {
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return (state ^ (state >> 29)) | 1;
}

constexpr StaticIndex make_static_index() {
  StaticIndex x;
  size_t n = 0;
  for (size_t i = 0; i < kQpackStaticTableSize; ++i) {
    const std::string_view name = kTable[i].name;
    size_t g = 0;
    while (g < n && x.group_names[g] != name) ++g;
    if (g == n) {
      x.group_names[n] = name;
      x.groups[n++].name = qpack_pack_constexpr(name);
    }
    x.groups[g].idx[x.groups[g].count++] = static_cast<uint8_t>(i);
    x.names[i] = qpack_pack_constexpr(name);
    x.values[i] = qpack_pack_constexpr(kTable[i].value);
    x.first_of_name[i] = x.groups[g].idx[0];
  }
  // Until collision-free; `stamp` marks the slots taken in this attempt.
  uint64_t state = 0x243f6a8885a308d3ull;
  uint16_t stamp[1u << kFieldSlotBits] = {};
  for (uint16_t attempt = 1; attempt < 2000 && x.mul == 0; ++attempt) {
    const uint64_t mul = next_multiplier(state);
    bool ok = true;
    for (size_t g = 0; g < kNames && ok; ++g) {
      uint16_t& s = stamp[name_slot(x.groups[g].name, mul)];
      ok = s != attempt;
      s = attempt;
    }
    if (ok) x.mul = mul;
  }
  for (size_t g = 0; g < kNames; ++g) {
    x.slots[name_slot(x.groups[g].name, x.mul)] = static_cast<uint8_t>(g + 1);
  }
  for (auto& s : stamp) s = 0;
  for (uint16_t attempt = 1; attempt < 2000 && x.field_mul == 0; ++attempt) {
    const uint64_t mul = next_multiplier(state);
    bool ok = true;
    for (size_t i = 0; i < kQpackStaticTableSize && ok; ++i) {
      uint16_t& s = stamp[field_slot(x.names[i], x.values[i], mul)];
      ok = s != attempt;
      s = attempt;
    }
    if (ok) x.field_mul = mul;
  }
  for (size_t i = 0; i < kQpackStaticTableSize; ++i) {
    x.field_slots[field_slot(x.names[i], x.values[i], x.field_mul)] = static_cast<uint8_t>(i + 1);
  }
  return x;
}

constexpr StaticIndex kIndex = make_static_index();
static_assert(kIndex.mul != 0, "no perfect hash for the static table names");
static_assert(kIndex.field_mul != 0, "no perfect hash for the static table entries");

}  // namespace

std::span<const QpackStaticEntry, kQpackStaticTableSize> qpack_static_table() {
  return std::span<const QpackStaticEntry, kQpackStaticTableSize>(kTable);
}

QpackStaticMatch qpack_static_find(std::string_view name, std::string_view value) {
  QpackStaticMatch m;
  const StaticIndex& x = kIndex;
  const QpackPacked n = qpack_pack(name);
  const QpackPacked v = qpack_pack(value);
  // An exact match first: one probe.
  if (const uint8_t e = x.field_slots[field_slot(n, v, x.field_mul)]; e != 0) {
    const size_t i = e - 1u;
    if (packed_equal(n, name.data(), x.names[i], kTable[i].name) &&
        packed_equal(v, value.data(), x.values[i], kTable[i].value)) {
      m.exact = static_cast<int>(i);
      m.name = x.first_of_name[i];
      return m;
    }
  }
  const uint8_t slot = x.slots[name_slot(n, x.mul)];
  if (slot == 0) return m;
  const NameGroup& g = x.groups[slot - 1];
  if (packed_equal(n, name.data(), g.name, x.group_names[slot - 1])) m.name = g.idx[0];
  return m;
}

}  // namespace wt::h3
