// A UDP relay that impairs traffic like tc netem, for kernels without
// sch_netem (test/integration/netns_test.sh falls back to it): each
// direction has a bottleneck of --rate-mbit with a queue of --limit packets,
// then --delay-ms of propagation delay; --loss drops packets at random and
// --reorder sends packets without the delay (ahead of earlier ones).
//
//   impair_proxy --listen IP:PORT --target IP:PORT [--loss 0.05] [--delay-ms 20]
//                [--reorder 0.1] [--rate-mbit 50] [--limit 1000] [--seed N]
//                [--rebind-ms N]
//
// --rebind-ms moves every client to a new upstream port every N ms, like a
// NAT rebinding (the interop runner's rebind-port): the server sees the
// client's port change mid-connection; packets to the old port are lost.
// Clients talk to --listen; each client address gets its own upstream
// socket towards --target. IPv4 only. Runs until SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

bool parse_addr(const std::string& s, sockaddr_in& out) {
  size_t colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<uint16_t>(std::atoi(s.c_str() + colon + 1)));
  return inet_pton(AF_INET, s.substr(0, colon).c_str(), &out.sin_addr) == 1;
}

uint64_t key_of(const sockaddr_in& a) {
  return (uint64_t{a.sin_addr.s_addr} << 16) | a.sin_port;
}

struct Packet {
  int64_t release;
  uint64_t seq;
  int fd;  // socket to send from
  sockaddr_in to;
  std::vector<uint8_t> data;
  bool operator>(const Packet& o) const {
    return release != o.release ? release > o.release : seq > o.seq;
  }
};

struct Link {
  int64_t free_at = 0;  // when the bottleneck finishes what is queued
  size_t queued = 0;
};

struct Options {
  double loss = 0.05, reorder = 0.1, rate_mbit = 50;
  int64_t delay_ns = 20'000'000;
  size_t limit = 1000;
  uint64_t seed = 1;
  int64_t rebind_ns = 0;
};

int udp_socket(const sockaddr_in* bind_to) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int buf = 8 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  if (bind_to && bind(fd, reinterpret_cast<const sockaddr*>(bind_to), sizeof *bind_to) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  sockaddr_in listen_addr{}, target{};
  bool have_listen = false, have_target = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--listen") have_listen = parse_addr(v, listen_addr);
    else if (k == "--target") have_target = parse_addr(v, target);
    else if (k == "--loss") o.loss = std::atof(v.c_str());
    else if (k == "--reorder") o.reorder = std::atof(v.c_str());
    else if (k == "--rate-mbit") o.rate_mbit = std::atof(v.c_str());
    else if (k == "--delay-ms") o.delay_ns = static_cast<int64_t>(std::atof(v.c_str()) * 1e6);
    else if (k == "--limit") o.limit = static_cast<size_t>(std::atol(v.c_str()));
    else if (k == "--seed") o.seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--rebind-ms") o.rebind_ns = static_cast<int64_t>(std::atof(v.c_str()) * 1e6);
    else {
      std::fprintf(stderr, "impair_proxy: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (!have_listen || !have_target) {
    std::fprintf(stderr, "usage: impair_proxy --listen IP:PORT --target IP:PORT [options]\n");
    return 2;
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  int front = udp_socket(&listen_addr);
  if (front < 0) {
    std::perror("impair_proxy: bind");
    return 1;
  }
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<double> uni(0, 1);
  std::map<uint64_t, int> upstream;          // client -> socket towards the target
  std::map<int, sockaddr_in> client_of;      // that socket -> client
  std::vector<int> retired;                  // old upstream sockets (closed at exit)
  std::priority_queue<Packet, std::vector<Packet>, std::greater<Packet>> q;
  Link to_server, to_client;
  uint64_t seq = 0, forwarded = 0, dropped = 0, reordered = 0, rebinds = 0;
  int64_t next_rebind = o.rebind_ns ? now_ns() + o.rebind_ns : INT64_MAX;
  std::vector<uint8_t> buf(65536);

  auto enqueue = [&](Link& link, int fd, const sockaddr_in& to, size_t n, int64_t now) {
    if (uni(rng) < o.loss || link.queued >= o.limit) {
      ++dropped;
      return;
    }
    // The bottleneck serializes packets at the rate; propagation follows.
    int64_t tx_ns = static_cast<int64_t>(static_cast<double>(n) * 8 / (o.rate_mbit * 1e6) * 1e9);
    link.free_at = std::max(link.free_at, now) + tx_ns;
    int64_t release = link.free_at + o.delay_ns;
    if (uni(rng) < o.reorder) {
      release = link.free_at;  // skips the delay line: overtakes earlier packets
      ++reordered;
    }
    ++link.queued;
    q.push({release, seq++, fd, to, std::vector<uint8_t>(buf.begin(), buf.begin() + static_cast<long>(n))});
  };

  while (!g_stop) {
    std::vector<pollfd> fds{{front, POLLIN, 0}};
    for (auto& [fd, c] : client_of) fds.push_back({fd, POLLIN, 0});
    int64_t now = now_ns();
    int timeout_ms = 100;
    if (!q.empty()) timeout_ms = static_cast<int>(std::max<int64_t>(0, (q.top().release - now) / 1'000'000));
    poll(fds.data(), fds.size(), timeout_ms);
    now = now_ns();
    for (const auto& p : fds) {
      if (!(p.revents & POLLIN)) continue;
      for (int burst = 0; burst < 64; ++burst) {
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(p.fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) break;
        if (p.fd == front) {
          int& up = upstream[key_of(from)];
          if (up == 0) {
            up = udp_socket(nullptr);
            if (up < 0) {
              std::perror("impair_proxy: socket");
              return 1;
            }
            client_of[up] = from;
          }
          enqueue(to_server, up, target, static_cast<size_t>(n), now);
        } else {
          enqueue(to_client, front, client_of[p.fd], static_cast<size_t>(n), now);
        }
      }
    }
    if (now >= next_rebind) {
      // New upstream sockets; queued packets still leave from the old ones,
      // which then close (answers to them are lost, as behind a NAT).
      for (auto& [key, fd] : upstream) {
        int fresh = udp_socket(nullptr);
        if (fresh < 0) continue;
        client_of[fresh] = client_of[fd];
        client_of.erase(fd);
        retired.push_back(fd);
        fd = fresh;
        ++rebinds;
      }
      next_rebind = now + o.rebind_ns;
    }
    while (!q.empty() && q.top().release <= now) {
      const Packet& pk = q.top();
      (pk.fd == front ? to_client : to_server).queued--;
      sendto(pk.fd, pk.data.data(), pk.data.size(), 0, reinterpret_cast<const sockaddr*>(&pk.to), sizeof pk.to);
      ++forwarded;
      q.pop();
    }
  }
  for (int fd : retired) close(fd);
  std::fprintf(stderr, "impair_proxy: forwarded %lu, dropped %lu, reordered %lu, rebinds %lu\n",
               static_cast<unsigned long>(forwarded), static_cast<unsigned long>(dropped),
               static_cast<unsigned long>(reordered), static_cast<unsigned long>(rebinds));
  return 0;
}
