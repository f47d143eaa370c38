// Parses a TLS ClientHello from peer bytes and walks every decoded view.
#include <cstdint>
#include <cstdlib>

#include "quic/client_hello.h"
#include "quic/transport_params.h"

using namespace wt;
using namespace wt::quic;

namespace {

const uint8_t* g_begin;
const uint8_t* g_end;

void check_inside(Bytes b) {
  if (!b.empty() && (b.data() < g_begin || b.data() + b.size() > g_end)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  g_begin = data;
  g_end = data + size;
  auto r = parse_client_hello(Bytes{data, size});
  if (!r.ok()) return 0;
  const ClientHello& ch = *r;
  if (tls_handshake_message_size(Bytes{data, size}) != size) std::abort();
  check_inside(ch.random);
  check_inside(ch.legacy_session_id);
  size_t n = 0;
  for (uint16_t s : ch.cipher_suites) n += s;
  for (const TlsExtension& e : ch.extensions) {
    check_inside(e.data);
    if (!ch.extension(e.type)) std::abort();
  }
  if (ch.server_name) check_inside(as_bytes(*ch.server_name));
  if (ch.alpn)
    for (std::string_view p : *ch.alpn) {
      if (p.empty()) std::abort();
      check_inside(as_bytes(p));
    }
  for (const auto* l : {&ch.supported_versions, &ch.supported_groups, &ch.signature_algorithms})
    if (*l)
      for (uint16_t v : **l) n += v;
  if (ch.key_shares)
    for (const KeyShareEntry& k : *ch.key_shares) {
      if (k.key_exchange.empty()) std::abort();
      check_inside(k.key_exchange);
    }
  if (ch.quic_transport_parameters) {
    check_inside(*ch.quic_transport_parameters);
    (void)TransportParameters::decode(*ch.quic_transport_parameters, Role::client);
  }
  volatile size_t sink = n;  // keep the walks
  (void)sink;
  return 0;
}
