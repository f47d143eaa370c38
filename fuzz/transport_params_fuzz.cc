// Decodes peer transport parameters as sent by either role; anything that
// decodes must re-encode and decode to the same value.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "quic/transport_params.h"

using namespace wt;
using namespace wt::quic;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (Role sender : {Role::client, Role::server}) {
    auto r = TransportParameters::decode(Bytes{data, size}, sender);
    if (!r.ok()) {
      if (!r.error().is(TransportError::transport_parameter_error)) std::abort();
      continue;
    }
    auto n = r->encoded_size();
    if (!n.ok()) std::abort();
    std::vector<uint8_t> buf(*n);
    Writer w{MutBytes{buf}};
    if (!r->encode(w).ok() || w.written() != *n) std::abort();
    auto again = TransportParameters::decode(Bytes{buf}, sender);
    if (!again.ok() || !(*again == *r)) std::abort();
  }
  // The raw walk must agree with decode about framing.
  TransportParameterIterator it(Bytes{data, size});
  RawTransportParameter p;
  for (;;) {
    auto more = it.next(p);
    if (!more.ok() || !*more) break;
    if (p.value.data() < data || p.value.data() + p.value.size() > data + size) std::abort();
  }
  return 0;
}
