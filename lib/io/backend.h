// Internal interface between the Loop and its two I/O back-ends (io_uring,
// epoll). Not part of the public API.
#pragma once
#include <memory>
#include <string>

#include "lib/io/handler.h"
#include "lib/io/loop_options.h"
#include "lib/io/timer_queue.h"
#include "lib/io/udp_socket.h"
#include "lib/result.h"

namespace wt::io {

// A registered socket. Owned by the Loop; freed only once closing and no
// kernel operation references it (outstanding == 0).
struct SocketState {
  SocketState(SocketId i, UdpSocket s, UdpHandler& h, size_t slots, size_t slot_bytes)
      : id(i), sock(std::move(s)), handler(&h), send(slots, slot_bytes) {}
  SocketId id;
  UdpSocket sock;
  UdpHandler* handler;
  SendBuffer send;
  TimerId deadline_timer;
  bool closing = false;
  bool send_pending = true;  // the handler may have more to send
  bool blocked = false;      // kernel busy with our sends: wait for the back-end
  bool received = false;     // on_receive_done owed
  bool dirty = false;        // in the loop's work list
  bool in_send = false;      // inside Loop::do_send (writable() needs no re-queue)
  uint32_t outstanding = 0;  // io_uring operations referencing this state
};

// What the back-ends tell the loop.
class IoSink {
 public:
  virtual ~IoSink() = default;
  // The back-end returned from sleeping: refresh the clock.
  virtual void woke() = 0;
  virtual void deliver(SocketState& s, const DatagramBatchView& batch) = 0;
  // Sends may continue (after blocked was set).
  virtual void writable(SocketState& s) = 0;
  virtual LoopStats& stats() = 0;
  // Datagrams the back-end may still deliver in this iteration
  // (LoopOptions::recv_datagram_budget); SIZE_MAX without a limit.
  virtual size_t receive_budget() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;
  virtual Status add(SocketState& s) = 0;
  // Stops all I/O on the socket; the loop frees it when s.outstanding == 0,
  // after calling detach.
  virtual void remove(SocketState& s) = 0;
  virtual void detach(SocketState& s) = 0;
  // Sleeps until I/O, a wake() or the timeout (Duration::max(): none; zero:
  // just poll), then dispatches what arrived through the sink.
  virtual void wait(Duration timeout) = 0;
  // Hands s.send's queued batches to the kernel; sets s.blocked when the
  // kernel cannot take them now (writable() follows later).
  virtual void flush(SocketState& s) = 0;
  // Completions already read but not yet dispatched: do not sleep.
  virtual bool has_pending() const { return false; }
  // Any thread: interrupt wait().
  virtual void wake() = 0;
};

// nullptr and a reason when the kernel or the sandbox does not allow it.
std::unique_ptr<Backend> make_uring_backend(IoSink& sink, const LoopOptions& o, std::string& why);
std::unique_ptr<Backend> make_epoll_backend(IoSink& sink, const LoopOptions& o, std::string& why);

}  // namespace wt::io
