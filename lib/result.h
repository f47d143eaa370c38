// Errors and results for the protocol core: no exceptions on the packet path.
#pragma once
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

namespace wt {

// RFC 9000 §20.1 transport error codes.
enum class TransportError : uint64_t {
  no_error = 0x00,
  internal_error = 0x01,
  connection_refused = 0x02,
  flow_control_error = 0x03,
  stream_limit_error = 0x04,
  stream_state_error = 0x05,
  final_size_error = 0x06,
  frame_encoding_error = 0x07,
  transport_parameter_error = 0x08,
  connection_id_limit_error = 0x09,
  protocol_violation = 0x0a,
  invalid_token = 0x0b,
  application_error = 0x0c,
  crypto_buffer_exceeded = 0x0d,
  key_update_error = 0x0e,
  aead_limit_reached = 0x0f,
  no_viable_path = 0x10,
  version_negotiation_error = 0x11,  // RFC 9368 §10.2
  crypto_error_base = 0x100,         // 0x0100-0x01ff: TLS alert + 0x100
};

const char* transport_error_name(uint64_t code);

// An error: an RFC error code (transport, or application when `application`),
// the frame type that caused it when known, and a short static detail string.
struct Error {
  uint64_t code = 0;
  const char* detail = "";
  uint64_t frame_type = 0;
  bool application = false;

  constexpr Error() = default;
  constexpr Error(TransportError c, const char* d = "", uint64_t ft = 0)
      : code(static_cast<uint64_t>(c)), detail(d), frame_type(ft) {}
  static constexpr Error app(uint64_t c, const char* d = "") {
    Error e;
    e.code = c;
    e.detail = d;
    e.application = true;
    return e;
  }
  constexpr bool is(TransportError c) const {
    return !application && code == static_cast<uint64_t>(c);
  }
};

// Result<T>: a value or an Error. Result<void> is a status.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : ok_(true) { new (&v_) T(std::move(v)); }  // NOLINT implicit
  Result(Error e) : ok_(false) { new (&e_) Error(e); }    // NOLINT implicit
  Result(TransportError c) : Result(Error(c)) {}          // NOLINT implicit
  Result(const Result& o) : ok_(o.ok_) {
    if (ok_) new (&v_) T(o.v_); else new (&e_) Error(o.e_);
  }
  Result(Result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(o.ok_) {
    if (ok_) new (&v_) T(std::move(o.v_)); else new (&e_) Error(o.e_);
  }
  Result& operator=(Result o) {
    this->~Result();
    new (this) Result(std::move(o));
    return *this;
  }
  ~Result() { if (ok_) v_.~T(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  T& value() & { return v_; }
  const T& value() const& { return v_; }
  T&& value() && { return std::move(v_); }
  T& operator*() & { return v_; }
  const T& operator*() const& { return v_; }
  T* operator->() { return &v_; }
  const T* operator->() const { return &v_; }
  const Error& error() const { return e_; }

 private:
  bool ok_;
  union {
    T v_;
    Error e_;
  };
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : ok_(false), e_(e) {}           // NOLINT implicit
  Result(TransportError c) : Result(Error(c)) {}   // NOLINT implicit
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return e_; }

 private:
  bool ok_ = true;
  Error e_;
};

using Status = Result<void>;

inline Status ok_status() { return {}; }

}  // namespace wt

// Propagate an error from an expression yielding Result<...>.
#define WT_TRY(expr)                                   \
  do {                                                 \
    auto&& wt_try_r_ = (expr);                         \
    if (!wt_try_r_.ok()) return wt_try_r_.error();     \
  } while (0)

#define WT_CONCAT_INNER(a, b) a##b
#define WT_CONCAT(a, b) WT_CONCAT_INNER(a, b)
// Declare `lhs` from the value of a Result, or return its error.
#define WT_ASSIGN(lhs, expr) WT_ASSIGN_IMPL(WT_CONCAT(wt_assign_r_, __LINE__), lhs, expr)
#define WT_ASSIGN_IMPL(tmp, lhs, expr)     \
  auto tmp = (expr);                       \
  if (!tmp.ok()) return tmp.error();       \
  lhs = std::move(tmp).value()
