// QPACK error codes (RFC 9204 §6), returned as application errors
// (wt::Error::app) because they are HTTP/3 error codes.
#pragma once
#include <cstdint>

#include "lib/result.h"

namespace wt::h3::qpack_error {

inline constexpr uint64_t decompression_failed = 0x200;  // QPACK_DECOMPRESSION_FAILED
inline constexpr uint64_t encoder_stream_error = 0x201;  // QPACK_ENCODER_STREAM_ERROR
inline constexpr uint64_t decoder_stream_error = 0x202;  // QPACK_DECODER_STREAM_ERROR
// A field section larger than SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114
// §4.2.2). A stream error (H3_MESSAGE_ERROR): QPACK state stays consistent,
// and a server may answer 431 instead of resetting.
inline constexpr uint64_t field_section_too_large = 0x10e;

inline Error decompression(const char* detail) { return Error::app(decompression_failed, detail); }
inline Error encoder_stream(const char* detail) { return Error::app(encoder_stream_error, detail); }
inline Error decoder_stream(const char* detail) { return Error::app(decoder_stream_error, detail); }

}  // namespace wt::h3::qpack_error
