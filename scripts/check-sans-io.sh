#!/usr/bin/env bash
# The protocol core must not touch sockets, threads, clocks or OS randomness.
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\b(socket|sendto|recvfrom|sendmsg|recvmsg|sendmmsg|recvmmsg|epoll_[a-z_]+|io_uring_[a-z_]+|getrandom|RAND_bytes|clock_gettime|gettimeofday|nanosleep|usleep|pthread_create)\s*\(|(^|[^[:alnum:]_:])::(connect|bind|listen|accept|time|sleep)\s*\(|std::(thread|jthread|this_thread|random_device)|steady_clock|system_clock|high_resolution_clock|/dev/u?random|#include <(sys/socket\.h|netinet/[a-z_]+\.h|thread|unistd\.h|sys/time\.h)>'
hits=$(grep -rnE "$pattern" quic h3 --include='*.h' --include='*.cc' | grep -v '^\s*//' | grep -vE ':\s*//' || true)
if [ -n "$hits" ]; then
  echo "sans-I/O check FAILED: I/O calls in the protocol core:"
  echo "$hits"
  exit 1
fi
echo "sans-I/O check passed: quic/ and h3/ make no socket, thread, clock or random calls"
