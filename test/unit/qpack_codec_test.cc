// QPACK encoder and decoder together (RFC 9204 §2): round trips with and
// without the dynamic table, blocked streams, acknowledgments and eviction
// safety, limits, error codes of §6, and instructions split at every byte.
#include <catch2/catch.hpp>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"
#include "h3/qpack_error.h"
#include "h3/qpack_instructions.h"
#include "lib/bytes.h"
#include "lib/hex.h"
#include "lib/random.h"

namespace wt::h3 {
// For Catch's messages.
inline std::ostream& operator<<(std::ostream& os, const HeaderField& f) {
  return os << f.name << ": " << f.value << (f.never_index ? " (never indexed)" : "");
}
}  // namespace wt::h3

using namespace wt;
using namespace wt::h3;

namespace {

Bytes B(const std::vector<uint8_t>& v) { return Bytes{v}; }

HeaderList request(const std::string& path = "/index.html") {
  return {{":method", "GET"},
          {":scheme", "https"},
          {":authority", "www.example.com"},
          {":path", path},
          {"user-agent", "Mozilla/5.0 (X11; Linux x86_64) wtcpp/0.1"},
          {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
          {"accept-encoding", "gzip, deflate, br"},
          {"accept-language", "en-US,en;q=0.5"},
          {"cookie", "session=8f14e45fceea167a5a36dedd4bea2543"},
          {"x-custom-trace", "on"}};
}

HeaderList response() {
  return {{":status", "200"},
          {"content-type", "text/html; charset=utf-8"},
          {"content-length", "1234"},
          {"date", "Mon, 21 Oct 2013 20:13:21 GMT"},
          {"server", "wtcpp"},
          {"cache-control", "private"},
          {"set-cookie", "id=a3fWa; Max-Age=2592000"},
          {"vary", "accept-encoding"}};
}

HeaderList headers_of(const Result<QpackDecoder::Decoded>& r) {
  REQUIRE(r.ok());
  REQUIRE(std::holds_alternative<HeaderList>(*r));
  return std::get<HeaderList>(*r);
}

bool blocked(const Result<QpackDecoder::Decoded>& r) {
  REQUIRE(r.ok());
  return std::holds_alternative<QpackDecoder::Blocked>(*r);
}

bool is_error(const Error& e, uint64_t code) { return e.application && e.code == code; }

// An encoder and the peer's decoder with the streams between them held back
// until delivered.
struct Link {
  QpackEncoder enc;
  QpackDecoder dec;
  std::vector<uint8_t> enc_stream;  // encoder -> decoder, undelivered

  Link(uint64_t capacity, uint64_t blocked, QpackEncoder::Config cfg = {})
      : enc(cfg), dec(capacity, blocked) {
    enc.set_peer_settings(capacity, blocked);
  }
  std::vector<uint8_t> encode(uint64_t stream, const HeaderList& h) {
    auto r = enc.encode(stream, h);
    REQUIRE(r.ok());
    auto more = enc.take_encoder_stream_bytes();
    enc_stream.insert(enc_stream.end(), more.begin(), more.end());
    return std::move(*r);
  }
  void deliver_encoder_stream() {
    REQUIRE(dec.on_encoder_stream_bytes(B(enc_stream)).ok());
    enc_stream.clear();
  }
  void deliver_decoder_stream() {
    auto d = dec.take_decoder_stream_bytes();
    REQUIRE(enc.on_decoder_stream_bytes(B(d)).ok());
  }
  // Encode, deliver everything in order, decode, acknowledge.
  HeaderList round_trip(uint64_t stream, const HeaderList& h, size_t* size = nullptr) {
    auto block = encode(stream, h);
    if (size) *size = block.size() + enc_stream.size();
    deliver_encoder_stream();
    HeaderList out = headers_of(dec.decode(stream, B(block)));
    deliver_decoder_stream();
    return out;
  }
};

}  // namespace

TEST_CASE("round trip with the static table only", "[qpack]") {
  QpackEncoder enc;  // no SETTINGS yet: static table only
  QpackDecoder dec(0, 0);
  HeaderList odd = {{"", ""}, {"x-empty", ""}, {"x-bin", std::string("\0\x01\xff", 3)},
                    {":status", "418"}, {"authorization", "Bearer abc"}};
  for (const HeaderList& h : {request(), response(), odd, HeaderList{}}) {
    auto block = enc.encode(0, h);
    REQUIRE(block.ok());
    CHECK_FALSE(enc.has_encoder_stream_bytes());
    CHECK((*block)[0] == 0);  // Required Insert Count 0
    const HeaderList& out = headers_of(dec.decode(0, B(*block)));
    CHECK(out == h);
    for (const HeaderField& f : out) {
      const bool sensitive = f.name == "cookie" || f.name == "set-cookie" || f.name == "authorization";
      CHECK(f.never_index == sensitive);
    }
  }
  CHECK_FALSE(dec.has_decoder_stream_bytes());
  // Fully static fields are one byte each.
  auto block = enc.encode(0, HeaderList{{":method", "GET"}, {":scheme", "https"}, {":path", "/"}});
  CHECK(to_hex(*block) == "0000d1d7c1");
}

TEST_CASE("round trip with the dynamic table: repeated sections shrink", "[qpack]") {
  Link link(4096, 16);
  size_t first = 0, second = 0;
  CHECK(link.round_trip(0, request("/a"), &first) == request("/a"));
  CHECK(link.round_trip(4, request("/b"), &second) == request("/b"));
  CHECK(second * 2 < first);
  size_t r1 = 0, r2 = 0;
  CHECK(link.round_trip(8, response(), &r1) == response());
  CHECK(link.round_trip(12, response(), &r2) == response());
  CHECK(r2 < r1);
  // Sensitive and per-message fields stay out of the table.
  const auto& t = link.enc.table();
  for (uint64_t a = t.dropped(); a < t.insert_count(); ++a) {
    CHECK(t.at(a).name != "cookie");
    CHECK(t.at(a).name != "set-cookie");
    CHECK(t.at(a).name != ":path");
    CHECK(t.at(a).name != "date");
  }
  CHECK(link.enc.outstanding_sections() == 0);
  CHECK(link.enc.known_received_count() == t.insert_count());
  // The decoder's table mirrors the encoder's.
  CHECK(link.dec.table().insert_count() == t.insert_count());
  CHECK(link.dec.table().size() == t.size());
}

TEST_CASE("a never-indexed field is forwarded as a literal with the N bit", "[qpack]") {
  Link link(4096, 16);
  HeaderList h = {{"x-secret", "hunter2", true}, {"x-secret", "hunter2", true}};
  auto out = link.round_trip(0, h);
  CHECK(out == h);
  for (const auto& f : out) CHECK(f.never_index);
  CHECK(link.enc.table().count() == 0);
}

TEST_CASE("blocked stream resumes when the inserts arrive", "[qpack]") {
  Link link(4096, 4);
  auto block = link.encode(0, request());
  CHECK(blocked(link.dec.decode(0, B(block))));
  CHECK(link.dec.blocked_streams() == 1);
  // Bytes of the encoder stream in two pieces: the first alone is not enough.
  const size_t half = link.enc_stream.size() / 2;
  REQUIRE(link.dec.on_encoder_stream_bytes(Bytes{link.enc_stream.data(), half}).ok());
  CHECK_FALSE(link.dec.has_unblocked());
  REQUIRE(link.dec.on_encoder_stream_bytes(
                     Bytes{link.enc_stream.data() + half, link.enc_stream.size() - half})
              .ok());
  auto un = link.dec.take_unblocked();
  REQUIRE(un.size() == 1);
  CHECK(un[0].stream_id == 0);
  REQUIRE(un[0].headers.ok());
  CHECK(*un[0].headers == request());
  CHECK(link.dec.blocked_streams() == 0);
  link.deliver_decoder_stream();
  CHECK(link.enc.outstanding_sections() == 0);
  CHECK(link.enc.known_received_count() == link.enc.table().insert_count());
}

TEST_CASE("sections of a blocked stream are delivered in order", "[qpack]") {
  Link link(4096, 4);
  auto b1 = link.encode(0, HeaderList{{"x-one", "1"}});
  auto b2 = link.encode(0, HeaderList{{":status", "200"}});  // static only
  CHECK(blocked(link.dec.decode(0, B(b1))));
  CHECK(blocked(link.dec.decode(0, B(b2))));  // queued behind the first
  CHECK(link.dec.blocked_streams() == 1);
  link.deliver_encoder_stream();
  auto un = link.dec.take_unblocked();
  REQUIRE(un.size() == 2);
  CHECK(*un[0].headers == HeaderList{{"x-one", "1"}});
  CHECK(*un[1].headers == HeaderList{{":status", "200"}});
}

TEST_CASE("more blocked streams than SETTINGS_QPACK_BLOCKED_STREAMS is 0x200", "[qpack]") {
  // The encoder believes the peer allows 2; the decoder allows 1.
  QpackEncoder enc;
  enc.set_peer_settings(4096, 2);
  QpackDecoder dec(4096, 1);
  auto b1 = *enc.encode(0, HeaderList{{"x-a", "1"}});
  auto b2 = *enc.encode(4, HeaderList{{"x-b", "2"}});
  CHECK(enc.blocking_streams() == 2);
  CHECK(blocked(dec.decode(0, B(b1))));
  auto r = dec.decode(4, B(b2));
  REQUIRE_FALSE(r.ok());
  CHECK(is_error(r.error(), qpack_error::decompression_failed));
}

TEST_CASE("encoder keeps within the peer's blocked-stream budget", "[qpack]") {
  SECTION("budget 0: only acknowledged entries are referenced") {
    Link link(4096, 0);
    for (uint64_t s = 0; s < 20; s += 4) {
      auto block = link.encode(s, request());
      // Decoded before the encoder stream arrives: never blocked.
      CHECK(headers_of(link.dec.decode(s, B(block))) == request());
      link.deliver_encoder_stream();
      link.deliver_decoder_stream();
    }
    // Once acknowledged, entries are used: the last request is compact.
    auto block = link.encode(100, request());
    CHECK(block.size() < 80);
  }
  SECTION("budget 1: a second stream does not risk blocking") {
    Link link(4096, 1);
    auto b1 = link.encode(0, request());
    auto b2 = link.encode(4, request());
    CHECK(link.enc.blocking_streams() == 1);
    CHECK(blocked(link.dec.decode(0, B(b1))));
    CHECK(headers_of(link.dec.decode(4, B(b2))) == request());
    // The blocked stream itself may keep referencing unacknowledged entries.
    auto b3 = link.encode(0, HeaderList{{"x-custom-trace", "on"}});
    CHECK(link.enc.blocking_streams() == 1);
    link.deliver_encoder_stream();
    CHECK(link.dec.take_unblocked().size() == 1);
    CHECK(headers_of(link.dec.decode(0, B(b3))) == HeaderList{{"x-custom-trace", "on"}});
  }
}

TEST_CASE("eviction never drops an entry an unacknowledged section references", "[qpack]") {
  Link link(256, 100);
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> sections;
  for (uint64_t i = 0; i < 12; ++i) {
    HeaderList h = {{"x-field", "value-" + std::to_string(i)}};
    sections.push_back({4 * i, link.encode(4 * i, h)});
  }
  // Nothing acknowledged: nothing may be evicted, so the table stopped
  // growing once full and later fields went out as literals.
  CHECK(link.enc.table().dropped() == 0);
  CHECK(link.enc.table().insert_count() < 12);
  link.deliver_encoder_stream();
  for (size_t i = 0; i < sections.size(); ++i) {
    HeaderList h = {{"x-field", "value-" + std::to_string(i)}};
    CHECK(headers_of(link.dec.decode(sections[i].first, B(sections[i].second))) == h);
  }
  // Insert counts acknowledged, but sections outstanding: still pinned.
  const uint64_t inserted = link.enc.table().insert_count();
  std::vector<uint8_t> ici;
  qpack_put_int(ici, 0x00, 6, inserted);
  REQUIRE(link.enc.on_decoder_stream_bytes(B(ici)).ok());
  link.encode(1000, HeaderList{{"x-other", "zzz"}});
  CHECK(link.enc.table().dropped() == 0);
  // Acknowledging the sections frees the entries for eviction.
  (void)link.dec.take_decoder_stream_bytes();
  for (const auto& [stream, block] : sections) {
    std::vector<uint8_t> ack;
    qpack_put_int(ack, 0x80, 7, stream);
    REQUIRE(link.enc.on_decoder_stream_bytes(B(ack)).ok());
  }
  std::vector<uint8_t> cancel;
  qpack_put_int(cancel, 0x40, 6, 1000);
  REQUIRE(link.enc.on_decoder_stream_bytes(B(cancel)).ok());
  REQUIRE(link.enc.outstanding_sections() == 0);
  link.encode(1004, HeaderList{{"x-new", "fresh"}});
  CHECK(link.enc.table().dropped() > 0);
}

TEST_CASE("random interleavings of sections, streams and acknowledgments", "[qpack]") {
  size_t total_blocked = 0, total_evicted = 0, total_dynamic = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SeededRandom rng(seed);
    const uint64_t capacity = 128 + rng.uniform(600);
    const uint64_t blocked_limit = rng.uniform(4);
    Link link(capacity, blocked_limit);
    std::map<uint64_t, HeaderList> expected;   // by stream
    std::vector<std::pair<uint64_t, std::vector<uint8_t>>> in_flight;
    std::vector<uint8_t> dec_stream;
    uint64_t next_stream = 0;
    size_t decoded = 0;
    const auto random_headers = [&] {
      HeaderList h = {{":method", "GET"}, {":authority", "host" + std::to_string(rng.uniform(3))}};
      const size_t n = rng.uniform(6);
      for (size_t i = 0; i < n; ++i) {
        h.push_back({"x-h" + std::to_string(rng.uniform(8)), std::string(rng.uniform(40), 'v')});
      }
      return h;
    };
    const auto check_unblocked = [&] {
      for (auto& u : link.dec.take_unblocked()) {
        REQUIRE(u.headers.ok());
        CHECK(*u.headers == expected[u.stream_id]);
        ++decoded;
      }
    };
    for (int step = 0; step < 400; ++step) {
      switch (rng.uniform(4)) {
        case 0: {
          const uint64_t s = next_stream;
          next_stream += 4;
          expected[s] = random_headers();
          in_flight.push_back({s, link.encode(s, expected[s])});
          break;
        }
        case 1: {  // a random-sized piece of the encoder stream
          const size_t n = std::min<size_t>(link.enc_stream.size(), rng.uniform(40));
          REQUIRE(link.dec.on_encoder_stream_bytes(Bytes{link.enc_stream.data(), n}).ok());
          link.enc_stream.erase(link.enc_stream.begin(), link.enc_stream.begin() + static_cast<long>(n));
          check_unblocked();
          break;
        }
        case 2: {  // a random section arrives
          if (in_flight.empty()) break;
          const size_t i = rng.uniform(in_flight.size());
          auto [s, block] = in_flight[i];
          in_flight.erase(in_flight.begin() + static_cast<long>(i));
          auto r = link.dec.decode(s, B(block));
          REQUIRE(r.ok());
          if (const auto* h = std::get_if<HeaderList>(&*r)) {
            CHECK(*h == expected[s]);
            ++decoded;
          } else {
            ++total_blocked;
          }
          if (block[0] != 0) ++total_dynamic;
          break;
        }
        case 3: {  // a random-sized piece of the decoder stream
          auto more = link.dec.take_decoder_stream_bytes();
          dec_stream.insert(dec_stream.end(), more.begin(), more.end());
          const size_t n = std::min<size_t>(dec_stream.size(), rng.uniform(6));
          REQUIRE(link.enc.on_decoder_stream_bytes(Bytes{dec_stream.data(), n}).ok());
          dec_stream.erase(dec_stream.begin(), dec_stream.begin() + static_cast<long>(n));
          break;
        }
      }
      REQUIRE(link.enc.blocking_streams() <= blocked_limit);
    }
    link.deliver_encoder_stream();
    check_unblocked();
    for (auto& [s, block] : in_flight) {
      CHECK(headers_of(link.dec.decode(s, B(block))) == expected[s]);
      ++decoded;
    }
    CHECK(decoded == expected.size());
    auto more = link.dec.take_decoder_stream_bytes();
    dec_stream.insert(dec_stream.end(), more.begin(), more.end());
    REQUIRE(link.enc.on_decoder_stream_bytes(B(dec_stream)).ok());
    CHECK(link.enc.outstanding_sections() == 0);
    total_evicted += link.enc.table().dropped();
  }
  // The runs did exercise blocking, eviction and dynamic references.
  CHECK(total_blocked > 20);
  CHECK(total_evicted > 100);
  CHECK(total_dynamic > 500);
}

TEST_CASE("entries close to eviction are duplicated, not referenced", "[qpack]") {
  Link link(300, 8);
  link.round_trip(0, HeaderList{{"x-hot", "keep-me"}});  // abs 0: 44 bytes
  for (int i = 0; i < 5; ++i) {
    link.round_trip(4 + 4 * static_cast<uint64_t>(i), HeaderList{{"x-fill" + std::to_string(i), "123456"}});
  }
  REQUIRE(link.enc.table().size() * 4 > 300 * 3);
  const uint64_t before = link.enc.table().insert_count();
  auto block = link.encode(100, HeaderList{{"x-hot", "keep-me"}});
  REQUIRE(link.enc_stream.size() == 1);
  CHECK((link.enc_stream[0] & 0xe0) == 0x00);  // Duplicate (§4.3.4)
  CHECK(link.enc.table().insert_count() == before + 1);
  CHECK(link.enc.table().at(before).value == "keep-me");
  link.deliver_encoder_stream();
  CHECK(headers_of(link.dec.decode(100, B(block))) == HeaderList{{"x-hot", "keep-me"}});
}

TEST_CASE("Required Insert Count wraps modulo 2 * MaxEntries", "[qpack]") {
  SECTION("RFC 9204 §4.5.1.1 example: 100-byte table, 10 inserts, encoded 4 is 9") {
    QpackDecoder dec(100, 0);
    std::vector<uint8_t> ins = {0x3f, 0x45};  // Set Dynamic Table Capacity = 100
    for (int i = 0; i < 10; ++i) {
      ins.push_back(0x40);  // Insert With Literal Name: "" = ""
      ins.push_back(0x00);
    }
    REQUIRE(dec.on_encoder_stream_bytes(B(ins)).ok());
    REQUIRE(dec.table().insert_count() == 10);
    // RIC 9 (encoded 4), Base 9, relative index 0 = absolute 8.
    CHECK(headers_of(dec.decode(0, B(hex("040080")))) == HeaderList{{"", ""}});
  }
  SECTION("long-lived connection with a tiny table") {
    Link link(100, 2);  // MaxEntries 3, FullRange 6
    for (int i = 0; i < 60; ++i) {
      HeaderList h = {{"x-k", std::to_string(i % 7)}};
      CHECK(link.round_trip(4 * static_cast<uint64_t>(i), h) == h);
    }
    CHECK(link.enc.table().insert_count() > 12);
  }
}

TEST_CASE("field section size limits (SETTINGS_MAX_FIELD_SECTION_SIZE)", "[qpack]") {
  const HeaderList h = {{"x-aaaa", std::string(40, 'a')}, {"x-bbbb", std::string(40, 'b')}};
  // 2 * (6 + 40 + 32) = 156.
  SECTION("decoder") {
    QpackEncoder enc;
    enc.set_peer_settings(4096, 4);
    QpackDecoder dec(4096, 4, 155);
    auto block = *enc.encode(0, h);
    REQUIRE(dec.on_encoder_stream_bytes(B(enc.take_encoder_stream_bytes())).ok());
    auto r = dec.decode(0, B(block));
    REQUIRE_FALSE(r.ok());
    CHECK(is_error(r.error(), qpack_error::field_section_too_large));
    // A stream error: the section was still acknowledged, state stays in sync.
    REQUIRE(enc.on_decoder_stream_bytes(B(dec.take_decoder_stream_bytes())).ok());
    CHECK(enc.outstanding_sections() == 0);
    QpackDecoder roomy(4096, 4, 156);
    REQUIRE(roomy.on_encoder_stream_bytes(B(hex("3fe11f"))).ok());  // capacity 4096
    REQUIRE(roomy.on_encoder_stream_bytes(B(enc.take_encoder_stream_bytes())).ok());
  }
  SECTION("encoder") {
    QpackEncoder enc;
    enc.set_peer_settings(0, 0, 155);
    std::vector<uint8_t> out;
    const Status s = enc.encode(0, h, out);
    REQUIRE_FALSE(s.ok());
    CHECK(is_error(s.error(), qpack_error::field_section_too_large));
    CHECK(out.empty());
    enc.set_peer_settings(0, 0, 156);
    CHECK(enc.encode(0, h, out).ok());
  }
}

TEST_CASE("encoder stream errors are QPACK_ENCODER_STREAM_ERROR", "[qpack]") {
  const auto fails = [](uint64_t max_capacity, const char* bytes) {
    QpackDecoder dec(max_capacity, 4);
    const Status s = dec.on_encoder_stream_bytes(B(hex(bytes)));
    INFO(bytes);
    REQUIRE_FALSE(s.ok());
    CHECK(is_error(s.error(), qpack_error::encoder_stream_error));
  };
  fails(100, "3f46");                 // capacity 101 > 100
  fails(0, "21");                     // capacity 1 > 0
  fails(100, "3f45" "4a637573746f6d2d6b6579" "7ff502");  // value of 500 bytes: rejected early
  {
    // custom-key = 59 bytes: 10 + 59 + 32 > 100, once the value has arrived.
    std::vector<uint8_t> ins = hex("3f45" "4a637573746f6d2d6b6579");
    qpack_put_string(ins, 0, 8, std::string(59, 'v'), false);
    QpackDecoder dec(100, 4);
    const Status s = dec.on_encoder_stream_bytes(B(ins));
    REQUIRE_FALSE(s.ok());
    CHECK(is_error(s.error(), qpack_error::encoder_stream_error));
    ins.pop_back();  // 58 bytes fit exactly
    ins[ins.size() - 59] = 58;
    QpackDecoder ok(100, 4);
    CHECK(ok.on_encoder_stream_bytes(B(ins)).ok());
    CHECK(ok.table().size() == 100);
  }
  fails(100, "c1" "00");              // insert before any capacity: 37 > 0
  fails(100, "3f45" "ff24" "00");     // static index 99
  fails(100, "3f45" "80" "00");       // dynamic name reference into an empty table
  fails(100, "3f45" "00");            // duplicate of nothing
  fails(100, "3f45" "4000" "01");     // duplicate of relative index 1 with one entry
  fails(100, "3f45" "c1" "81ff");     // bad Huffman value
  fails(100, "3f45" "c1" "7f8080808080808080808000");  // over-long integer
  // Fine: setting capacity to the maximum, then reducing it to zero.
  QpackDecoder dec(100, 4);
  CHECK(dec.on_encoder_stream_bytes(B(hex("3f45" "4000" "20"))).ok());
  CHECK(dec.table().count() == 0);
}

TEST_CASE("decoder stream errors are QPACK_DECODER_STREAM_ERROR", "[qpack]") {
  const auto fails = [](const char* bytes) {
    QpackEncoder enc;
    enc.set_peer_settings(4096, 4);
    (void)enc.encode(4, HeaderList{{"x-a", "1"}});  // one insert, one section on stream 4
    const Status s = enc.on_decoder_stream_bytes(B(hex(bytes)));
    INFO(bytes);
    REQUIRE_FALSE(s.ok());
    CHECK(is_error(s.error(), qpack_error::decoder_stream_error));
  };
  fails("80");    // Section Acknowledgment for stream 0: nothing outstanding
  fails("8484");  // stream 4 acknowledged twice
  fails("00");    // Insert Count Increment of 0
  fails("02");    // increment beyond the one insert sent
  fails("3f80808080808080808080");  // over-long integer
  QpackEncoder enc;
  enc.set_peer_settings(4096, 4);
  (void)enc.encode(4, HeaderList{{"x-a", "1"}});
  CHECK(enc.on_decoder_stream_bytes(B(hex("4c" "01" "48"))).ok());  // cancel 12, ICI 1, cancel 8
  CHECK(enc.known_received_count() == 1);
}

TEST_CASE("invalid field sections are QPACK_DECOMPRESSION_FAILED", "[qpack]") {
  QpackDecoder dec(220, 4);
  REQUIRE(dec.on_encoder_stream_bytes(
                 B(hex("3fbd01c00f7777772e6578616d706c652e636f6dc10c2f73616d706c652f70617468")))
              .ok());
  const auto fails = [&](const char* bytes) {
    auto r = dec.decode(0, B(hex(bytes)));
    INFO(bytes);
    REQUIRE_FALSE(r.ok());
    CHECK(is_error(r.error(), qpack_error::decompression_failed));
  };
  fails("");             // no prefix
  fails("00");           // no Base
  fails("0000ff24");     // static index 99
  fails("00005f5400");   // literal with static name 99
  fails("000080");       // dynamic reference with Required Insert Count 0
  fails("0d00");         // encoded insert count 13 > 2 * MaxEntries (12)
  fails("038180");       // RIC 2, Base 0: relative index 0 would be absolute -1
  fails("0300" "81" "10");  // RIC 2, Base 2: post-base 0 is absolute 2 >= RIC
  fails("0381" "10");    // RIC 2 but largest reference is absolute 0
  fails("0382" "10");    // negative Base (RIC 2 - 2 - 1)
  fails("0000" "510b2f69");  // truncated value
  fails("0000" "2f");    // literal name, truncated
  fails("0000" "5181ff");  // bad Huffman value
  fails("0000" "ff");    // truncated integer
}

TEST_CASE("every instruction fed one byte at a time", "[qpack]") {
  SECTION("handcrafted encoder stream with every instruction") {
    std::vector<uint8_t> s = hex("3fe11f");                      // capacity 4096
    s.push_back(0xc0);                                            // static name 0, raw value
    qpack_put_string(s, 0, 8, "www.example.com", false);
    qpack_put_string(s, 0x40, 6, std::string(40, 'n'), true);   // literal name, 2-byte length
    qpack_put_string(s, 0, 8, std::string(300, 'v'), false);     // 3-byte length
    s.push_back(0x80);                                            // dynamic name ref, relative 0
    qpack_put_string(s, 0, 8, "huffman value", true);
    for (int i = 0; i < 40; ++i) s.push_back(0x00);               // Duplicate newest, 40 times
    qpack_put_int(s, 0x00, 5, 42);                                // Duplicate of absolute 0, 2-byte index
    qpack_put_int(s, 0x80, 6, 43);                                // name of absolute 0
    qpack_put_string(s, 0, 8, "", false);
    QpackDecoder whole(4096, 0), split(4096, 0);
    REQUIRE(whole.on_encoder_stream_bytes(B(s)).ok());
    for (uint8_t b : s) REQUIRE(split.on_encoder_stream_bytes(Bytes{&b, 1}).ok());
    REQUIRE(whole.table().insert_count() == 45);
    REQUIRE(split.table().insert_count() == 45);
    for (uint64_t a = whole.table().dropped(); a < 45; ++a) {
      CHECK(split.table().at(a).name == whole.table().at(a).name);
      CHECK(split.table().at(a).value == whole.table().at(a).value);
    }
    CHECK(whole.table().at(2).value == "huffman value");
    CHECK(whole.table().at(43).value == "www.example.com");
    CHECK(whole.table().at(44).name == ":authority");
    CHECK(whole.table().at(44).value.empty());
    CHECK(to_hex(split.take_decoder_stream_bytes()) == "2d");  // Insert Count Increment 45
  }
  // Encoder stream: capacity, inserts (static/dynamic/literal name, raw and
  // Huffman, multi-byte lengths and indices), Duplicate.
  QpackEncoder enc({.max_table_capacity = 4096, .huffman = true, .index_all = true});
  enc.set_peer_settings(4096, 100);
  std::vector<std::vector<uint8_t>> blocks;
  for (int i = 0; i < 70; ++i) {
    blocks.push_back(*enc.encode(4 * static_cast<uint64_t>(i),
                                 HeaderList{{"x-name-" + std::to_string(i % 5), std::to_string(i)},
                                            {":authority", "example.com"},
                                            {"x-long", std::string(200, static_cast<char>('a' + i % 26))}}));
  }
  const auto stream = enc.take_encoder_stream_bytes();
  REQUIRE(stream.size() > 300);
  QpackDecoder whole(4096, 100), split(4096, 100);
  REQUIRE(whole.on_encoder_stream_bytes(B(stream)).ok());
  for (uint8_t b : stream) REQUIRE(split.on_encoder_stream_bytes(Bytes{&b, 1}).ok());
  REQUIRE(split.table().insert_count() == whole.table().insert_count());
  for (uint64_t a = whole.table().dropped(); a < whole.table().insert_count(); ++a) {
    CHECK(split.table().at(a).name == whole.table().at(a).name);
    CHECK(split.table().at(a).value == whole.table().at(a).value);
  }
  // Decoder stream: acknowledgments with multi-byte stream ids, a
  // cancellation and an increment, one byte at a time.
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (i % 3 == 0) {
      split.cancel_stream(4 * i);
    } else {
      auto r = split.decode(4 * i, B(blocks[i]));
      REQUIRE(r.ok());
      REQUIRE(std::holds_alternative<HeaderList>(*r));
    }
  }
  const auto acks = split.take_decoder_stream_bytes();
  for (uint8_t b : acks) REQUIRE(enc.on_decoder_stream_bytes(Bytes{&b, 1}).ok());
  CHECK(enc.outstanding_sections() == 0);
  CHECK(enc.known_received_count() == enc.table().insert_count());
}
