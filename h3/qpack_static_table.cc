#include "h3/qpack_static_table.h"

#include <array>

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

// Open-addressed index by name: each distinct name with the indices of its
// entries, in table order (at most 14, for :status).
struct NameIndex {
  struct Slot {
    std::string_view name;
    uint8_t count = 0;
    std::array<uint8_t, 15> idx{};
  };
  static constexpr size_t kSlots = 128;  // > 2x the 60 distinct names
  std::array<Slot, kSlots> slots{};

  NameIndex() {
    for (size_t i = 0; i < kQpackStaticTableSize; ++i) {
      Slot& s = find(kTable[i].name);
      s.name = kTable[i].name;
      s.idx[s.count++] = static_cast<uint8_t>(i);
    }
  }
  Slot& find(std::string_view name) {
    size_t i = qpack_hash(name) & (kSlots - 1);
    while (slots[i].count != 0 && slots[i].name != name) i = (i + 1) & (kSlots - 1);
    return slots[i];
  }
  const Slot* lookup(std::string_view name) const {
    size_t i = qpack_hash(name) & (kSlots - 1);
    while (slots[i].count != 0) {
      if (slots[i].name == name) return &slots[i];
      i = (i + 1) & (kSlots - 1);
    }
    return nullptr;
  }
};

const NameIndex& name_index() {
  static const NameIndex n;
  return n;
}

}  // namespace

std::span<const QpackStaticEntry, kQpackStaticTableSize> qpack_static_table() {
  return std::span<const QpackStaticEntry, kQpackStaticTableSize>(kTable);
}

QpackStaticMatch qpack_static_find(std::string_view name, std::string_view value) {
  QpackStaticMatch m;
  const NameIndex::Slot* s = name_index().lookup(name);
  if (!s) return m;
  m.name = s->idx[0];
  for (uint8_t k = 0; k < s->count; ++k) {
    if (kTable[s->idx[k]].value == value) {
      m.exact = s->idx[k];
      break;
    }
  }
  return m;
}

}  // namespace wt::h3
