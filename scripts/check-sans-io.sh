#!/usr/bin/env bash
# The protocol core must not touch sockets, threads, clocks or OS randomness.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\b(socket|bind|connect|sendto|recvfrom|sendmsg|recvmsg|sendmmsg|recvmmsg|epoll_[a-z]+|io_uring_[a-z_]+|getrandom|RAND_bytes|clock_gettime|gettimeofday|time|sleep|usleep|nanosleep)\s*\(|std::thread|std::jthread|pthread_create|std::this_thread|steady_clock|system_clock|high_resolution_clock|std::random_device|<sys/socket.h>|<thread>'
hits=$(grep -rnE "$pattern" quic h3 --include='*.h' --include='*.cc' | grep -v '^\s*//' | grep -vE ':\s*//' || true)
if [ -n "$hits" ]; then
  echo "sans-I/O check FAILED: I/O calls in the protocol core:"
  echo "$hits"
  exit 1
fi
echo "sans-I/O check passed: quic/ and h3/ make no socket, thread, clock or random calls"
