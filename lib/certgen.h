// Certificates for development, tests and tools (wt-certgen): self-signed
// ECDSA P-256 (or RSA-2048) leaves with subjectAltName, and a tiny CA that
// signs leaves. Generated with BoringSSL; returns PEM plus the hashes that
// browsers take to trust a certificate without a CA.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lib/result.h"

namespace wt::certgen {

enum class KeyType : uint8_t { ecdsa_p256, rsa2048 };

inline constexpr int kDefaultValidityDays = 14;
// Chromium accepts a certificate through WebTransport serverCertificateHashes
// only if notAfter - notBefore is at most 14 days and the key is ECDSA.
inline constexpr int kMaxHashTrustedValidityDays = 14;
inline constexpr int kMaxValidityDays = 3650;

struct Options {
  std::vector<std::string> dns_names;     // subjectAltName dNSName entries
  std::vector<std::string> ip_addresses;  // subjectAltName iPAddress entries ("127.0.0.1", "::1")
  std::string common_name;  // empty: first DNS name, else first IP address, else "wtcpp"
  int validity_days = kDefaultValidityDays;  // 1..kMaxValidityDays
  KeyType key_type = KeyType::ecdsa_p256;
  // notBefore in Unix seconds; 0 means one hour ago (tolerates clock skew).
  // notAfter is notBefore + validity_days, so the whole span is exactly N days.
  int64_t not_before = 0;
};

struct CertHashes {
  std::array<uint8_t, 32> cert_sha256{};  // SHA-256 of the DER certificate
  std::array<uint8_t, 32> spki_sha256{};  // SHA-256 of the DER SubjectPublicKeyInfo

  // For `new WebTransport(url, {serverCertificateHashes: [{algorithm: "sha-256", value}]})`.
  std::string cert_sha256_hex() const;
  std::string cert_sha256_base64() const;
  // For Chromium's --ignore-certificate-errors-spki-list.
  std::string spki_sha256_base64() const;
};

struct Certificate {
  std::string cert_pem;  // the certificate alone
  std::string key_pem;   // PKCS#8 "PRIVATE KEY"
  std::vector<uint8_t> cert_der;
  CertHashes hashes;
};

// A self-signed leaf usable as a server or client certificate.
Result<Certificate> self_signed(const Options& opts);
// A CA certificate (basicConstraints CA:TRUE, keyCertSign) for tests.
Result<Certificate> make_ca(const Options& opts);
// A leaf signed by `ca` (as returned by make_ca).
Result<Certificate> signed_by(const Options& opts, const Certificate& ca);

// Hashes of the first certificate in a PEM string (e.g. a user's cert file).
Result<CertHashes> hashes_of_pem(std::string_view cert_pem);

// Standard base64 with padding.
std::string base64(const uint8_t* data, size_t len);

}  // namespace wt::certgen
