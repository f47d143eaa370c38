// Options and statistics of the event loop (lib/io/loop.h).
#pragma once
#include <cstdint>

namespace wt::io {

enum class BackendKind : uint8_t { automatic, uring, epoll };
const char* backend_name(BackendKind k);

struct LoopOptions {
  // automatic: WT_IO_BACKEND=uring|epoll if set, else io_uring when the
  // kernel and sandbox allow it, else epoll. An explicit choice ignores the
  // environment and fails if unavailable.
  BackendKind backend = BackendKind::automatic;
  // Receive buffers: io_uring provided-buffer ring entries (power of two) /
  // epoll recvmmsg batch size.
  uint32_t recv_buffers = 64;
  // Payload bytes per receive buffer; >= 65535 so any GRO batch fits.
  uint32_t recv_buffer_size = 65536;
  // Per socket: queued send batches, and bytes per batch.
  uint32_t send_slots = 16;
  uint32_t send_slot_size = 65536;
  // Send batches per socket per iteration before input is looked at again.
  uint32_t send_budget = 64;
  // epoll: received batches per socket per wake-up.
  uint32_t recv_budget = 256;
  // Received datagrams (all sockets, GRO segments counted one by one) per
  // iteration before on_receive_done and the sends run; the rest waits for
  // the next iteration, which follows without sleeping. Bounds how long the
  // ACKs of a long receive burst are held back (the sender's window then
  // need not cover a whole burst). 0: no limit.
  uint32_t recv_datagram_budget = 256;
};

struct LoopStats {
  uint64_t iterations = 0;       // run_once calls (sleeps, at most one each)
  uint64_t recv_batches = 0;     // on_receive calls
  uint64_t recv_datagrams = 0;
  uint64_t recv_dropped = 0;     // truncated / out of receive buffers
  uint64_t send_batches = 0;     // committed batches handed to the kernel
  uint64_t send_calls = 0;       // sendmsg-level messages (one per GSO send)
  uint64_t send_syscalls = 0;    // system calls that carried them (sendmmsg, io_uring_enter)
  uint64_t send_errors = 0;      // messages dropped by a send error
  uint64_t send_blocked = 0;     // times the kernel made us wait
  uint64_t timers_fired = 0;
};

}  // namespace wt::io
