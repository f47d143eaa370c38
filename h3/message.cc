#include "h3/message.h"

#include <array>

#include "h3/h3_error.h"

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

// RFC 9110 §8.6: 1*DIGIT; identical repeated values may be accepted.
Status parse_content_length(std::string_view v, std::optional<uint64_t>& out) {
  if (v.empty()) return malformed("empty content-length");
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

// Checks every regular field (from index `first`) and collects content-length.
Status check_regular_fields(std::span<const HeaderField> fields, size_t first,
                            std::optional<uint64_t>* content_length) {
  for (size_t i = first; i < fields.size(); ++i) {
    const HeaderField& f = fields[i];
    // RFC 9114 §4.3: pseudo-header fields after regular fields are malformed.
    if (!f.name.empty() && f.name[0] == ':') return malformed("pseudo-header after regular field");
    if (!valid_field_name(f.name)) return malformed("invalid field name");
    if (!valid_field_value(f.value)) return malformed("invalid field value");
    if (is_connection_specific_field(f.name, f.value)) return malformed("connection-specific field");
    if (content_length && std::string_view{f.name} == "content-length")
      WT_TRY(parse_content_length(f.value, *content_length));
  }
  return {};
}

}  // namespace

bool valid_field_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(kTchar[static_cast<uint8_t>(c)] & 2)) return false;
  return true;
}

bool valid_field_value(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= '\r' && (u == '\0' || u == '\r' || u == '\n')) return false;  // one test per byte
  }
  return true;
}

bool is_connection_specific_field(std::string_view name, std::string_view value) {
  if (name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
      name == "transfer-encoding" || name == "upgrade")
    return true;
  return name == "te" && value != "trailers";
}

std::optional<std::string_view> find_field(std::span<const HeaderField> fields, std::string_view name) {
  for (const HeaderField& f : fields)
    if (f.name == name) return std::string_view{f.value};
  return std::nullopt;
}

std::optional<std::string> combined_field(std::span<const HeaderField> fields, std::string_view name) {
  std::optional<std::string> out;
  for (const HeaderField& f : fields) {
    if (f.name != name) continue;
    if (out) *out += ", " + f.value;
    else out = f.value;
  }
  return out;
}

bool response_has_no_content(bool head_request, int status) {
  return head_request || (status >= 100 && status < 200) || status == 204 || status == 304;
}

Result<RequestHead> validate_request(std::span<const HeaderField> fields, const RequestRules& rules) {
  RequestHead h;
  bool have_method = false, have_scheme = false, have_authority = false, have_path = false,
       have_protocol = false;
  size_t i = 0;
  // RFC 9114 §4.3: pseudo-header fields come first, each at most once, and
  // only those defined for requests.
  for (; i < fields.size() && !fields[i].name.empty() && fields[i].name[0] == ':'; ++i) {
    const HeaderField& f = fields[i];
    const std::string_view n = f.name;
    bool* have = nullptr;
    std::string* dst = nullptr;
    switch (n.size()) {  // by length first: one comparison per field
      case 5:
        if (n == ":path") have = &have_path, dst = &h.path;
        break;
      case 7:
        if (n == ":method") have = &have_method, dst = &h.method;
        else if (n == ":scheme") have = &have_scheme, dst = &h.scheme;
        break;
      case 9:
        if (n == ":protocol") have = &have_protocol, dst = &h.protocol;  // RFC 9220 §3
        break;
      case 10:
        if (n == ":authority") have = &have_authority, dst = &h.authority;
        break;
    }
    if (!have) return malformed("unknown or response pseudo-header in request");
    if (*have) return malformed("duplicate pseudo-header");
    *have = true;
    *dst = f.value;
    if (!valid_field_value(f.value)) return malformed("invalid pseudo-header value");
  }
  WT_TRY(check_regular_fields(fields, i, &h.content_length));

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
  auto host = find_field(fields, "host");
  if (const std::string_view scheme = h.scheme; scheme == "http" || scheme == "https") {
    if (h.path.empty()) return malformed("empty :path");
    // The authority is mandatory: in :authority or Host, equal if both.
    if (!have_authority && !host) return malformed("no :authority or host");
    if ((have_authority && h.authority.empty()) || (host && host->empty()))
      return malformed("empty :authority or host");
    if (have_authority && host && *host != h.authority) return malformed(":authority and host differ");
  }
  return h;
}

Result<ResponseHead> validate_response(std::span<const HeaderField> fields) {
  ResponseHead h;
  bool have_status = false;
  size_t i = 0;
  for (; i < fields.size() && !fields[i].name.empty() && fields[i].name[0] == ':'; ++i) {
    const HeaderField& f = fields[i];
    // RFC 9114 §4.3.2: :status is the only response pseudo-header.
    if (std::string_view{f.name} != ":status") return malformed("request or unknown pseudo-header in response");
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
    if (!f.name.empty() && f.name[0] == ':') return malformed("pseudo-header in trailers");
  return check_regular_fields(fields, 0, nullptr);
}

}  // namespace wt::h3
