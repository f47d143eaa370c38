#include "lib/qlog_sink.h"

namespace wt {

std::shared_ptr<QlogFile> QlogFile::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return nullptr;
  return std::shared_ptr<QlogFile>(new QlogFile(f));
}

QlogFile::~QlogFile() { std::fclose(f_); }

void QlogFile::write(std::string_view record) { std::fwrite(record.data(), 1, record.size(), f_); }

std::string qlog_path(const std::string& dir, std::string_view odcid_hex, bool server) {
  return dir + "/" + std::string(odcid_hex) + (server ? "_server" : "_client") + ".sqlog";
}

}  // namespace wt
