#include "quic/congestion.h"

#include "quic/cubic.h"
#include "quic/new_reno.h"

namespace wt::quic {

const char* cc_algorithm_name(CcAlgorithm a) {
  switch (a) {
    case CcAlgorithm::new_reno: return "newreno";
    case CcAlgorithm::cubic: return "cubic";
  }
  return "unknown";
}

std::unique_ptr<CongestionController> make_congestion_controller(CcAlgorithm algorithm,
                                                                 uint32_t max_datagram_size) {
  switch (algorithm) {
    case CcAlgorithm::new_reno: return std::make_unique<NewReno>(max_datagram_size);
    case CcAlgorithm::cubic: return std::make_unique<Cubic>(max_datagram_size);
  }
  return std::make_unique<NewReno>(max_datagram_size);
}

}  // namespace wt::quic
