// HTTP/3 error codes (RFC 9114 §8.1) and RFC 9297's H3_DATAGRAM_ERROR.
// They travel as application error codes in CONNECTION_CLOSE (0x1d),
// RESET_STREAM and STOP_SENDING; inside the stack they are wt::Error with
// application = true (Error::app).
#pragma once
#include <cstdint>

#include "lib/result.h"

namespace wt::h3 {

enum class H3Error : uint64_t {
  no_error = 0x100,
  general_protocol_error = 0x101,
  internal_error = 0x102,
  stream_creation_error = 0x103,
  closed_critical_stream = 0x104,
  frame_unexpected = 0x105,
  frame_error = 0x106,
  excessive_load = 0x107,
  id_error = 0x108,
  settings_error = 0x109,
  missing_settings = 0x10a,
  request_rejected = 0x10b,
  request_cancelled = 0x10c,
  request_incomplete = 0x10d,
  message_error = 0x10e,
  connect_error = 0x10f,
  version_fallback = 0x110,
  datagram_error = 0x33,  // RFC 9297 §5.2
};

constexpr uint64_t code(H3Error e) { return static_cast<uint64_t>(e); }

constexpr Error h3_error(H3Error e, const char* detail = "") { return Error::app(code(e), detail); }

constexpr bool is_h3_error(const Error& err, H3Error e) {
  return err.application && err.code == code(e);
}

// "H3_FRAME_ERROR" etc.; nullptr for codes outside this table.
constexpr const char* h3_error_name(uint64_t c) {
  switch (c) {
    case 0x100: return "H3_NO_ERROR";
    case 0x101: return "H3_GENERAL_PROTOCOL_ERROR";
    case 0x102: return "H3_INTERNAL_ERROR";
    case 0x103: return "H3_STREAM_CREATION_ERROR";
    case 0x104: return "H3_CLOSED_CRITICAL_STREAM";
    case 0x105: return "H3_FRAME_UNEXPECTED";
    case 0x106: return "H3_FRAME_ERROR";
    case 0x107: return "H3_EXCESSIVE_LOAD";
    case 0x108: return "H3_ID_ERROR";
    case 0x109: return "H3_SETTINGS_ERROR";
    case 0x10a: return "H3_MISSING_SETTINGS";
    case 0x10b: return "H3_REQUEST_REJECTED";
    case 0x10c: return "H3_REQUEST_CANCELLED";
    case 0x10d: return "H3_REQUEST_INCOMPLETE";
    case 0x10e: return "H3_MESSAGE_ERROR";
    case 0x10f: return "H3_CONNECT_ERROR";
    case 0x110: return "H3_VERSION_FALLBACK";
    case 0x33: return "H3_DATAGRAM_ERROR";
    default: return nullptr;
  }
}

// RFC 9114 §8.1: codes 0x1f * N + 0x21 are reserved to exercise the rule
// that unknown error codes are treated as H3_NO_ERROR (§9).
constexpr bool is_grease_code(uint64_t v) { return v >= 0x21 && (v - 0x21) % 0x1f == 0; }

}  // namespace wt::h3
