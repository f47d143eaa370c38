#include "lib/certgen.h"

#include <openssl/asn1.h>
#include <openssl/base64.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "lib/hex.h"

namespace wt::certgen {
namespace {

Error fail(const char* detail) {
  ERR_clear_error();
  return Error(TransportError::internal_error, detail);
}

bssl::UniquePtr<EVP_PKEY> generate_key(KeyType type) {
  bssl::UniquePtr<EVP_PKEY> pkey(EVP_PKEY_new());
  if (!pkey) return nullptr;
  if (type == KeyType::ecdsa_p256) {
    bssl::UniquePtr<EC_KEY> ec(EC_KEY_new_by_curve_name(NID_X9_62_prime256v1));
    if (!ec || !EC_KEY_generate_key(ec.get())) return nullptr;
    if (!EVP_PKEY_assign_EC_KEY(pkey.get(), ec.release())) return nullptr;
  } else {
    bssl::UniquePtr<RSA> rsa(RSA_new());
    bssl::UniquePtr<BIGNUM> e(BN_new());
    if (!rsa || !e || !BN_set_word(e.get(), RSA_F4) ||
        !RSA_generate_key_ex(rsa.get(), 2048, e.get(), nullptr))
      return nullptr;
    if (!EVP_PKEY_assign_RSA(pkey.get(), rsa.release())) return nullptr;
  }
  return pkey;
}

bool set_random_serial(X509* x) {
  // RFC 5280 §4.1.2.2: positive, at most 20 octets; 16 random bytes suffice.
  uint8_t buf[16];
  RAND_bytes(buf, sizeof(buf));
  buf[0] = static_cast<uint8_t>((buf[0] & 0x7f) | 0x40);  // positive, always 16 octets
  bssl::UniquePtr<BIGNUM> bn(BN_bin2bn(buf, sizeof(buf), nullptr));
  if (!bn) return false;
  bssl::UniquePtr<ASN1_INTEGER> serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  return serial && X509_set_serialNumber(x, serial.get());
}

bool add_ext(X509* x, X509V3_CTX* ctx, int nid, const char* value) {
  bssl::UniquePtr<X509_EXTENSION> ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  return ext && X509_add_ext(x, ext.get(), -1);
}

// subjectAltName from DNS names and IP addresses (RFC 5280 §4.2.1.6).
Status add_san(X509* x, const Options& opts) {
  if (opts.dns_names.empty() && opts.ip_addresses.empty()) return {};
  GENERAL_NAMES* gens = sk_GENERAL_NAME_new_null();
  if (!gens) return fail("out of memory");
  auto free_gens = [&] { sk_GENERAL_NAME_pop_free(gens, GENERAL_NAME_free); };
  for (const auto& dns : opts.dns_names) {
    bssl::UniquePtr<GENERAL_NAME> gn(GENERAL_NAME_new());
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (!gn || !ia5 || !ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size()))) {
      ASN1_IA5STRING_free(ia5);
      free_gens();
      return fail("cannot encode dNSName");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_DNS, ia5);
    if (!sk_GENERAL_NAME_push(gens, gn.get())) {
      free_gens();
      return fail("out of memory");
    }
    gn.release();
  }
  for (const auto& ip : opts.ip_addresses) {
    ASN1_OCTET_STRING* oct = a2i_IPADDRESS(ip.c_str());
    if (!oct) {
      free_gens();
      return fail("invalid IP address for subjectAltName");
    }
    bssl::UniquePtr<GENERAL_NAME> gn(GENERAL_NAME_new());
    if (!gn) {
      ASN1_OCTET_STRING_free(oct);
      free_gens();
      return fail("out of memory");
    }
    GENERAL_NAME_set0_value(gn.get(), GEN_IPADD, oct);
    if (!sk_GENERAL_NAME_push(gens, gn.get())) {
      free_gens();
      return fail("out of memory");
    }
    gn.release();
  }
  int ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT);
  free_gens();
  if (!ok) return fail("cannot add subjectAltName");
  return {};
}

std::string pem_of(int (*write)(BIO*, void*), void* obj) {
  bssl::UniquePtr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || !write(bio.get(), obj)) return {};
  const uint8_t* data = nullptr;
  size_t len = 0;
  if (!BIO_mem_contents(bio.get(), &data, &len)) return {};
  return std::string(reinterpret_cast<const char*>(data), len);
}

int write_cert(BIO* b, void* x) { return PEM_write_bio_X509(b, static_cast<X509*>(x)); }
int write_key(BIO* b, void* k) {
  return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr,
                                  nullptr);
}

Result<CertHashes> hashes_of(X509* x) {
  CertHashes h;
  uint8_t* der = nullptr;
  int len = i2d_X509(x, &der);
  if (len <= 0) return fail("cannot encode certificate");
  SHA256(der, static_cast<size_t>(len), h.cert_sha256.data());
  OPENSSL_free(der);
  // The whole SubjectPublicKeyInfo, as Chromium pins it (not just the key bits).
  bssl::UniquePtr<EVP_PKEY> pkey(X509_get_pubkey(x));
  uint8_t* spki = nullptr;
  len = pkey ? i2d_PUBKEY(pkey.get(), &spki) : -1;
  if (len <= 0) return fail("cannot encode SubjectPublicKeyInfo");
  SHA256(spki, static_cast<size_t>(len), h.spki_sha256.data());
  OPENSSL_free(spki);
  return h;
}

// Builds and signs a certificate. `issuer`/`issuer_key` null: self-signed.
Result<Certificate> build(const Options& opts, bool is_ca, X509* issuer, EVP_PKEY* issuer_key) {
  if (opts.validity_days < 1 || opts.validity_days > kMaxValidityDays)
    return fail("validity_days out of range");
  bssl::UniquePtr<EVP_PKEY> key = generate_key(opts.key_type);
  if (!key) return fail("key generation failed");
  bssl::UniquePtr<X509> x(X509_new());
  if (!x || !X509_set_version(x.get(), X509_VERSION_3) || !set_random_serial(x.get()))
    return fail("cannot create certificate");

  std::string cn = opts.common_name;
  if (cn.empty()) {
    cn = !opts.dns_names.empty()      ? opts.dns_names.front()
         : !opts.ip_addresses.empty() ? opts.ip_addresses.front()
                                      : std::string("wtcpp");
  }
  X509_NAME* name = X509_get_subject_name(x.get());
  if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                  reinterpret_cast<const uint8_t*>("wtcpp"), -1, -1, 0) ||
      !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  reinterpret_cast<const uint8_t*>(cn.c_str()), -1, -1, 0))
    return fail("invalid common name");
  if (!X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name))
    return fail("cannot set issuer");

  time_t nb = opts.not_before != 0 ? static_cast<time_t>(opts.not_before) : time(nullptr) - 3600;
  if (!ASN1_TIME_adj(X509_getm_notBefore(x.get()), nb, 0, 0) ||
      !ASN1_TIME_adj(X509_getm_notAfter(x.get()), nb, opts.validity_days, 0))
    return fail("cannot set validity");
  if (!X509_set_pubkey(x.get(), key.get())) return fail("cannot set public key");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : x.get(), x.get(), nullptr, nullptr, 0);
  bool ok = add_ext(x.get(), &ctx, NID_basic_constraints,
                    is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
            add_ext(x.get(), &ctx, NID_subject_key_identifier, "hash");
  if (is_ca) {
    ok = ok && add_ext(x.get(), &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    // A self-signed leaf carries no keyUsage: with digitalSignature alone,
    // verifiers do not accept it as its own issuer, so it could not be
    // trusted by listing it as a CA file (pinning).
    if (issuer) {
      ok = ok && add_ext(x.get(), &ctx, NID_key_usage,
                         opts.key_type == KeyType::rsa2048
                             ? "critical,digitalSignature,keyEncipherment"
                             : "critical,digitalSignature");
    }
    ok = ok && add_ext(x.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  if (ok && issuer) ok = add_ext(x.get(), &ctx, NID_authority_key_identifier, "keyid:always");
  if (!ok) return fail("cannot add certificate extensions");
  WT_TRY(add_san(x.get(), opts));

  if (!X509_sign(x.get(), issuer_key ? issuer_key : key.get(), EVP_sha256()))
    return fail("signing failed");

  Certificate out;
  out.cert_pem = pem_of(write_cert, x.get());
  out.key_pem = pem_of(write_key, key.get());
  if (out.cert_pem.empty() || out.key_pem.empty()) return fail("PEM encoding failed");
  uint8_t* der = nullptr;
  int len = i2d_X509(x.get(), &der);
  if (len <= 0) return fail("cannot encode certificate");
  out.cert_der.assign(der, der + len);
  OPENSSL_free(der);
  WT_ASSIGN(out.hashes, hashes_of(x.get()));
  return out;
}

bssl::UniquePtr<X509> parse_cert(std::string_view pem) {
  bssl::UniquePtr<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return bssl::UniquePtr<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

}  // namespace

std::string base64(const uint8_t* data, size_t len) {
  size_t out_len = 0;
  if (!EVP_EncodedLength(&out_len, len)) return {};
  std::string s(out_len, '\0');
  size_t n = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(s.data()), data, len);
  s.resize(n);
  return s;
}

std::string CertHashes::cert_sha256_hex() const { return to_hex(cert_sha256); }
std::string CertHashes::cert_sha256_base64() const {
  return base64(cert_sha256.data(), cert_sha256.size());
}
std::string CertHashes::spki_sha256_base64() const {
  return base64(spki_sha256.data(), spki_sha256.size());
}

Result<Certificate> self_signed(const Options& opts) { return build(opts, false, nullptr, nullptr); }

Result<Certificate> make_ca(const Options& opts) {
  Options o = opts;
  if (o.common_name.empty() && o.dns_names.empty() && o.ip_addresses.empty())
    o.common_name = "wtcpp test CA";
  return build(o, true, nullptr, nullptr);
}

Result<Certificate> signed_by(const Options& opts, const Certificate& ca) {
  bssl::UniquePtr<X509> ca_cert = parse_cert(ca.cert_pem);
  if (!ca_cert) return fail("cannot parse CA certificate");
  bssl::UniquePtr<BIO> bio(
      BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size())));
  bssl::UniquePtr<EVP_PKEY> ca_key(
      bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!ca_key) return fail("cannot parse CA private key");
  if (!X509_check_private_key(ca_cert.get(), ca_key.get()))
    return fail("CA key does not match CA certificate");
  return build(opts, false, ca_cert.get(), ca_key.get());
}

Result<CertHashes> hashes_of_pem(std::string_view cert_pem) {
  bssl::UniquePtr<X509> x = parse_cert(cert_pem);
  if (!x) return fail("cannot parse certificate PEM");
  return hashes_of(x.get());
}

}  // namespace wt::certgen
