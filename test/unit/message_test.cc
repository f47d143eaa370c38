// The word-at-a-time field checks of h3/message.cc against the byte-by-byte
// predicates they replaced (RFC 9110 §5.1, §5.5; RFC 9114 §4.2) on every
// byte value at every position, and validate_request_view against
// validate_request. Verdicts on whole messages: h3_frame_test.cc.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "h3/h3_error.h"
#include "h3/message.h"
#include "h3/priority.h"
#include "lib/random.h"

using namespace wt;
using namespace wt::h3;

namespace {

// The previous implementations, byte by byte.
bool ref_tchar_lower(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= '0' && c <= '9') return true;
  for (char t : std::string_view{"!#$%&'*+-.^_`|~"})
    if (c == static_cast<unsigned char>(t)) return true;
  return false;
}
bool ref_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!ref_tchar_lower(static_cast<unsigned char>(c))) return false;
  return true;
}
bool ref_value(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u == '\0' || u == '\r' || u == '\n') return false;
  }
  return true;
}

HeaderList get_request() {
  return {{":method", "GET"}, {":scheme", "https"}, {":authority", "127.0.0.1:4433"}, {":path", "/small"}};
}

}  // namespace

TEST_CASE("valid_field_name and valid_field_value: every byte at every position", "[message]") {
  for (size_t len = 1; len <= 20; ++len) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (unsigned c = 0; c < 256; ++c) {
        std::string name(len, 'a');
        name[pos] = static_cast<char>(c);
        std::string value(len, 'v');
        value[pos] = static_cast<char>(c);
        INFO("len " << len << " pos " << pos << " byte " << c);
        REQUIRE(valid_field_name(name) == ref_name(name));
        REQUIRE(valid_field_value(value) == ref_value(value));
        // Names of other common characters around the byte.
        std::string mixed(len, '-');
        for (size_t i = 0; i < len; i += 3) mixed[i] = static_cast<char>('0' + i % 10);
        mixed[pos] = static_cast<char>(c);
        REQUIRE(valid_field_name(mixed) == ref_name(mixed));
      }
    }
  }
  CHECK_FALSE(valid_field_name(""));
  CHECK(valid_field_value(""));
}

TEST_CASE("valid_field_name and valid_field_value: random strings", "[message]") {
  SeededRandom rng(13);
  const std::string_view alphabet = "abcxyz0189-_.!~|`^'*+#$%&AZ:\r\n\t \x7f\x80\xff";
  for (int i = 0; i < 50000; ++i) {
    std::string s(rng.next() % 40, 'a');
    for (char& c : s) {
      c = rng.next() % 8 ? alphabet[rng.next() % alphabet.size()] : static_cast<char>(rng.next());
    }
    if (rng.next() % 2) s[rng.next() % (s.size() + 1) % (s.empty() ? 1 : s.size())] = 'a';
    REQUIRE(valid_field_name(s) == ref_name(s));
    REQUIRE(valid_field_value(s) == ref_value(s));
  }
}

TEST_CASE("is_connection_specific_field", "[message]") {
  for (std::string_view n : {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}) {
    CHECK(is_connection_specific_field(n, ""));
    CHECK(is_connection_specific_field(n, "trailers"));
  }
  CHECK(is_connection_specific_field("te", "gzip"));
  CHECK(is_connection_specific_field("te", ""));
  CHECK_FALSE(is_connection_specific_field("te", "trailers"));
  for (std::string_view n : {"connectio", "connectiom", "keep-alivE", "upgrades", "t", "tf", "host", ""})
    CHECK_FALSE(is_connection_specific_field(n, ""));
}

TEST_CASE("validate_request_view agrees with validate_request", "[message]") {
  const auto same = [](const HeaderList& h, RequestRules rules = {}) {
    auto a = validate_request(h, rules);
    auto b = validate_request_view(h, rules);
    REQUIRE(a.ok() == b.ok());
    if (!a.ok()) {
      CHECK(is_h3_error(a.error(), H3Error::message_error));
      CHECK(std::string_view{a.error().detail} == b.error().detail);
      return;
    }
    CHECK(a->method == b->method);
    CHECK(a->scheme == b->scheme);
    CHECK(a->authority == b->authority);
    CHECK(a->path == b->path);
    CHECK(a->protocol == b->protocol);
    CHECK(a->content_length == b->content_length);
    CHECK(a->is_connect() == b->is_connect());
    CHECK(a->is_extended_connect() == b->is_extended_connect());
    CHECK(a->is_head() == b->is_head());
  };
  same(get_request());
  HeaderList h = get_request();
  h.push_back({"content-length", "42"});
  h.push_back({"host", "127.0.0.1:4433"});
  same(h);
  h.push_back({"host", "other"});  // only the first host counts
  same(h);
  h = get_request();
  h.push_back({"host", "other"});
  same(h);
  h = get_request();
  h[0].value = "HEAD";
  same(h);
  h[0].value = "CONNECT";
  same(h);
  same({{":method", "CONNECT"}, {":authority", "example.com:443"}});
  const HeaderList ext = {{":method", "CONNECT"}, {":protocol", "webtransport"}, {":scheme", "https"},
                          {":authority", "example.com"}, {":path", "/wt"}};
  same(ext);
  same(ext, RequestRules{true});
  h = get_request();
  h.push_back({"te", "gzip"});
  same(h);
  h = get_request();
  h.push_back({"content-length", "1, 1"});
  same(h);
  h.push_back({"content-length", "2"});
  same(h);
  h = get_request();
  h.push_back({"Bad", "x"});
  same(h);
  h = get_request();
  h[3].value = "/a\r\nb";
  same(h);
}

TEST_CASE("content-length values", "[message]") {
  const auto cl = [](std::string_view v) -> Result<ResponseHead> {
    const HeaderList h = {{":status", "200"}, {"content-length", std::string(v)}};
    return validate_response(h);
  };
  CHECK(*cl("0")->content_length == 0);
  CHECK(*cl("1000")->content_length == 1000);
  CHECK(*cl("0001")->content_length == 1);
  CHECK(*cl("9999999999999999999")->content_length == 9999999999999999999ull);
  CHECK(*cl("5, 5")->content_length == 5);
  CHECK(*cl(" 5 ,\t5 ")->content_length == 5);
  for (std::string_view bad : {"", "-1", "+1", "1a", "5, 6", "5,", ",5", "99999999999999999999", "1 2", "0x10"})
    CHECK_FALSE(cl(bad).ok());
}

TEST_CASE("parse_priority: an empty field value is the default", "[message]") {
  CHECK(parse_priority("") == Priority{});
  CHECK(parse_priority(" ") == Priority{});
  CHECK(parse_priority("u=1") == Priority{1, false});
  CHECK_FALSE(parse_priority(","));
}
