// Packet hot path cost per 1200-byte 1-RTT packet, against floors measured in
// the same run: BoringSSL AES-128-GCM seal/open alone versus our protect
// (header encoding + seal + header protection) and unprotect (header
// protection removal + packet number decoding + open); plus the STREAM and
// ACK frame codecs.
//
//   hotpath [--json] [--reps N] [--batches N]
//
// Method: each repetition measures every metric over the same number of
// batches, and a floor and the code compared with it alternate batch by
// batch, so both see the same noise. Each batch times kBatch packets that
// fit in L1 together; buffers an operation consumes (open decrypts in place)
// are restored between batches, outside the timed region. A repetition's
// value for a metric is its median batch (robust to preemption on a loaded
// machine) divided by kBatch; the reported metric is the median over
// repetitions, and the ratios are the quotients of those medians.
#include <openssl/aead.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "lib/bytes.h"
#include "quic/frame.h"
#include "quic/packet_cipher.h"
#include "quic/packet_header.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"

using namespace wt;
using namespace wt::quic;

namespace {

constexpr size_t kPacketSize = 1200;
constexpr size_t kDcidLen = 8;
constexpr size_t kPnLen = 2;
constexpr size_t kHeaderSize = 1 + kDcidLen + kPnLen;  // short header, RFC 9000 §17.3.1
constexpr size_t kPayloadSize = kPacketSize - kHeaderSize - kAeadTagSize;  // 1173
constexpr size_t kBatch = 32;  // 32 x 1200 bytes stays in L1d
constexpr double kTargetRatio = 1.15;

using Clock = std::chrono::steady_clock;

// Keeps the compiler from discarding a computed value.
template <class T>
inline void keep(const T& v) {
  asm volatile("" : : "r,m"(v) : "memory");
}
inline void clobber() { asm volatile("" : : : "memory"); }

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "hotpath: %s\n", what);
  std::exit(1);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Fixture {
  PacketCipher cipher;
  const EVP_AEAD_CTX* ctx = nullptr;
  std::array<uint8_t, kDcidLen> dcid{};
  std::array<uint8_t, kAeadIvSize> iv{};
  uint64_t pn = 1'000'000;  // grows across the run; 2-byte truncation is fine for timing

  // Working packets and, for the open paths, pristine copies to restore.
  std::vector<uint8_t> work = std::vector<uint8_t>(kBatch * kPacketSize);
  std::vector<uint8_t> sealed = std::vector<uint8_t>(kBatch * kPacketSize);     // floor input
  std::vector<uint8_t> protected_ = std::vector<uint8_t>(kBatch * kPacketSize);  // ours
  uint64_t batch_pn = 0;  // pn of the first packet in sealed/protected_

  // Frames.
  std::vector<uint8_t> stream_src = std::vector<uint8_t>(kPayloadSize);
  std::vector<uint8_t> stream_wire = std::vector<uint8_t>(kPayloadSize);
  std::vector<uint8_t> ack_wire = std::vector<uint8_t>(64);
  size_t ack_wire_size = 0;
  std::array<AckRange, 4> ranges{{{9000, 9040}, {8950, 8990}, {8800, 8900}, {8000, 8700}}};
  EcnCounts ecn{.ect0 = 8700, .ect1 = 0, .ce = 12};

  uint8_t* pkt(std::vector<uint8_t>& v, size_t i) { return v.data() + i * kPacketSize; }

  Fixture() {
    std::array<uint8_t, 16> key{}, hp{};
    for (size_t i = 0; i < 16; ++i) {
      key[i] = static_cast<uint8_t>(0x11 * i + 3);
      hp[i] = static_cast<uint8_t>(0x07 * i + 9);
    }
    for (size_t i = 0; i < iv.size(); ++i) iv[i] = static_cast<uint8_t>(0xc0 + i);
    for (size_t i = 0; i < dcid.size(); ++i) dcid[i] = static_cast<uint8_t>(0x50 + i);
    auto c = PacketCipher::create(CipherSuite::aes_128_gcm, key, iv, hp);
    if (!c.ok()) die("PacketCipher::create failed");
    cipher = std::move(*c);
    ctx = cipher.aead_context();
    if (!ctx) die("no AEAD context");
    for (size_t i = 0; i < work.size(); ++i) work[i] = static_cast<uint8_t>(i * 131 + 7);
    for (size_t i = 0; i < stream_src.size(); ++i) stream_src[i] = static_cast<uint8_t>(i);

    Writer w{MutBytes{ack_wire}};
    if (!encode_ack(w, ranges, 1234, &ecn)) die("encode_ack failed");
    ack_wire_size = w.written();
    Writer sw{MutBytes{stream_wire}};
    encode_stream(sw, 0);
  }

  // ---- floors: raw BoringSSL on a pre-initialised context -----------------
  // RFC 9001 §5.3 nonce, computed inline so the floor calls nothing of ours.
  void raw_nonce(uint64_t n, uint8_t nonce[kAeadIvSize]) const {
    std::memcpy(nonce, iv.data(), kAeadIvSize);
    for (size_t i = 0; i < 8; ++i) nonce[kAeadIvSize - 1 - i] ^= static_cast<uint8_t>(n >> (8 * i));
  }
  void seal_floor(uint64_t base) {
    for (size_t i = 0; i < kBatch; ++i) {
      uint8_t* p = pkt(work, i);
      uint8_t nonce[kAeadIvSize];
      raw_nonce(base + i, nonce);
      size_t out_len = 0;
      if (!EVP_AEAD_CTX_seal(ctx, p + kHeaderSize, &out_len, kPayloadSize + kAeadTagSize, nonce,
                             kAeadIvSize, p + kHeaderSize, kPayloadSize, p, kHeaderSize)) {
        die("EVP_AEAD_CTX_seal failed");
      }
    }
    clobber();
  }
  void open_floor() {
    for (size_t i = 0; i < kBatch; ++i) {
      uint8_t* p = pkt(work, i);
      uint8_t nonce[kAeadIvSize];
      raw_nonce(batch_pn + i, nonce);
      size_t out_len = 0;
      if (!EVP_AEAD_CTX_open(ctx, p + kHeaderSize, &out_len, kPayloadSize, nonce, kAeadIvSize,
                             p + kHeaderSize, kPayloadSize + kAeadTagSize, p, kHeaderSize)) {
        die("EVP_AEAD_CTX_open failed");
      }
    }
    clobber();
  }

  // ---- ours ----------------------------------------------------------------
  void protect(uint64_t base) {
    for (size_t i = 0; i < kBatch; ++i) {
      MutBytes p{pkt(work, i), kPacketSize};
      ShortHeaderSpec spec;
      spec.dcid = dcid;
      spec.pn = base + i;
      spec.pn_len = kPnLen;
      auto l = encode_short_header(p, spec);
      if (!l.ok() || !protect_packet(p, l->pn_offset, base + i, cipher).ok()) die("protect failed");
    }
    clobber();
  }
  void unprotect() {
    for (size_t i = 0; i < kBatch; ++i) {
      MutBytes p{pkt(work, i), kPacketSize};
      auto u = unprotect_packet(p, 1 + kDcidLen, batch_pn + i - 1, cipher);
      if (!u.ok()) die("unprotect_packet failed");
      keep(u->pn);
    }
    clobber();
  }

  // Fresh inputs for the open paths: kBatch packets sealed by each side.
  void prepare_open_inputs() {
    batch_pn = pn;
    pn += kBatch;
    protect(batch_pn);
    std::memcpy(protected_.data(), work.data(), work.size());
    for (size_t i = 0; i < kBatch; ++i) {  // plain header, then seal only
      ShortHeaderSpec spec;
      spec.dcid = dcid;
      spec.pn = batch_pn + i;
      spec.pn_len = kPnLen;
      if (!encode_short_header(MutBytes{pkt(work, i), kPacketSize}, spec).ok()) die("header");
    }
    seal_floor(batch_pn);
    std::memcpy(sealed.data(), work.data(), work.size());
  }

  // ---- frames ----------------------------------------------------------------
  // A STREAM frame filling the payload: header, then the data copied in.
  void encode_stream(Writer& w, uint64_t offset) {
    const size_t n = max_stream_data_fitting(w.remaining(), 4, offset, false);
    if (!write_stream_frame_header(w, 4, offset, n, false, false)) die("stream header");
    std::memcpy(w.pos(), stream_src.data(), n);
    w.skip(n);
  }
  void stream_encode(uint64_t base) {
    for (size_t i = 0; i < kBatch; ++i) {
      Writer w{MutBytes{pkt(work, i) + kHeaderSize, kPayloadSize}};
      encode_stream(w, (base + i) * kPayloadSize);
      keep(w.written());
    }
    clobber();
  }
  void stream_decode() {
    for (size_t i = 0; i < kBatch; ++i) {
      Reader r{Bytes{stream_wire}};
      auto f = decode_frame(r);
      const auto* s = f.ok() ? std::get_if<StreamFrame>(&*f) : nullptr;
      if (!s) die("stream decode failed");
      keep(s->data.data());
      keep(s->offset);
    }
  }
  void ack_encode() {
    for (size_t i = 0; i < kBatch; ++i) {
      Writer w{MutBytes{pkt(work, i) + kHeaderSize, 64}};
      if (!encode_ack(w, ranges, 1234, &ecn)) die("encode_ack failed");
      keep(w.written());
    }
    clobber();
  }
  // decode_frame leaves the Gap/Length pairs encoded; walking them is part of
  // decoding an ACK, so it is timed too.
  void ack_decode() {
    for (size_t i = 0; i < kBatch; ++i) {
      Reader r{Bytes{ack_wire.data(), ack_wire_size}};
      auto f = decode_frame(r);
      const auto* a = f.ok() ? std::get_if<AckFrame>(&*f) : nullptr;
      if (!a) die("ack decode failed");
      uint64_t sum = 0;
      for (const AckRange& range : *a) sum += range.smallest;
      keep(sum);
      keep(a->ecn.ce);
    }
  }
};

template <class F>
double time_ns(F&& f) {
  const auto t0 = Clock::now();
  f();
  const auto t1 = Clock::now();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
}

enum Metric {
  kSeal, kProtect, kOpen, kUnprotect, kStreamEnc, kStreamDec, kAckEnc, kAckDec, kNumMetrics
};
constexpr const char* kNames[kNumMetrics] = {"aead_seal_ns",     "protect_ns",
                                             "aead_open_ns",     "unprotect_ns",
                                             "stream_encode_ns", "stream_decode_ns",
                                             "ack_encode_ns",    "ack_decode_ns"};

struct Options {
  bool json = false;
  int reps = 31;
  int batches = 200;  // per metric per repetition
};

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") {
      o.json = true;
    } else if (a == "--reps" && i + 1 < argc) {
      o.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--batches" && i + 1 < argc) {
      o.batches = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: hotpath [--json] [--reps N] [--batches N]\n");
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);
  Fixture fx;
  std::array<std::vector<double>, kNumMetrics> samples;

  // One untimed warm-up repetition, then the measured ones.
  for (int rep = -1; rep < opt.reps; ++rep) {
    std::array<std::vector<double>, kNumMetrics> ns;
    for (auto& v : ns) v.assign(static_cast<size_t>(opt.batches), 0.0);
    for (size_t b = 0; b < static_cast<size_t>(opt.batches); ++b) {
      // Seal vs protect.
      const uint64_t base = fx.pn;
      fx.pn += kBatch;
      ns[kSeal][b] = time_ns([&] { fx.seal_floor(base); });
      ns[kProtect][b] = time_ns([&] { fx.protect(base); });
      // Open vs unprotect, each on its own freshly protected packets.
      if (b % 8 == 0) fx.prepare_open_inputs();  // fresh packet numbers now and then
      std::memcpy(fx.work.data(), fx.sealed.data(), fx.work.size());
      ns[kOpen][b] = time_ns([&] { fx.open_floor(); });
      std::memcpy(fx.work.data(), fx.protected_.data(), fx.work.size());
      ns[kUnprotect][b] = time_ns([&] { fx.unprotect(); });
      // Frames.
      ns[kStreamEnc][b] = time_ns([&] { fx.stream_encode(base); });
      ns[kStreamDec][b] = time_ns([&] { fx.stream_decode(); });
      ns[kAckEnc][b] = time_ns([&] { fx.ack_encode(); });
      ns[kAckDec][b] = time_ns([&] { fx.ack_decode(); });
    }
    if (rep < 0) continue;
    // The median batch: a batch that a context switch or interrupt landed in
    // (common on a shared machine) does not move it.
    for (int m = 0; m < kNumMetrics; ++m) samples[m].push_back(median(ns[m]) / kBatch);
  }

  std::array<double, kNumMetrics> med{};
  for (int m = 0; m < kNumMetrics; ++m) med[m] = median(samples[m]);
  const double protect_ratio = med[kProtect] / med[kSeal];
  const double unprotect_ratio = med[kUnprotect] / med[kOpen];

  if (opt.json) {
    std::printf("{");
    for (int m = 0; m < kNumMetrics; ++m) std::printf("\"%s\": %.1f, ", kNames[m], med[m]);
    std::printf(
        "\"protect_ratio\": %.3f, \"unprotect_ratio\": %.3f, \"target_ratio\": %.2f, "
        "\"packet_bytes\": %zu, \"payload_bytes\": %zu, \"cipher\": \"%s\", \"reps\": %d, "
        "\"batches_per_rep\": %d, \"packets_per_batch\": %zu}\n",
        protect_ratio, unprotect_ratio, kTargetRatio, kPacketSize, kPayloadSize,
        cipher_suite_name(fx.cipher.suite()), opt.reps, opt.batches, kBatch);
    return 0;
  }
  std::printf("hotpath: %zu-byte 1-RTT packet (%zu-byte payload), %s\n", kPacketSize,
              kPayloadSize, cipher_suite_name(fx.cipher.suite()));
  std::printf("median of %d repetitions (each the median of %d batches of %zu packets); "
              "ns per packet\n\n",
              opt.reps, opt.batches, kBatch);
  auto row = [&](const char* what, Metric m) {
    const auto [lo, hi] = std::minmax_element(samples[m].begin(), samples[m].end());
    std::printf("  %-46s %8.1f   (min %.1f, max %.1f)\n", what, med[m], *lo, *hi);
  };
  row("EVP_AEAD_CTX_seal (floor)", kSeal);
  row("protect: encode_short_header + protect_packet", kProtect);
  row("EVP_AEAD_CTX_open (floor)", kOpen);
  row("unprotect_packet", kUnprotect);
  row("STREAM encode (header + copy)", kStreamEnc);
  row("STREAM decode_frame", kStreamDec);
  row("ACK encode_ack (4 ranges + ECN)", kAckEnc);
  row("ACK decode_frame + walk ranges", kAckDec);
  auto verdict = [](double r) { return r <= kTargetRatio ? "ok" : "MISSES TARGET"; };
  std::printf("\n  protect / seal     %.3f  (target <= %.2f)  %s\n", protect_ratio, kTargetRatio,
              verdict(protect_ratio));
  std::printf("  unprotect / open   %.3f  (target <= %.2f)  %s\n", unprotect_ratio, kTargetRatio,
              verdict(unprotect_ratio));
  return 0;
}
