// HTTP message validation for HTTP/3 (RFC 9114 §4.1.2, §4.2, §4.3; RFC 9220
// §3 for extended CONNECT). A message that fails is malformed: a stream
// error of type H3_MESSAGE_ERROR (returned as Error::app(H3_MESSAGE_ERROR)).
#pragma once
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "h3/header_field.h"
#include "lib/result.h"

namespace wt::h3 {

struct RequestHead {
  std::string method, scheme, authority, path;
  std::string protocol;  // :protocol (extended CONNECT), empty if absent
  std::optional<uint64_t> content_length;
  bool is_connect() const { return std::string_view{method} == "CONNECT"; }
  bool is_extended_connect() const { return is_connect() && !protocol.empty(); }
  bool is_head() const { return std::string_view{method} == "HEAD"; }
};

struct ResponseHead {
  int status = 0;
  std::optional<uint64_t> content_length;
  bool informational() const { return status >= 100 && status < 200; }
};

struct RequestRules {
  // We sent SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 9220 §3): only then
  // may a request carry :protocol.
  bool connect_protocol_enabled = false;
};

// The pseudo-header values of a valid request, as views of its fields.
struct RequestView {
  std::string_view method, scheme, authority, path;
  std::string_view protocol;  // :protocol (extended CONNECT), empty if absent
  std::optional<uint64_t> content_length;
  bool is_connect() const { return method.size() == 7 && std::memcmp(method.data(), "CONNECT", 7) == 0; }
  bool is_extended_connect() const { return is_connect() && !protocol.empty(); }
  bool is_head() const { return method.size() == 4 && std::memcmp(method.data(), "HEAD", 4) == 0; }
};

Result<RequestHead> validate_request(std::span<const HeaderField> fields, const RequestRules& rules = {});
// The same verdict without copying the values out: the views live as long
// as `fields`. Cheaper when only the verdict, CONNECT-ness or content-length
// is needed.
Result<RequestView> validate_request_view(std::span<const HeaderField> fields,
                                          const RequestRules& rules = {});
Result<ResponseHead> validate_response(std::span<const HeaderField> fields);
// Trailers: no pseudo-header fields (RFC 9114 §4.3), same field rules.
Status validate_trailers(std::span<const HeaderField> fields);

// RFC 9114 §4.2: a token (RFC 9110 §5.1) without uppercase letters.
bool valid_field_name(std::string_view name);
// RFC 9110 §5.5: no NUL, CR or LF.
bool valid_field_value(std::string_view value);
// RFC 9114 §4.2: connection-specific fields; "te" is allowed only as
// "trailers".
bool is_connection_specific_field(std::string_view name, std::string_view value);

// The value of the first field named `name` (lowercase), if any.
std::optional<std::string_view> find_field(std::span<const HeaderField> fields, std::string_view name);
// All values of `name` joined with ", " (RFC 9110 §5.3), nullopt if absent.
std::optional<std::string> combined_field(std::span<const HeaderField> fields, std::string_view name);

// RFC 9110 §6.4.1 / §15: responses to HEAD, 1xx, 204 and 304 never have
// content, whatever their content-length says.
bool response_has_no_content(bool head_request, int status);

}  // namespace wt::h3
