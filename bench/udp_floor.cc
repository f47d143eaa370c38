// The UDP pipeline floor on loopback: what one QUIC connection could reach
// on this machine if the protocol itself cost nothing. A sender thread copies
// application data into 1200-byte packets, seals each with AES-128-GCM
// (BoringSSL EVP_AEAD, context initialised once) and applies header
// protection (one AES block), and sends them with GSO (54 packets per
// 64 KiB buffer, several buffers per sendmmsg); a receiver thread receives
// with GRO, removes header protection, opens each packet and copies the
// plaintext out. Goodput counts authenticated plaintext at the receiver.
//
//   udp_floor [--duration SECONDS] [--no-gso] [--json]
//
// --no-gso sends one datagram per packet (sendmmsg x64 / recvmmsg x64, GRO
// off). --json prints {"floor_gbps": X, "gso": true|false}.
#include <netinet/in.h>
#include <netinet/udp.h>
#include <openssl/aead.h>
#include <openssl/aes.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "lib/io/clock.h"
#include "lib/io/cmsg.h"
#include "lib/io/sockaddr.h"
#include "lib/io/udp_socket.h"

using namespace wt;
using namespace wt::io;

namespace {

constexpr size_t kPacket = 1200;
constexpr size_t kCidLen = 8;
constexpr size_t kPnLen = 4;
constexpr size_t kHeader = 1 + kCidLen + kPnLen;  // QUIC short header
constexpr size_t kTag = 16;
constexpr size_t kPlain = kPacket - kHeader - kTag;  // goodput per packet
constexpr size_t kGsoPackets = 54;                   // 54 x 1200 = 64800 <= 65507
constexpr size_t kGsoBuffers = 8;                    // GSO buffers per sendmmsg
constexpr size_t kPlainBatch = 64;                   // --no-gso: datagrams per call

struct Keys {
  EVP_AEAD_CTX aead;
  AES_KEY hp;
  uint8_t iv[12];
};

void init_keys(Keys& k, const uint8_t key[16], const uint8_t hp[16], const uint8_t iv[12]) {
  EVP_AEAD_CTX_zero(&k.aead);
  if (!EVP_AEAD_CTX_init(&k.aead, EVP_aead_aes_128_gcm(), key, 16, kTag, nullptr)) std::abort();
  AES_set_encrypt_key(hp, 128, &k.hp);
  std::memcpy(k.iv, iv, 12);
}

void nonce_for(const Keys& k, uint64_t pn, uint8_t out[12]) {
  std::memcpy(out, k.iv, 12);
  for (int i = 0; i < 8; ++i) out[11 - i] ^= static_cast<uint8_t>(pn >> (8 * i));
}

// RFC 9001 §5.4: the sample starts 4 bytes after the packet number offset.
void header_mask(const Keys& k, const uint8_t* pkt, uint8_t mask[16]) {
  AES_encrypt(pkt + 1 + kCidLen + 4, mask, &k.hp);
}

// Builds one protected packet from `data` (kPlain bytes) at `out`.
void seal_packet(const Keys& k, uint64_t pn, const uint8_t* data, uint8_t* out) {
  out[0] = 0x40 | (kPnLen - 1);
  std::memset(out + 1, 0xc1, kCidLen);
  for (size_t i = 0; i < kPnLen; ++i) out[1 + kCidLen + i] = static_cast<uint8_t>(pn >> (8 * (kPnLen - 1 - i)));
  uint8_t* payload = out + kHeader;
  std::memcpy(payload, data, kPlain);  // the application data copy
  uint8_t nonce[12];
  nonce_for(k, pn, nonce);
  size_t len = 0;
  if (!EVP_AEAD_CTX_seal(&k.aead, payload, &len, kPlain + kTag, nonce, 12, payload, kPlain, out,
                         kHeader))
    std::abort();
  uint8_t mask[16];
  header_mask(k, out, mask);
  out[0] ^= mask[0] & 0x1f;
  for (size_t i = 0; i < kPnLen; ++i) out[1 + kCidLen + i] ^= mask[1 + i];
}

// Opens one packet in place and copies its plaintext to `sink`; false if
// authentication fails.
bool open_packet(const Keys& k, uint8_t* pkt, size_t len, uint8_t* sink) {
  if (len != kPacket) return false;
  uint8_t mask[16];
  header_mask(k, pkt, mask);
  pkt[0] ^= mask[0] & 0x1f;
  uint64_t pn = 0;
  for (size_t i = 0; i < kPnLen; ++i) {
    pkt[1 + kCidLen + i] ^= mask[1 + i];
    pn = (pn << 8) | pkt[1 + kCidLen + i];
  }
  uint8_t nonce[12];
  nonce_for(k, pn, nonce);
  size_t out = 0;
  uint8_t* payload = pkt + kHeader;
  if (!EVP_AEAD_CTX_open(&k.aead, payload, &out, kPlain, nonce, 12, payload, kPlain + kTag, pkt,
                         kHeader))
    return false;
  std::memcpy(sink, payload, out);  // into the application's stream buffer
  return true;
}

struct Counts {
  uint64_t sent = 0, opened = 0, failed = 0;
};

void sender(const Keys& k, int fd, const Address& to, bool gso, Time end, Counts& r) {
  std::vector<uint8_t> app(1 << 20);
  RAND_bytes(app.data(), app.size());
  size_t app_off = 0;
  size_t per_msg = gso ? kGsoPackets : 1;
  size_t msgs = gso ? kGsoBuffers : kPlainBatch;
  std::vector<uint8_t> buf(msgs * per_msg * kPacket);
  std::vector<mmsghdr> mm(msgs);
  std::vector<iovec> iov(msgs);
  sockaddr_storage dst;
  socklen_t dst_len = to_sockaddr(to, 4, dst);
  struct alignas(cmsghdr) Control {
    uint8_t b[kSendCmsgSpace];
  };
  std::vector<Control> control(msgs);
  uint64_t pn = 0;
  while (monotonic_now() < end) {
    for (size_t m = 0; m < msgs; ++m) {
      uint8_t* base = buf.data() + m * per_msg * kPacket;
      for (size_t p = 0; p < per_msg; ++p) {
        if (app_off + kPlain > app.size()) app_off = 0;
        seal_packet(k, pn++, app.data() + app_off, base + p * kPacket);
        app_off += kPlain;
      }
      iov[m] = {base, per_msg * kPacket};
      msghdr& h = mm[m].msg_hdr;
      h = msghdr{};
      h.msg_name = &dst;
      h.msg_namelen = dst_len;
      h.msg_iov = &iov[m];
      h.msg_iovlen = 1;
      if (gso) {
        SendMeta meta;
        meta.peer = &to;
        meta.segment_size = kPacket;
        h.msg_control = control[m].b;
        h.msg_controllen = build_send_cmsgs(control[m].b, meta);
      }
    }
    size_t done = 0;
    while (done < msgs) {
      int n = sendmmsg(fd, mm.data() + done, static_cast<unsigned>(msgs - done), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::perror("sendmmsg");
        std::exit(1);
      }
      done += static_cast<size_t>(n);
    }
    r.sent += msgs * per_msg;
  }
}

void receiver(const Keys& k, int fd, bool gro, Time end, Counts& r) {
  size_t msgs = gro ? kGsoBuffers : kPlainBatch;
  size_t buf_size = gro ? 65536 : 2048;
  std::vector<uint8_t> buf(msgs * buf_size);
  std::vector<uint8_t> stream(1 << 20);
  size_t stream_off = 0;
  std::vector<mmsghdr> mm(msgs);
  std::vector<iovec> iov(msgs);
  struct alignas(cmsghdr) Control {
    uint8_t b[kRecvCmsgSpace];
  };
  std::vector<Control> control(msgs);
  while (monotonic_now() < end) {
    for (size_t m = 0; m < msgs; ++m) {
      iov[m] = {buf.data() + m * buf_size, buf_size};
      msghdr& h = mm[m].msg_hdr;
      h = msghdr{};
      h.msg_iov = &iov[m];
      h.msg_iovlen = 1;
      h.msg_control = control[m].b;
      h.msg_controllen = kRecvCmsgSpace;
    }
    int n = recvmmsg(fd, mm.data(), static_cast<unsigned>(msgs), MSG_WAITFORONE, nullptr);
    if (n < 0) continue;  // SO_RCVTIMEO expired or EINTR: check the clock
    for (int m = 0; m < n; ++m) {
      RecvMeta meta;
      parse_cmsgs(mm[m].msg_hdr, meta);
      size_t len = mm[m].msg_len;
      size_t seg = meta.segment_size ? meta.segment_size : len;
      uint8_t* p = buf.data() + m * buf_size;
      for (size_t off = 0; off < len; off += seg) {
        size_t l = len - off < seg ? len - off : seg;
        if (stream_off + kPlain > stream.size()) stream_off = 0;
        if (open_packet(k, p + off, l, stream.data() + stream_off)) {
          ++r.opened;
          stream_off += kPlain;
        } else {
          ++r.failed;
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  double duration = 3.0;
  bool gso = true, json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--no-gso") gso = false;
    else if (a == "--json") json = true;
    else if (a == "--duration" && i + 1 < argc) duration = std::atof(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--duration SECONDS] [--no-gso] [--json]\n", argv[0]);
      return 2;
    }
  }
  SocketOptions so;
  so.nonblocking = false;
  so.gro = gso;
  so.pktinfo = false;
  so.ecn = false;
  auto rx = UdpSocket::bind(*parse_address("127.0.0.1:0"), so);
  auto tx = UdpSocket::bind(*parse_address("127.0.0.1:0"), so);
  if (!rx || !tx) {
    std::fprintf(stderr, "udp_floor: cannot bind loopback sockets\n");
    return 1;
  }
  if (gso && (!tx->gso() || !rx->gro())) {
    std::fprintf(stderr, "udp_floor: kernel lacks UDP GSO/GRO; use --no-gso\n");
    return 1;
  }
  timeval tv{0, 100000};
  setsockopt(rx->fd(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

  uint8_t key[16], hp[16], iv[12];
  RAND_bytes(key, sizeof key);
  RAND_bytes(hp, sizeof hp);
  RAND_bytes(iv, sizeof iv);
  Keys send_keys, recv_keys;  // each side its own context, as two endpoints would
  init_keys(send_keys, key, hp, iv);
  init_keys(recv_keys, key, hp, iv);

  Counts sr, rr;
  Time start = monotonic_now();
  Time end = start + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(duration));
  Address to = rx->local_address();
  std::thread rt([&] { receiver(recv_keys, rx->fd(), gso, end, rr); });
  std::thread st([&] { sender(send_keys, tx->fd(), to, gso, end, sr); });
  st.join();
  rt.join();
  double secs = std::chrono::duration<double>(end - start).count();
  double gbps = static_cast<double>(rr.opened) * kPlain * 8 / secs / 1e9;
  if (json) {
    std::printf("{\"floor_gbps\": %.3f, \"gso\": %s}\n", gbps, gso ? "true" : "false");
  } else {
    double sent = static_cast<double>(sr.sent);
    std::printf("udp_floor (%s): %.2f Gbit/s goodput (%.2f Gbit/s UDP payload), %.0f kpkt/s; "
                "sent %llu, opened %llu (%.1f%% lost), auth failures %llu\n",
                gso ? "GSO/GRO" : "no GSO", gbps, gbps * kPacket / kPlain,
                static_cast<double>(rr.opened) / secs / 1e3,
                static_cast<unsigned long long>(sr.sent), static_cast<unsigned long long>(rr.opened),
                sent > 0 ? 100.0 * (sent - static_cast<double>(rr.opened)) / sent : 0.0,
                static_cast<unsigned long long>(rr.failed));
  }
  EVP_AEAD_CTX_cleanup(&send_keys.aead);
  EVP_AEAD_CTX_cleanup(&recv_keys.aead);
  return rr.failed == 0 ? 0 : 1;
}
