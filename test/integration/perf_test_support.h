// The perf protocol's endpoint configuration for integration tests.
#pragma once
#include <catch2/catch.hpp>

#include <string>

#include "lib/random.h"
#include "quic/endpoint.h"
#include "tools/perf_protocol.h"

namespace wt::net::test {

inline quic::EndpointConfig perf_endpoint_config(bool server, Random& rng, perf::EndpointSetup setup = {}) {
  setup.server = server;
  std::string err;
  auto c = perf::make_endpoint_config(setup, rng, &err);
  INFO(err);
  REQUIRE(c.ok());
  return *c;
}

}  // namespace wt::net::test
