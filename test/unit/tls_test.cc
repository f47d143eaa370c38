// TLS 1.3 over BoringSSL's QUIC API (quic/tls_config, quic/tls_session) and
// certificate generation (lib/certgen). The tests play the transport: CRYPTO
// bytes are moved between a client and a server session level by level.
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "lib/bytes.h"
#include "lib/certgen.h"
#include "lib/hex.h"
#include "quic/packet_cipher.h"
#include "quic/tls_config.h"
#include "quic/tls_session.h"

using namespace wt;
using namespace wt::quic;

namespace {

constexpr uint64_t kCryptoBase = 0x100;

const certgen::Certificate& ca() {
  static const certgen::Certificate c = *certgen::make_ca({.common_name = "wtcpp test CA"});
  return c;
}
const certgen::Certificate& leaf_from_ca() {
  static const certgen::Certificate c =
      *certgen::signed_by({.dns_names = {"localhost", "example.test"},
                           .ip_addresses = {"127.0.0.1", "::1"}},
                          ca());
  return c;
}
const certgen::Certificate& self_signed_cert() {
  static const certgen::Certificate c =
      *certgen::self_signed({.dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1"}});
  return c;
}
const certgen::Certificate& rsa_leaf_from_ca() {
  static const certgen::Certificate c = *certgen::signed_by(
      {.dns_names = {"localhost"}, .key_type = certgen::KeyType::rsa2048}, ca());
  return c;
}

// A CA file on disk for the *_file options; removed at exit.
struct TempFile {
  std::filesystem::path path;
  explicit TempFile(const std::string& name, const std::string& content) {
    path = std::filesystem::temp_directory_path() /
           ("wtcpp-tls-test-" + std::to_string(getpid()) + "-" + name);
    std::ofstream(path) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
};
const std::string& ca_file() {
  static TempFile f("ca.pem", ca().cert_pem);
  return f.path.native();
}

TlsConfigOptions server_opts(const certgen::Certificate& cert = leaf_from_ca()) {
  TlsConfigOptions o;
  o.role = TlsRole::server;
  o.alpn = {"h3"};
  o.cert_chain_pem = cert.cert_pem;
  o.private_key_pem = cert.key_pem;
  return o;
}

TlsConfigOptions client_opts() {
  TlsConfigOptions o;
  o.role = TlsRole::client;
  o.alpn = {"h3"};
  o.verify = CertVerify::required;
  o.ca_file = ca_file();
  o.server_name = "localhost";
  return o;
}

std::shared_ptr<TlsConfig> make_config(const TlsConfigOptions& o) {
  std::string msg;
  auto r = TlsConfig::create(o, &msg);
  INFO(msg);
  REQUIRE(r.ok());
  return *r;
}

const std::vector<uint8_t> kClientParams = hex("0104800075300304800100000e0104");
const std::vector<uint8_t> kServerParams = hex("0104800075300304800100000e010400");

// Both endpoints plus everything they handed out.
struct Pair {
  std::unique_ptr<TlsSession> client;
  std::unique_ptr<TlsSession> server;
  std::vector<TlsSecret> client_secrets;
  std::vector<TlsSecret> server_secrets;
  Status client_status;
  Status server_status;

  Pair(std::shared_ptr<const TlsConfig> ccfg, std::shared_ptr<const TlsConfig> scfg,
       TlsSessionOptions copts = {}, TlsSessionOptions sopts = {}) {
    if (copts.transport_params.empty()) copts.transport_params = kClientParams;
    if (sopts.transport_params.empty()) sopts.transport_params = kServerParams;
    auto c = TlsSession::create(std::move(ccfg), copts);
    auto s = TlsSession::create(std::move(scfg), sopts);
    REQUIRE(c.ok());
    REQUIRE(s.ok());
    client = std::move(*c);
    server = std::move(*s);
  }

  static void drain(TlsSession& s, std::vector<TlsSecret>& out) {
    TlsSecret sec;
    while (s.poll_secret(sec)) out.push_back(sec);
  }

  // Delivers `from`'s pending CRYPTO data to `to`, one level at a time,
  // advancing `to` after each level as a connection would.
  static Status deliver(TlsSession& from, TlsSession& to) {
    for (auto level : {EncryptionLevel::initial, EncryptionLevel::handshake,
                       EncryptionLevel::application}) {
      auto data = from.take_crypto(level);
      if (data.empty()) continue;
      WT_TRY(to.provide_data(level, data));
      WT_TRY(to.do_handshake());
    }
    return {};
  }

  // Runs until both sides are quiet or one fails. Returns true on success.
  bool run() {
    auto r = client->do_handshake();
    if (!r.ok()) client_status = r.error();
    for (int round = 0; round < 8 && client_status.ok() && server_status.ok(); ++round) {
      drain(*client, client_secrets);
      drain(*server, server_secrets);
      if (!client->has_pending_crypto() && !server->has_pending_crypto()) break;
      server_status = deliver(*client, *server);
      if (!server_status.ok()) break;
      client_status = deliver(*server, *client);
    }
    drain(*client, client_secrets);
    drain(*server, server_secrets);
    return client_status.ok() && server_status.ok() && client->handshake_complete() &&
           server->handshake_complete();
  }
};

const TlsSecret* find(const std::vector<TlsSecret>& v, EncryptionLevel l, SecretDirection d) {
  for (const auto& s : v)
    if (s.level == l && s.direction == d) return &s;
  return nullptr;
}

bool same_secret(const TlsSecret* a, const TlsSecret* b) {
  return a && b && a->cipher_suite == b->cipher_suite &&
         std::vector<uint8_t>(a->secret().begin(), a->secret().end()) ==
             std::vector<uint8_t>(b->secret().begin(), b->secret().end());
}

bssl::UniquePtr<X509> parse(const std::string& pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return bssl::UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// X509 verification of `leaf` against `anchor` (both PEM).
bool chains_to(const std::string& leaf, const std::string& anchor) {
  bssl::UniquePtr<X509_STORE> store(X509_STORE_new());
  auto a = parse(anchor);
  auto l = parse(leaf);
  X509_STORE_add_cert(store.get(), a.get());
  bssl::UniquePtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), l.get(), nullptr);
  bool ok = X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

// Renames the quic_transport_parameters extension (0x39, RFC 9001 §8.2) of a
// ClientHello to a GREASE type, so the server sees none. False if absent.
bool hide_transport_params(std::vector<uint8_t>& ch) {
  Reader r{Bytes{ch}};
  if (r.u8() != 0x01) return false;  // ClientHello
  r.u24();
  r.skip(2 + 32);    // legacy_version, random
  r.skip(r.u8());    // legacy_session_id
  r.skip(r.u16());   // cipher_suites
  r.skip(r.u8());    // legacy_compression_methods
  r.u16();           // extensions length
  while (r.ok() && r.remaining() >= 4) {
    size_t at = r.offset();
    uint16_t type = r.u16();
    uint16_t len = r.u16();
    if (type == 0x39) {
      ch[at] = 0xfa;
      ch[at + 1] = 0xfa;
      return true;
    }
    r.skip(len);
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------- certgen

TEST_CASE("certgen: self-signed ECDSA P-256 with SANs and exact validity", "[tls]") {
  auto r = certgen::self_signed({.dns_names = {"localhost", "a.example"},
                                 .ip_addresses = {"127.0.0.1", "::1"},
                                 .validity_days = 14,
                                 .not_before = 1700000000});
  REQUIRE(r.ok());
  const auto& c = *r;
  CHECK(c.cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
  CHECK(c.key_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  auto x = parse(c.cert_pem);
  REQUIRE(x);
  CHECK(X509_get_version(x.get()) == X509_VERSION_3);

  bssl::UniquePtr<EVP_PKEY> pk(X509_get_pubkey(x.get()));
  REQUIRE(EVP_PKEY_id(pk.get()) == EVP_PKEY_EC);
  CHECK(EC_GROUP_get_curve_name(EC_KEY_get0_group(EVP_PKEY_get0_EC_KEY(pk.get()))) ==
        NID_X9_62_prime256v1);

  // Chromium serverCertificateHashes: notAfter - notBefore must be <= 14 days.
  int days = -1, secs = -1;
  REQUIRE(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x.get()), X509_get0_notAfter(x.get())));
  CHECK(days == 14);
  CHECK(secs == 0);
  time_t before = 1700000000 - 1, after = 1700000000 + 1;
  CHECK(X509_cmp_time(X509_get0_notBefore(x.get()), &before) > 0);
  CHECK(X509_cmp_time(X509_get0_notBefore(x.get()), &after) < 0);

  CHECK(X509_check_host(x.get(), "localhost", 9, 0, nullptr) == 1);
  CHECK(X509_check_host(x.get(), "a.example", 9, 0, nullptr) == 1);
  CHECK(X509_check_host(x.get(), "b.example", 9, 0, nullptr) == 0);
  CHECK(X509_check_ip_asc(x.get(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(x.get(), "::1", 0) == 1);
  CHECK(X509_check_ip_asc(x.get(), "127.0.0.2", 0) == 0);
  CHECK(X509_check_ca(x.get()) == 0);

  // Not valid at the current time (notBefore 2023-11-14, 14 days).
  CHECK_FALSE(chains_to(c.cert_pem, c.cert_pem));
  // A current self-signed certificate verifies against itself.
  CHECK(chains_to(self_signed_cert().cert_pem, self_signed_cert().cert_pem));
}

TEST_CASE("certgen: hashes are SHA-256 of the DER cert and of the whole SPKI", "[tls]") {
  auto r = certgen::self_signed({.dns_names = {"localhost"}});
  REQUIRE(r.ok());
  const auto& c = *r;
  uint8_t want[32];
  SHA256(c.cert_der.data(), c.cert_der.size(), want);
  CHECK(std::vector<uint8_t>(want, want + 32) ==
        std::vector<uint8_t>(c.hashes.cert_sha256.begin(), c.hashes.cert_sha256.end()));
  CHECK(c.hashes.cert_sha256_hex() == to_hex(want));

  auto x = parse(c.cert_pem);
  uint8_t* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  CHECK(std::vector<uint8_t>(der, der + len) == c.cert_der);
  OPENSSL_free(der);

  // The SPKI hash covers the SubjectPublicKeyInfo SEQUENCE, which for P-256
  // is 91 bytes and appears verbatim inside the certificate.
  bssl::UniquePtr<EVP_PKEY> pk(X509_get_pubkey(x.get()));
  uint8_t* spki = nullptr;
  len = i2d_PUBKEY(pk.get(), &spki);
  REQUIRE(len == 91);
  CHECK(std::search(c.cert_der.begin(), c.cert_der.end(), spki, spki + len) != c.cert_der.end());
  SHA256(spki, static_cast<size_t>(len), want);
  OPENSSL_free(spki);
  CHECK(std::vector<uint8_t>(want, want + 32) ==
        std::vector<uint8_t>(c.hashes.spki_sha256.begin(), c.hashes.spki_sha256.end()));
  CHECK(c.hashes.spki_sha256_base64() == certgen::base64(want, 32));
  CHECK(c.hashes.spki_sha256_base64().size() == 44);

  auto h = certgen::hashes_of_pem(c.cert_pem);
  REQUIRE(h.ok());
  CHECK(h->cert_sha256 == c.hashes.cert_sha256);
  CHECK(h->spki_sha256 == c.hashes.spki_sha256);
  CHECK_FALSE(certgen::hashes_of_pem("not a certificate").ok());
}

TEST_CASE("certgen: base64 matches RFC 4648 vectors", "[tls]") {
  auto b64 = [](std::string_view s) {
    return certgen::base64(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  CHECK(b64("") == "");
  CHECK(b64("f") == "Zg==");
  CHECK(b64("fo") == "Zm8=");
  CHECK(b64("foobar") == "Zm9vYmFy");
}

TEST_CASE("certgen: RSA-2048, CA signing and input validation", "[tls]") {
  auto x = parse(rsa_leaf_from_ca().cert_pem);
  bssl::UniquePtr<EVP_PKEY> pk(X509_get_pubkey(x.get()));
  CHECK(EVP_PKEY_id(pk.get()) == EVP_PKEY_RSA);
  CHECK(EVP_PKEY_bits(pk.get()) == 2048);

  auto cax = parse(ca().cert_pem);
  CHECK(X509_check_ca(cax.get()) != 0);
  CHECK(chains_to(leaf_from_ca().cert_pem, ca().cert_pem));
  CHECK(chains_to(rsa_leaf_from_ca().cert_pem, ca().cert_pem));
  // Another CA's leaf does not chain to ours; nor does a self-signed leaf.
  auto other_ca = certgen::make_ca({});
  REQUIRE(other_ca.ok());
  auto other_leaf = certgen::signed_by({.dns_names = {"localhost"}}, *other_ca);
  REQUIRE(other_leaf.ok());
  CHECK_FALSE(chains_to(other_leaf->cert_pem, ca().cert_pem));
  CHECK_FALSE(chains_to(self_signed_cert().cert_pem, ca().cert_pem));

  CHECK_FALSE(certgen::self_signed({.ip_addresses = {"300.1.1.1"}}).ok());
  CHECK_FALSE(certgen::self_signed({.validity_days = 0}).ok());
  CHECK_FALSE(certgen::self_signed({.validity_days = certgen::kMaxValidityDays + 1}).ok());
  certgen::Certificate broken = ca();
  broken.key_pem = self_signed_cert().key_pem;  // key does not match the CA cert
  CHECK_FALSE(certgen::signed_by({}, broken).ok());
}

// ---------------------------------------------------------------- config

TEST_CASE("tls config: errors carry a static detail and a full message", "[tls]") {
  std::string msg;
  TlsConfigOptions o = client_opts();
  o.alpn = {};
  CHECK_FALSE(TlsConfig::create(o, &msg).ok());  // RFC 9001 §8.1

  o = server_opts();
  o.cert_chain_pem.clear();
  o.private_key_pem.clear();
  auto r = TlsConfig::create(o, &msg);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().detail) == "server needs a certificate and private key");

  o = server_opts();
  o.private_key_pem = self_signed_cert().key_pem;  // does not match the leaf
  r = TlsConfig::create(o, &msg);
  REQUIRE_FALSE(r.ok());
  CHECK(std::string(r.error().detail) == "private key does not match certificate");

  o = server_opts();
  o.cert_chain_pem = "garbage";
  CHECK_FALSE(TlsConfig::create(o, &msg).ok());

  o = server_opts();
  o.cert_chain_pem.clear();
  o.cert_chain_file = "/nonexistent/wtcpp/cert.pem";
  r = TlsConfig::create(o, &msg);
  REQUIRE_FALSE(r.ok());
  CHECK(msg.find("/nonexistent/wtcpp/cert.pem") != std::string::npos);

  o = client_opts();
  o.ca_file = "/nonexistent/wtcpp/ca.pem";
  CHECK_FALSE(TlsConfig::create(o, &msg).ok());
  CHECK(msg.find("/nonexistent/wtcpp/ca.pem") != std::string::npos);

  o = client_opts();
  o.ca_file.clear();
  o.ca_pem = "no certificates here";
  CHECK_FALSE(TlsConfig::create(o, &msg).ok());

  o = client_opts();
  o.groups = "NOT-A-GROUP";
  CHECK_FALSE(TlsConfig::create(o, &msg).ok());

  // Certificate and key from files work like PEM text.
  TempFile cert("leaf.pem", leaf_from_ca().cert_pem), key("leaf.key", leaf_from_ca().key_pem);
  o = server_opts();
  o.cert_chain_pem.clear();
  o.private_key_pem.clear();
  o.cert_chain_file = cert.path;
  o.private_key_file = key.path;
  CHECK(TlsConfig::create(o, &msg).ok());

  // A client that verifies needs a name to check.
  TlsConfigOptions no_name = client_opts();
  no_name.server_name.clear();
  auto s = TlsSession::create(make_config(no_name));
  CHECK_FALSE(s.ok());
}

// ---------------------------------------------------------------- handshake

TEST_CASE("tls: handshake completes and secrets match per level", "[tls]") {
  std::vector<std::string> keylog_lines;
  TlsConfigOptions co = client_opts();
  co.keylog = [&](std::string_view line) { keylog_lines.emplace_back(line); };
  Pair p(make_config(co), make_config(server_opts()));
  REQUIRE(p.run());

  CHECK(p.client->alpn() == "h3");
  CHECK(p.server->alpn() == "h3");
  uint16_t suite = p.client->cipher_suite();
  CHECK((suite == kTlsAes128GcmSha256 || suite == kTlsAes256GcmSha384 ||
         suite == kTlsChacha20Poly1305Sha256));
  CHECK(p.server->cipher_suite() == suite);
  CHECK(std::string(cipher_suite_name(suite)).rfind("TLS_", 0) == 0);
  CHECK(std::string(cipher_suite_name(0x1302)) == "TLS_AES_256_GCM_SHA384");
  CHECK(std::string(cipher_suite_name(0xc02f)) == "unknown");
  CHECK(p.client->key_exchange_group() == SSL_CURVE_X25519);
  CHECK_FALSE(p.client->is_resumed());
  CHECK(p.server->server_name() == "localhost");

  // Transport parameters arrive byte-exact (RFC 9001 §8.2).
  CHECK(std::vector<uint8_t>(p.server->peer_transport_params().begin(),
                             p.server->peer_transport_params().end()) == kClientParams);
  CHECK(std::vector<uint8_t>(p.client->peer_transport_params().begin(),
                             p.client->peer_transport_params().end()) == kServerParams);

  // Handshake and 1-RTT secrets on both sides; none for Initial (RFC 9001
  // §5.2: derived from the connection ID) and none for 0-RTT.
  for (auto level : {EncryptionLevel::handshake, EncryptionLevel::application}) {
    INFO("level " << static_cast<int>(level));
    const TlsSecret* cw = find(p.client_secrets, level, SecretDirection::write);
    const TlsSecret* cr = find(p.client_secrets, level, SecretDirection::read);
    const TlsSecret* sw = find(p.server_secrets, level, SecretDirection::write);
    const TlsSecret* sr = find(p.server_secrets, level, SecretDirection::read);
    REQUIRE((cw && cr && sw && sr));
    CHECK(same_secret(cw, sr));
    CHECK(same_secret(sw, cr));
    CHECK_FALSE(same_secret(cw, cr));
    CHECK(cw->cipher_suite == suite);
    CHECK(cw->length == (suite == kTlsAes256GcmSha384 ? 48 : 32));
  }
  CHECK(p.client_secrets.size() == 4);
  CHECK(p.server_secrets.size() == 4);
  CHECK_FALSE(find(p.client_secrets, EncryptionLevel::initial, SecretDirection::write));
  CHECK_FALSE(find(p.client_secrets, EncryptionLevel::early_data, SecretDirection::write));
  // BoringSSL releases a level's write secret before its read secret, so
  // that every packet read can be acknowledged.
  CHECK(p.server_secrets[0].level == EncryptionLevel::handshake);
  CHECK(p.server_secrets[0].direction == SecretDirection::write);

  // The key log carries the same secrets (NSS format, for SSLKEYLOGFILE).
  const TlsSecret* chs = find(p.client_secrets, EncryptionLevel::handshake, SecretDirection::write);
  bool found = false;
  for (const auto& l : keylog_lines) {
    if (l.rfind("CLIENT_HANDSHAKE_TRAFFIC_SECRET ", 0) == 0) {
      found = l.substr(l.rfind(' ') + 1) == to_hex(chs->secret());
    }
  }
  CHECK(found);
  CHECK(keylog_lines.size() >= 4);

  // The client sees the server's certificate.
  auto pc = p.client->peer_certificate();
  REQUIRE(pc);
  CHECK(pc->der == leaf_from_ca().cert_der);
  CHECK(pc->subject.find("CN=localhost") != std::string::npos);
  CHECK(pc->issuer.find("CN=wtcpp test CA") != std::string::npos);
  CHECK(pc->chain_length == 1);
  CHECK_FALSE(p.server->peer_certificate());
  CHECK_FALSE(p.client->alert_sent());
}

TEST_CASE("tls: outgoing CRYPTO data can be consumed piecewise", "[tls]") {
  Pair p(make_config(client_opts()), make_config(server_opts()));
  REQUIRE(p.client->do_handshake().ok());
  Bytes ch = p.client->pending_crypto(EncryptionLevel::initial);
  REQUIRE(ch.size() > 100);
  CHECK(ch[0] == 0x01);  // ClientHello
  std::vector<uint8_t> copy(ch.begin(), ch.end());
  CHECK(p.client->pending_crypto(EncryptionLevel::handshake).empty());
  p.client->consume_crypto(EncryptionLevel::initial, 10);
  Bytes rest = p.client->pending_crypto(EncryptionLevel::initial);
  CHECK(rest.size() == copy.size() - 10);
  CHECK(rest[0] == copy[10]);
  auto taken = p.client->take_crypto(EncryptionLevel::initial);
  CHECK(taken == std::vector<uint8_t>(copy.begin() + 10, copy.end()));
  CHECK_FALSE(p.client->has_pending_crypto());
  // The server accepts the ClientHello split across two calls.
  REQUIRE(p.server->provide_data(EncryptionLevel::initial, Bytes(copy).first(7)).ok());
  CHECK(*p.server->do_handshake() == TlsProgress::in_progress);
  CHECK_FALSE(p.server->has_pending_crypto());
  REQUIRE(p.server->provide_data(EncryptionLevel::initial, Bytes(copy).subspan(7)).ok());
  CHECK(*p.server->do_handshake() == TlsProgress::in_progress);
  CHECK(p.server->pending_crypto(EncryptionLevel::initial)[0] == 0x02);  // ServerHello
  CHECK_FALSE(p.server->pending_crypto(EncryptionLevel::handshake).empty());
  CHECK(p.server->max_crypto_buffer(EncryptionLevel::handshake) > 0);
}

TEST_CASE("tls: ALPN uses the server's preference; no overlap is CRYPTO_ERROR 0x178", "[tls]") {
  TlsConfigOptions so = server_opts();
  so.alpn = {"h3", "hq-interop"};
  TlsConfigOptions co = client_opts();
  co.alpn = {"hq-interop", "h3"};
  {
    Pair p(make_config(co), make_config(so));
    REQUIRE(p.run());
    CHECK(p.client->alpn() == "h3");
  }
  co.alpn = {"h2", "http/1.1"};
  Pair p(make_config(co), make_config(so));
  CHECK_FALSE(p.run());
  REQUIRE_FALSE(p.server_status.ok());
  // RFC 9001 §8.1: no_application_protocol (120) -> 0x100 + 120.
  CHECK(p.server_status.error().code == 0x178);
  CHECK(p.server->alert_sent() == uint8_t{120});
  CHECK(p.server->failed());
  CHECK_FALSE(p.server->last_error().empty());
  // Failure is sticky.
  auto again = p.server->do_handshake();
  REQUIRE_FALSE(again.ok());
  CHECK(again.error().code == 0x178);
}

TEST_CASE("tls: verification none accepts a self-signed certificate", "[tls]") {
  TlsConfigOptions co = client_opts();
  co.verify = CertVerify::none;
  co.ca_file.clear();
  co.server_name = "wrong.example";  // not checked either
  Pair p(make_config(co), make_config(server_opts(self_signed_cert())));
  REQUIRE(p.run());
  CHECK(p.client->peer_certificate()->der == self_signed_cert().cert_der);
}

TEST_CASE("tls: required verification against a CA file, PEM and host name", "[tls]") {
  SECTION("right CA file and host") {
    Pair p(make_config(client_opts()), make_config(server_opts()));
    CHECK(p.run());
  }
  SECTION("CA as PEM text, other SAN name") {
    TlsConfigOptions co = client_opts();
    co.ca_file.clear();
    co.ca_pem = ca().cert_pem;
    Pair p(make_config(co), make_config(server_opts()), {.server_name = "example.test"});
    CHECK(p.run());
  }
  SECTION("wrong host name") {
    Pair p(make_config(client_opts()), make_config(server_opts()), {.server_name = "evil.test"});
    CHECK_FALSE(p.run());
    REQUIRE_FALSE(p.client_status.ok());
    uint64_t code = p.client_status.error().code;
    // A certificate-class alert: bad_certificate (42) .. unknown_ca (48).
    CHECK(code >= kCryptoBase + 42);
    CHECK(code <= kCryptoBase + 48);
    CHECK(p.client->last_error().find("mismatch") != std::string::npos);
    CHECK_FALSE(p.server->handshake_complete());
  }
  SECTION("untrusted certificate") {
    Pair p(make_config(client_opts()), make_config(server_opts(self_signed_cert())));
    CHECK_FALSE(p.run());
    REQUIRE_FALSE(p.client_status.ok());
    CHECK(p.client_status.error().code == kCryptoBase + 48);  // unknown_ca
    CHECK(std::string(p.client_status.error().detail) == "CERTIFICATE_VERIFY_FAILED");
  }
  SECTION("self-signed certificate trusted by listing it as the CA") {
    TlsConfigOptions co = client_opts();
    co.ca_file.clear();
    co.ca_pem = self_signed_cert().cert_pem;
    Pair p(make_config(co), make_config(server_opts(self_signed_cert())));
    CHECK(p.run());
  }
  SECTION("system store does not trust a test CA") {
    TlsConfigOptions co = client_opts();
    co.ca_file.clear();  // falls back to kSystemCaFile
    Pair p(make_config(co), make_config(server_opts()));
    CHECK_FALSE(p.run());
    CHECK(p.client_status.error().code == kCryptoBase + 48);
  }
}

TEST_CASE("tls: IP address verification uses iPAddress SANs and sends no SNI", "[tls]") {
  SECTION("IPv4 match") {
    Pair p(make_config(client_opts()), make_config(server_opts()), {.server_name = "127.0.0.1"});
    REQUIRE(p.run());
    CHECK(p.server->server_name().empty());  // RFC 6066 §3
  }
  SECTION("IPv6 in brackets") {
    Pair p(make_config(client_opts()), make_config(server_opts()), {.server_name = "[::1]"});
    CHECK(p.run());
  }
  SECTION("IP not in the certificate") {
    Pair p(make_config(client_opts()), make_config(server_opts()), {.server_name = "127.0.0.2"});
    CHECK_FALSE(p.run());
    uint64_t code = p.client_status.error().code;
    CHECK(code >= kCryptoBase + 42);
    CHECK(code <= kCryptoBase + 48);
  }
}

TEST_CASE("tls: RSA server certificate", "[tls]") {
  Pair p(make_config(client_opts()), make_config(server_opts(rsa_leaf_from_ca())));
  REQUIRE(p.run());
  CHECK(p.client->peer_certificate()->der == rsa_leaf_from_ca().cert_der);
}

TEST_CASE("tls: client certificates", "[tls]") {
  auto client_leaf = certgen::signed_by({.common_name = "client-1"}, ca());
  REQUIRE(client_leaf.ok());
  TlsConfigOptions so = server_opts();
  so.client_auth = ClientAuth::require;
  so.verify = CertVerify::required;
  so.ca_pem = ca().cert_pem;
  TlsConfigOptions with_cert = client_opts();
  with_cert.cert_chain_pem = client_leaf->cert_pem;
  with_cert.private_key_pem = client_leaf->key_pem;

  SECTION("required and presented") {
    Pair p(make_config(with_cert), make_config(so));
    REQUIRE(p.run());
    auto pc = p.server->peer_certificate();
    REQUIRE(pc);
    CHECK(pc->der == client_leaf->cert_der);
    CHECK(pc->subject.find("CN=client-1") != std::string::npos);
  }
  SECTION("required and missing: certificate_required (116)") {
    Pair p(make_config(client_opts()), make_config(so));
    CHECK_FALSE(p.run());
    REQUIRE_FALSE(p.server_status.ok());
    CHECK(p.server_status.error().code == kCryptoBase + 116);
  }
  SECTION("required and untrusted") {
    TlsConfigOptions c = with_cert;
    c.cert_chain_pem = self_signed_cert().cert_pem;
    c.private_key_pem = self_signed_cert().key_pem;
    Pair p(make_config(c), make_config(so));
    CHECK_FALSE(p.run());
    REQUIRE_FALSE(p.server_status.ok());
    CHECK(p.server_status.error().code == kCryptoBase + 48);
  }
  SECTION("requested and missing is fine") {
    so.client_auth = ClientAuth::request;
    Pair p(make_config(client_opts()), make_config(so));
    REQUIRE(p.run());
    CHECK_FALSE(p.server->peer_certificate());
  }
  SECTION("required without verification accepts any certificate") {
    so.verify = CertVerify::none;
    so.ca_pem.clear();
    TlsConfigOptions c = with_cert;
    c.cert_chain_pem = self_signed_cert().cert_pem;
    c.private_key_pem = self_signed_cert().key_pem;
    Pair p(make_config(c), make_config(so));
    REQUIRE(p.run());
    CHECK(p.server->peer_certificate()->der == self_signed_cert().cert_der);
  }
}

TEST_CASE("tls: session tickets after the handshake; a second connection resumes", "[tls]") {
  auto ccfg = make_config(client_opts());
  auto scfg = make_config(server_opts());
  Pair first(ccfg, scfg);
  REQUIRE(first.run());
  // NewSessionTicket arrives at 1-RTT after the handshake and is handled by
  // post-handshake processing.
  std::vector<uint8_t> ticket;
  REQUIRE(first.client->poll_session_ticket(ticket));
  CHECK_FALSE(ticket.empty());
  std::vector<uint8_t> second_ticket;
  CHECK(first.client->poll_session_ticket(second_ticket));  // num_tickets = 2
  CHECK_FALSE(first.client->poll_session_ticket(second_ticket));

  Pair second(ccfg, scfg, {.resume_session = ticket});
  REQUIRE(second.run());
  CHECK(second.client->is_resumed());
  CHECK(second.server->is_resumed());
  CHECK(second.client->alpn() == "h3");
  CHECK_FALSE(second.client->early_data_accepted());  // not enabled
  // A resumed session still reports the original server certificate.
  CHECK(second.client->peer_certificate()->der == leaf_from_ca().cert_der);

  // Another server (other ticket keys) cannot decrypt the ticket: full handshake.
  Pair third(ccfg, make_config(server_opts()), {.resume_session = ticket});
  REQUIRE(third.run());
  CHECK_FALSE(third.client->is_resumed());

  CHECK_FALSE(TlsSession::create(ccfg, {.resume_session = {1, 2, 3}}).ok());

  // Tickets disabled: none issued.
  TlsConfigOptions so = server_opts();
  so.session_tickets = false;
  Pair none(ccfg, make_config(so));
  REQUIRE(none.run());
  CHECK_FALSE(none.client->poll_session_ticket(ticket));
}

TEST_CASE("tls: 0-RTT accepted with the same context, rejected otherwise", "[tls]") {
  TlsConfigOptions co = client_opts();
  co.early_data = true;
  TlsConfigOptions so = server_opts();
  so.early_data = true;
  auto ccfg = make_config(co);
  auto scfg = make_config(so);
  const std::vector<uint8_t> ctx = {1, 2, 3, 4};
  Pair first(ccfg, scfg, {}, {.early_data_context = ctx});
  REQUIRE(first.run());
  std::vector<uint8_t> ticket;
  REQUIRE(first.client->poll_session_ticket(ticket));

  SECTION("accepted") {
    Pair p(ccfg, scfg, {.resume_session = ticket}, {.early_data_context = ctx});
    auto r = p.client->do_handshake();
    REQUIRE(r.ok());
    CHECK(*r == TlsProgress::early_data);
    TlsSecret sec;
    REQUIRE(p.client->poll_secret(sec));
    CHECK(sec.level == EncryptionLevel::early_data);
    CHECK(sec.direction == SecretDirection::write);
    p.client_secrets.push_back(sec);
    REQUIRE(p.server->provide_data(EncryptionLevel::initial,
                                   p.client->take_crypto(EncryptionLevel::initial)).ok());
    auto sr = p.server->do_handshake();
    REQUIRE(sr.ok());
    CHECK(*sr == TlsProgress::early_data);
    CHECK(p.server->early_data_accepted());
    REQUIRE(p.run());
    CHECK(p.client->early_data_accepted());
    CHECK_FALSE(p.client->early_data_rejected());
    CHECK(same_secret(find(p.client_secrets, EncryptionLevel::early_data, SecretDirection::write),
                      find(p.server_secrets, EncryptionLevel::early_data, SecretDirection::read)));
  }
  SECTION("context mismatch: rejected, handshake still completes resumed") {
    Pair p(ccfg, scfg, {.resume_session = ticket}, {.early_data_context = {9, 9}});
    REQUIRE(p.run());
    CHECK(p.client->is_resumed());
    CHECK_FALSE(p.server->early_data_accepted());
    CHECK(p.client->early_data_rejected());
    CHECK(std::string(p.server->early_data_reason()) != "accepted");
    CHECK_FALSE(find(p.server_secrets, EncryptionLevel::early_data, SecretDirection::read));
  }
}

TEST_CASE("tls: peer input errors", "[tls]") {
  SECTION("CRYPTO data at a level TLS does not expect") {
    Pair p(make_config(client_opts()), make_config(server_opts()));
    const uint8_t junk[] = {0x01, 0x00, 0x00, 0x01, 0x00};
    auto st = p.server->provide_data(EncryptionLevel::handshake, junk);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().is(TransportError::protocol_violation));  // RFC 9001 §4.1.3
  }
  SECTION("malformed ClientHello") {
    Pair p(make_config(client_opts()), make_config(server_opts()));
    const uint8_t junk[] = {0x01, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef};
    REQUIRE(p.server->provide_data(EncryptionLevel::initial, junk).ok());
    auto r = p.server->do_handshake();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == kCryptoBase + 50);  // decode_error
  }
  SECTION("unexpected message type") {
    Pair p(make_config(client_opts()), make_config(server_opts()));
    const uint8_t junk[] = {0x14, 0x00, 0x00, 0x00};  // Finished instead of ClientHello
    REQUIRE(p.server->provide_data(EncryptionLevel::initial, junk).ok());
    auto r = p.server->do_handshake();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == kCryptoBase + 10);  // unexpected_message
  }
  SECTION("ClientHello without transport parameters: missing_extension (109)") {
    Pair p(make_config(client_opts()), make_config(server_opts()));
    REQUIRE(p.client->do_handshake().ok());
    auto ch = p.client->take_crypto(EncryptionLevel::initial);
    REQUIRE(hide_transport_params(ch));  // also proves the codepoint is 0x39, not 0xffa5
    REQUIRE(p.server->provide_data(EncryptionLevel::initial, ch).ok());
    auto r = p.server->do_handshake();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == 0x16d);  // RFC 9001 §8.2
  }
  SECTION("no local transport parameters: neither side starts") {
    auto c = TlsSession::create(make_config(client_opts()));
    REQUIRE(c.ok());
    CHECK_FALSE((*c)->do_handshake().ok());  // BoringSSL will not send a ClientHello
    Pair p(make_config(client_opts()), make_config(server_opts()));
    auto s = TlsSession::create(make_config(server_opts()));
    REQUIRE(s.ok());
    REQUIRE(p.client->do_handshake().ok());
    REQUIRE((*s)->provide_data(EncryptionLevel::initial,
                               p.client->take_crypto(EncryptionLevel::initial)).ok());
    CHECK_FALSE((*s)->do_handshake().ok());
  }
}
