// Where qlog records go (quic/qlog.h formats them). The protocol core only
// sees this interface; QlogFile writes one file per connection.
#pragma once
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace wt {

class QlogSink {
 public:
  virtual ~QlogSink() = default;
  // One complete JSON-SEQ record (RFC 7464): RS, JSON text, LF.
  virtual void write(std::string_view record) = 0;
};

// Appends records to a file, e.g. QLOGDIR/<odcid>_<role>.sqlog.
class QlogFile final : public QlogSink {
 public:
  // nullptr if the file cannot be created.
  static std::shared_ptr<QlogFile> open(const std::string& path);
  ~QlogFile() override;
  void write(std::string_view record) override;

 private:
  explicit QlogFile(std::FILE* f) : f_(f) {}
  std::FILE* f_;
};

// The path for a connection's qlog in `dir` (the QLOGDIR convention of the
// QUIC interop runner): "<dir>/<odcid_hex>_<server|client>.sqlog".
std::string qlog_path(const std::string& dir, std::string_view odcid_hex, bool server);

}  // namespace wt
