// What the simulator drives: a "node" that takes datagrams in, hands
// datagrams out and has at most one timer. It mirrors quic::Endpoint's
// sans-I/O surface so that an adapter around an Endpoint is trivial.
#pragma once
#include <cstddef>

#include "lib/bytes.h"
#include "lib/clock.h"
#include "quic/ack_tracker.h"  // quic::Ecn
#include "quic/path.h"

namespace wt::sim {

using quic::Address;
using quic::AddressHash;
using quic::Ecn;
using quic::Path;

// Stand-in for quic::SendBatch (quic/endpoint.h) until the connection lands;
// same fields, so switching is a one-line `using`.
struct SendBatch {
  size_t bytes = 0;         // total bytes written into `out`
  size_t segment_size = 0;  // every datagram has this size except possibly the last; 0 = one datagram
  Path path;                // local = sender's address, remote = destination
  Ecn ecn = Ecn::not_ect;
};

struct SimNode {
  virtual ~SimNode() = default;
  // `path.local` is the address the datagram was sent to, `path.remote` the
  // sender's (as seen after the link, e.g. after a NAT rebinding).
  virtual void receive(MutBytes datagram, const Path& path, Ecn ecn, Time now) = 0;
  // Called repeatedly until it returns 0 bytes.
  virtual SendBatch send(MutBytes out, Time now) = 0;
  virtual Time next_timeout() const = 0;  // kTimeInfinite if none
  virtual void on_timeout(Time now) = 0;
};

}  // namespace wt::sim
