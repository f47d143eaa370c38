#include "h3/message.h"

#include <array>

#include "h3/h3_error.h"
#include "h3/qpack_hash.h"

namespace wt::h3 {

namespace {

Error malformed(const char* detail) { return h3_error(H3Error::message_error, detail); }

// By byte: bit 0 = RFC 9110 §5.6.2 tchar, bit 1 = also allowed in an HTTP/3
// field name (RFC 9114 §4.2: no uppercase).
constexpr std::array<uint8_t, 256> kTchar = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = 3;
  for (int c = '0'; c <= '9'; ++c) t[c] = 3;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = 1;
  for (char c : std::string_view{"!#$%&'*+-.^_`|~"}) t[static_cast<uint8_t>(c)] = 3;
  return t;
}();

bool is_tchar(char c) { return kTchar[static_cast<uint8_t>(c)] != 0; }

// Word-at-a-time checks (8 bytes, little-endian) for the common cases; a
// word that fails is decided byte by byte.
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// Whether some byte of `w` is below 14, i.e. maybe NUL, LF or CR (exact as a
// boolean: the borrow can only flag bytes above one that really is below).
inline bool maybe_ctl(uint64_t w) { return ((w - kOnes * 14) & ~w & kHighs) != 0; }

// Whether every byte of `w` is a lowercase letter, a digit or '-' (most field
// names are nothing else).
inline bool plain_name_word(uint64_t w) {
  const uint64_t x = w & ~kHighs;  // 7 bits a byte: the sums below never carry
  const auto ge = [x](unsigned c) { return x + kOnes * (0x80 - c); };  // bit 7: x >= c
  const uint64_t lower = ge('a') & ~ge('z' + 1);
  const uint64_t digit = ge('0') & ~ge('9' + 1);
  const uint64_t dash = ~((x ^ (kOnes * '-')) + kOnes * 0x7f);  // bit 7: x == '-'
  return ((lower | digit | dash) & ~w & kHighs) == kHighs;
}

bool valid_field_name_slow(std::string_view name) {
  for (char c : name)
    if (!(kTchar[static_cast<uint8_t>(c)] & 2)) return false;
  return true;
}

bool valid_field_value_slow(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u == '\0' || u == '\r' || u == '\n') return false;
  }
  return true;
}

bool is_digits(std::string_view v) {
  for (char c : v)
    if (c < '0' || c > '9') return false;
  return true;
}

// RFC 9110 §8.6: 1*DIGIT; identical repeated values may be accepted.
Status parse_content_length(std::string_view v, std::optional<uint64_t>& out) {
  if (v.empty()) return malformed("empty content-length");
  if (v.size() <= 19 && is_digits(v)) {  // the usual single value
    uint64_t n = 0;
    for (char c : v) n = n * 10 + static_cast<uint64_t>(c - '0');
    if (out && *out != n) return malformed("conflicting content-length");
    out = n;
    return {};
  }
  // A list "5, 5" is the same as repeated fields.
  while (true) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty() || item.size() > 19) return malformed("bad content-length");
    uint64_t n = 0;
    for (char c : item) {
      if (c < '0' || c > '9') return malformed("bad content-length");
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (out && *out != n) return malformed("conflicting content-length");
    out = n;
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return {};
}

bool is_pseudo(std::string_view name) { return !name.empty() && name[0] == ':'; }

// Checks one regular field and collects content-length (when asked) and the
// first host value.
Status check_regular_field(const HeaderField& f, std::optional<uint64_t>* content_length,
                           std::optional<std::string_view>* host) {
  const std::string_view name = f.name;
  // RFC 9114 §4.3: pseudo-header fields after regular fields are malformed.
  if (is_pseudo(name)) return malformed("pseudo-header after regular field");
  if (!valid_field_name(name)) return malformed("invalid field name");
  if (!valid_field_value(f.value)) return malformed("invalid field value");
  if (is_connection_specific_field(name, f.value)) return malformed("connection-specific field");
  if (content_length && qpack_equal(name, "content-length"))
    WT_TRY(parse_content_length(f.value, *content_length));
  if (host && !*host && qpack_equal(name, "host")) *host = std::string_view{f.value};
  return {};
}

Status check_regular_fields(std::span<const HeaderField> fields, size_t first,
                            std::optional<uint64_t>* content_length) {
  for (size_t i = first; i < fields.size(); ++i) WT_TRY(check_regular_field(fields[i], content_length, nullptr));
  return {};
}

}  // namespace

bool valid_field_name(std::string_view name) {
  using namespace qpack_detail;
  const char* p = name.data();
  size_t n = name.size();
  if (n == 0) return false;
  bool plain;
  if (n < 8) {
    plain = plain_name_word(load_upto8(p, n) | (kOnes * 'a') << (8 * n));  // pad with 'a'
  } else {
    plain = true;
    for (; n > 8 && plain; p += 8, n -= 8) plain = plain_name_word(load64(p));
    plain = plain && plain_name_word(load64(p + n - 8));  // the last 8, overlapping
  }
  return plain || valid_field_name_slow(name);
}

bool valid_field_value(std::string_view value) {
  using namespace qpack_detail;
  const char* p = value.data();
  size_t n = value.size();
  bool maybe;
  if (n < 8) {
    // Pad with 0xff, which is none of the three.
    const uint64_t pad = n == 0 ? ~uint64_t{0} : ~uint64_t{0} << (8 * n);
    maybe = maybe_ctl(load_upto8(p, n) | pad);
  } else {
    maybe = false;
    for (; n > 8 && !maybe; p += 8, n -= 8) maybe = maybe_ctl(load64(p));
    maybe = maybe || maybe_ctl(load64(p + n - 8));  // the last 8, overlapping
  }
  return !maybe || valid_field_value_slow(value);
}

bool is_connection_specific_field(std::string_view name, std::string_view value) {
  switch (name.size()) {  // by length: at most two comparisons
    case 2:
      return qpack_equal(name, "te") && !qpack_equal(value, "trailers");
    case 7:
      return qpack_equal(name, "upgrade");
    case 10:
      return qpack_equal(name, "connection") || qpack_equal(name, "keep-alive");
    case 16:
      return qpack_equal(name, "proxy-connection");
    case 17:
      return qpack_equal(name, "transfer-encoding");
    default:
      return false;
  }
}

std::optional<std::string_view> find_field(std::span<const HeaderField> fields, std::string_view name) {
  for (const HeaderField& f : fields)
    if (qpack_equal(f.name, name)) return std::string_view{f.value};
  return std::nullopt;
}

std::optional<std::string> combined_field(std::span<const HeaderField> fields, std::string_view name) {
  std::optional<std::string> out;
  for (const HeaderField& f : fields) {
    if (!qpack_equal(f.name, name)) continue;
    if (out) *out += ", " + f.value;
    else out = f.value;
  }
  return out;
}

bool response_has_no_content(bool head_request, int status) {
  return head_request || (status >= 100 && status < 200) || status == 204 || status == 304;
}

Result<RequestView> validate_request_view(std::span<const HeaderField> fields,
                                          const RequestRules& rules) {
  RequestView h;
  bool have_method = false, have_scheme = false, have_authority = false, have_path = false,
       have_protocol = false;
  std::optional<std::string_view> host;
  size_t i = 0;
  // RFC 9114 §4.3: pseudo-header fields come first, each at most once, and
  // only those defined for requests.
  for (; i < fields.size() && is_pseudo(fields[i].name); ++i) {
    const HeaderField& f = fields[i];
    const std::string_view n = f.name;
    bool* have = nullptr;
    std::string_view* dst = nullptr;
    switch (n.size()) {  // by length first: one comparison per field
      case 5:
        if (qpack_equal(n, ":path")) have = &have_path, dst = &h.path;
        break;
      case 7:
        if (qpack_equal(n, ":method")) have = &have_method, dst = &h.method;
        else if (qpack_equal(n, ":scheme")) have = &have_scheme, dst = &h.scheme;
        break;
      case 9:
        if (qpack_equal(n, ":protocol")) have = &have_protocol, dst = &h.protocol;  // RFC 9220 §3
        break;
      case 10:
        if (qpack_equal(n, ":authority")) have = &have_authority, dst = &h.authority;
        break;
    }
    if (!have) return malformed("unknown or response pseudo-header in request");
    if (*have) return malformed("duplicate pseudo-header");
    *have = true;
    *dst = f.value;
    if (!valid_field_value(f.value)) return malformed("invalid pseudo-header value");
  }
  // One pass over the regular fields, noting the first host field.
  for (; i < fields.size(); ++i) WT_TRY(check_regular_field(fields[i], &h.content_length, &host));

  if (!have_method || h.method.empty()) return malformed("missing :method");
  for (char c : h.method)
    if (!is_tchar(c)) return malformed("invalid :method");
  if (have_protocol) {
    // RFC 9220 §3: only on CONNECT, and only if we enabled it.
    if (!rules.connect_protocol_enabled) return malformed(":protocol without ENABLE_CONNECT_PROTOCOL");
    if (!h.is_connect()) return malformed(":protocol on a non-CONNECT request");
    if (h.protocol.empty()) return malformed("empty :protocol");
    // RFC 9220 §3 (RFC 8441 §4): :scheme and :path are required too.
    if (!have_scheme || h.scheme.empty() || !have_path || h.path.empty() || !have_authority ||
        h.authority.empty())
      return malformed("extended CONNECT needs :scheme, :path and :authority");
    return h;
  }
  if (h.is_connect()) {
    // RFC 9114 §4.4: CONNECT carries :authority only.
    if (have_scheme || have_path) return malformed("CONNECT with :scheme or :path");
    if (!have_authority || h.authority.empty()) return malformed("CONNECT without :authority");
    return h;
  }
  // RFC 9114 §4.3.1: exactly one :method, :scheme and :path.
  if (!have_scheme || h.scheme.empty()) return malformed("missing :scheme");
  if (!have_path) return malformed("missing :path");
  if (qpack_equal(h.scheme, "http") || qpack_equal(h.scheme, "https")) {
    if (h.path.empty()) return malformed("empty :path");
    // The authority is mandatory: in :authority or Host, equal if both.
    if (!have_authority && !host) return malformed("no :authority or host");
    if ((have_authority && h.authority.empty()) || (host && host->empty()))
      return malformed("empty :authority or host");
    if (have_authority && host && *host != h.authority) return malformed(":authority and host differ");
  }
  return h;
}

namespace {

// The result is built empty and filled in place (named return value): moving
// std::strings that hold text costs a memcpy call each.
Result<RequestHead> head_of(const RequestView& v) {
  Result<RequestHead> r{RequestHead{}};
  RequestHead& h = *r;
  qpack_set_string(h.method, v.method);
  qpack_set_string(h.scheme, v.scheme);
  qpack_set_string(h.authority, v.authority);
  qpack_set_string(h.path, v.path);
  qpack_set_string(h.protocol, v.protocol);
  h.content_length = v.content_length;
  return r;
}

}  // namespace

Result<RequestHead> validate_request(std::span<const HeaderField> fields, const RequestRules& rules) {
  const Result<RequestView> v = validate_request_view(fields, rules);
  if (!v.ok()) return v.error();
  return head_of(*v);
}

Result<ResponseHead> validate_response(std::span<const HeaderField> fields) {
  ResponseHead h;
  bool have_status = false;
  size_t i = 0;
  for (; i < fields.size() && is_pseudo(fields[i].name); ++i) {
    const HeaderField& f = fields[i];
    // RFC 9114 §4.3.2: :status is the only response pseudo-header.
    if (!qpack_equal(f.name, ":status")) return malformed("request or unknown pseudo-header in response");
    if (have_status) return malformed("duplicate :status");
    have_status = true;
    const std::string& v = f.value;
    if (v.size() != 3) return malformed("invalid :status");
    int s = 0;
    for (char c : v) {
      if (c < '0' || c > '9') return malformed("invalid :status");
      s = s * 10 + (c - '0');
    }
    h.status = s;
  }
  if (!have_status) return malformed("missing :status");
  // RFC 9114 §4.5: HTTP/3 has no 101 (Switching Protocols).
  if (h.status < 100 || h.status == 101) return malformed("invalid :status");
  WT_TRY(check_regular_fields(fields, i, &h.content_length));
  return h;
}

Status validate_trailers(std::span<const HeaderField> fields) {
  for (const HeaderField& f : fields)
    if (is_pseudo(f.name)) return malformed("pseudo-header in trailers");
  return check_regular_fields(fields, 0, nullptr);
}

}  // namespace wt::h3
