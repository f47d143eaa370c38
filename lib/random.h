// Injected randomness. The protocol core only sees this interface; BoringSSL's
// RAND_bytes is the default source, a seeded generator makes tests repeatable.
#pragma once
#include <cstdint>
#include <span>

namespace wt {

class Random {
 public:
  virtual ~Random() = default;
  virtual void fill(std::span<uint8_t> out) = 0;
  uint64_t u64() {
    uint8_t b[8];
    fill(b);
    uint64_t v = 0;
    for (uint8_t x : b) v = (v << 8) | x;
    return v;
  }
  // Uniform in [0, n), n > 0.
  uint64_t uniform(uint64_t n) { return n ? u64() % n : 0; }
  // True with probability p.
  bool chance(double p) { return static_cast<double>(u64() >> 11) * 0x1.0p-53 < p; }
};

// Cryptographically secure (BoringSSL RAND_bytes).
class SystemRandom final : public Random {
 public:
  void fill(std::span<uint8_t> out) override;
  static SystemRandom& instance();
};

// Deterministic xoshiro256** seeded by splitmix64. Not for keys in production.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed);
  void fill(std::span<uint8_t> out) override;
  uint64_t next();

 private:
  uint64_t s_[4];
};

}  // namespace wt
