// What the simulator drives: a "node" that takes datagrams in, hands
// datagrams out and has at most one timer. It mirrors quic::Endpoint's
// sans-I/O surface so that an adapter around an Endpoint is trivial.
#pragma once
#include <cstddef>

#include "lib/bytes.h"
#include "lib/clock.h"
#include "quic/ack_tracker.h"  // quic::Ecn
#include "quic/connection.h"   // quic::SendBatch
#include "quic/path.h"

namespace wt::sim {

using quic::Address;
using quic::AddressHash;
using quic::Ecn;
using quic::Path;

// One GSO batch: `bytes` in `out`, split into datagrams of `segment_size`
// (the last may be shorter; 0 = one datagram); path.local = sender's
// address, path.remote = destination.
using quic::SendBatch;

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
