#include "quic/hkdf.h"

#include <openssl/digest.h>
#include <openssl/hkdf.h>

namespace wt::quic {

namespace {

const EVP_MD* md_of(HashAlg h) { return h == HashAlg::sha384 ? EVP_sha384() : EVP_sha256(); }

constexpr std::string_view kTls13Prefix = "tls13 ";

}  // namespace

Result<Secret> hkdf_extract(HashAlg h, Bytes salt, Bytes ikm) {
  Secret out;
  MutBytes buf = out.mutable_bytes(hash_length(h));
  size_t out_len = 0;
  // BoringSSL's argument order is (secret, salt), unlike RFC 5869.
  if (!HKDF_extract(buf.data(), &out_len, md_of(h), ikm.data(), ikm.size(), salt.data(),
                    salt.size()) ||
      out_len != buf.size()) {
    return Error(TransportError::internal_error, "HKDF-Extract failed");
  }
  return out;
}

Status hkdf_expand_label(HashAlg h, Bytes secret, std::string_view label, Bytes context,
                         MutBytes out) {
  // struct HkdfLabel { uint16 length; opaque label<7..255>; opaque context<0..255>; }
  uint8_t info[2 + 1 + 255 + 1 + 255];
  const size_t label_len = kTls13Prefix.size() + label.size();
  if (label_len > 255 || context.size() > 255 || out.size() > 0xffff) {
    return Error(TransportError::internal_error, "HKDF label too long");
  }
  Writer w{MutBytes{info}};
  w.u16(static_cast<uint16_t>(out.size()));
  w.u8(static_cast<uint8_t>(label_len));
  w.bytes(as_bytes(kTls13Prefix));
  w.bytes(as_bytes(label));
  w.u8(static_cast<uint8_t>(context.size()));
  w.bytes(context);
  if (!HKDF_expand(out.data(), out.size(), md_of(h), secret.data(), secret.size(), info,
                   w.written())) {
    return Error(TransportError::internal_error, "HKDF-Expand failed");
  }
  return {};
}

Result<Secret> hkdf_expand_label_secret(HashAlg h, Bytes secret, std::string_view label,
                                        size_t len) {
  if (len > Secret::kMaxSize) return Error(TransportError::internal_error, "secret too long");
  Secret out;
  WT_TRY(hkdf_expand_label(h, secret, label, {}, out.mutable_bytes(len)));
  return out;
}

}  // namespace wt::quic
