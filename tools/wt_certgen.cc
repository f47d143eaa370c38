// wt-certgen: a self-signed ECDSA P-256 certificate for WebTransport
// development, valid for at most 14 days (what Chromium accepts through
// serverCertificateHashes), and the hashes a browser needs to trust it.
//
//   wt-certgen [--cert FILE] [--key FILE] [--days N] [--json] [NAME|IP ...]
//   wt-certgen --hash FILE      hashes of an existing PEM certificate
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/certgen.h"

using namespace wt;

namespace {

void usage(std::FILE* to) {
  fmt::print(to,
             "usage: wt-certgen [options] [NAME|IP ...]\n"
             "Writes a self-signed ECDSA P-256 certificate and key (PEM) for the given DNS\n"
             "names and IP addresses (default: localhost 127.0.0.1 ::1) and prints its\n"
             "SHA-256 (for WebTransport serverCertificateHashes) and SPKI SHA-256.\n"
             "  --cert FILE   certificate output (default cert.pem)\n"
             "  --key FILE    private key output, mode 0600 (default key.pem)\n"
             "  --days N      validity in days, 1..14 (default 14)\n"
             "  --cn NAME     subject common name (default: the first name)\n"
             "  --json        print the result as JSON\n"
             "  --hash FILE   only print the hashes of an existing PEM certificate\n");
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool write_file(const std::string& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
  if (fd < 0) {
    fmt::print(stderr, "wt-certgen: cannot write {}: {}\n", path, std::strerror(errno));
    return false;
  }
  ::fchmod(fd, mode);  // also when the file existed with other permissions
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n <= 0) {
      fmt::print(stderr, "wt-certgen: write {}: {}\n", path, std::strerror(errno));
      ::close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

std::string json_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += fmt::format("{}\"{}\"", i ? ", " : "", v[i]);
  return out + "]";
}

void print_hashes(const certgen::CertHashes& h, bool json) {
  if (json) {
    fmt::print("{{\"sha256_hex\": \"{}\", \"sha256_base64\": \"{}\", \"spki_sha256_base64\": \"{}\"}}\n",
               h.cert_sha256_hex(), h.cert_sha256_base64(), h.spki_sha256_base64());
    return;
  }
  fmt::print("certificate SHA-256 (hex):    {}\n", h.cert_sha256_hex());
  fmt::print("certificate SHA-256 (base64): {}\n", h.cert_sha256_base64());
  fmt::print("SPKI SHA-256 (base64):        {}\n", h.spki_sha256_base64());
}

}  // namespace

int main(int argc, char** argv) {
  std::string cert_path = "cert.pem", key_path = "key.pem", hash_of, cn;
  int days = certgen::kMaxHashTrustedValidityDays;
  bool json = false;
  std::vector<std::string> names, ips;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "wt-certgen: {} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--cert") cert_path = value();
    else if (a == "--key") key_path = value();
    else if (a == "--cn") cn = value();
    else if (a == "--hash") hash_of = value();
    else if (a == "--json") json = true;
    else if (a == "--days") {
      std::string v = value();
      char* end = nullptr;
      long d = std::strtol(v.c_str(), &end, 10);
      if (!end || *end || d < 1 || d > certgen::kMaxHashTrustedValidityDays) {
        fmt::print(stderr, "wt-certgen: --days must be 1..{} (browsers reject longer)\n",
                   certgen::kMaxHashTrustedValidityDays);
        return 2;
      }
      days = static_cast<int>(d);
    } else if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      fmt::print(stderr, "wt-certgen: unknown option {}\n", a);
      usage(stderr);
      return 2;
    } else if (is_ip(a)) {
      ips.push_back(a);
    } else {
      names.push_back(a);
    }
  }

  if (!hash_of.empty()) {
    std::ifstream in(hash_of);
    if (!in) {
      fmt::print(stderr, "wt-certgen: cannot read {}\n", hash_of);
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto h = certgen::hashes_of_pem(ss.str());
    if (!h.ok()) {
      fmt::print(stderr, "wt-certgen: {}: {}\n", hash_of, h.error().detail);
      return 1;
    }
    print_hashes(*h, json);
    return 0;
  }

  if (names.empty() && ips.empty()) {
    names = {"localhost"};
    ips = {"127.0.0.1", "::1"};
  }
  certgen::Options o;
  o.dns_names = names;
  o.ip_addresses = ips;
  o.common_name = cn;
  o.validity_days = days;
  o.key_type = certgen::KeyType::ecdsa_p256;
  auto cert = certgen::self_signed(o);
  if (!cert.ok()) {
    fmt::print(stderr, "wt-certgen: {}\n", cert.error().detail);
    return 1;
  }
  if (!write_file(cert_path, cert->cert_pem, 0644) || !write_file(key_path, cert->key_pem, 0600))
    return 1;
  const auto& h = cert->hashes;
  if (json) {
    fmt::print(
        "{{\"cert\": \"{}\", \"key\": \"{}\", \"key_type\": \"ECDSA P-256\", \"validity_days\": {}, "
        "\"dns_names\": {}, \"ip_addresses\": {}, \"sha256_hex\": \"{}\", \"sha256_base64\": \"{}\", "
        "\"spki_sha256_base64\": \"{}\"}}\n",
        cert_path, key_path, days, json_list(names), json_list(ips), h.cert_sha256_hex(),
        h.cert_sha256_base64(), h.spki_sha256_base64());
    return 0;
  }
  fmt::print("wrote {} and {} (ECDSA P-256, self-signed, valid {} days)\n", cert_path, key_path,
             days);
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
  for (const auto& n : ips) all += (all.empty() ? "" : ", ") + n;
  fmt::print("names: {}\n", all);
  print_hashes(h, false);
  fmt::print("\nJavaScript: new WebTransport(url, {{serverCertificateHashes: [{{algorithm: \"sha-256\", "
             "value: Uint8Array.from(atob(\"{}\"), c => c.charCodeAt(0))}}]}})\n",
             h.cert_sha256_base64());
  fmt::print("Chromium:   --ignore-certificate-errors-spki-list={}\n", h.spki_sha256_base64());
  return 0;
}
