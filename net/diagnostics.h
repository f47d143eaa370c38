// Debugging aids the QUIC interop runner's conventions ask for: TLS key logs
// (SSLKEYLOGFILE, read by Wireshark) and one qlog file per connection
// (QLOGDIR).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lib/qlog_sink.h"

namespace wt::net {

using KeylogFn = std::function<void(std::string_view line)>;
using QlogFactory = std::function<std::shared_ptr<QlogSink>(std::string_view odcid_hex, bool server)>;

// Appends NSS key log lines to `path` (created if needed); safe from several
// threads. Null function (with a warning logged) if the file cannot be opened.
KeylogFn keylog_file(const std::string& path);
// keylog_file($SSLKEYLOGFILE), or a null function when the variable is unset.
KeylogFn keylog_from_env();

// "<dir>/<odcid>_<server|client>.sqlog" per connection; creates `dir`.
QlogFactory qlog_dir(const std::string& dir);
// qlog_dir($QLOGDIR), or a null factory when the variable is unset.
QlogFactory qlog_from_env();

}  // namespace wt::net
