#include "net/diagnostics.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "lib/log.h"

namespace wt::net {

namespace {
struct KeylogFile {
  std::mutex mu;
  std::FILE* f = nullptr;
  ~KeylogFile() {
    if (f) std::fclose(f);
  }
};

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

void make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      std::string part = dir.substr(0, i);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST)
        log::warn("qlog: cannot create {}: {}", part, std::strerror(errno));
    }
  }
}
}  // namespace

KeylogFn keylog_file(const std::string& path) {
  auto file = std::make_shared<KeylogFile>();
  file->f = std::fopen(path.c_str(), "a");
  if (!file->f) {
    log::warn("keylog: cannot open {}: {}", path, std::strerror(errno));
    return {};
  }
  return [file](std::string_view line) {
    std::lock_guard<std::mutex> lock(file->mu);
    std::fwrite(line.data(), 1, line.size(), file->f);
    std::fputc('\n', file->f);
    // Flushed per line: Wireshark may read the file while we run.
    std::fflush(file->f);
  };
}

KeylogFn keylog_from_env() {
  std::string path = env("SSLKEYLOGFILE");
  return path.empty() ? KeylogFn{} : keylog_file(path);
}

QlogFactory qlog_dir(const std::string& dir) {
  make_dirs(dir);
  return [dir](std::string_view odcid_hex, bool server) -> std::shared_ptr<QlogSink> {
    std::string path = qlog_path(dir, odcid_hex, server);
    auto f = QlogFile::open(path);
    if (!f) log::warn("qlog: cannot create {}", path);
    return f;
  };
}

QlogFactory qlog_from_env() {
  std::string dir = env("QLOGDIR");
  return dir.empty() ? QlogFactory{} : qlog_dir(dir);
}

}  // namespace wt::net
