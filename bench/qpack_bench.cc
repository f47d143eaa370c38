// QPACK cost per field section: encode and decode of a typical request
// (10 fields) and response (8 fields), with the static table only and with a
// warm dynamic table (every field that can be indexed is already
// acknowledged, so sections are references plus :path and the
// never-indexed cookie). Also the small GET of bench/h3_requests (request
// {:method GET, :scheme https, :authority 127.0.0.1:4433, :path /small},
// response {:status 200, content-length 1000}) and the cost of validating
// those messages (validate_request / validate_response).
//
//   qpack_bench [--json] [--reps N] [--iters N]
//
// Method: each repetition times a short batch of `iters` back-to-back
// operations per metric (a fraction of a millisecond, so most batches run
// unpreempted on a shared machine); the reported value is the median over
// repetitions of the batch's per-operation mean. Dynamic-table encode
// includes processing the decoder's Section Acknowledgment, and decode
// includes producing it, since a section costs both in steady state.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

#include "h3/header_field.h"
#include "h3/message.h"
#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"

using namespace wt;
using namespace wt::h3;

namespace {

using Clock = std::chrono::steady_clock;

template <class T>
inline void keep(const T& v) {
  asm volatile("" : : "r,m"(v) : "memory");
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "qpack_bench: %s\n", what);
  std::exit(1);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

const HeaderList kRequest = {
    {":method", "GET"},
    {":scheme", "https"},
    {":authority", "www.example.com"},
    {":path", "/assets/app.js?v=20240611"},
    {"user-agent",
     "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36"},
    {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    {"accept-encoding", "gzip, deflate, br, zstd"},
    {"accept-language", "en-US,en;q=0.9"},
    {"cookie", "session=8f14e45fceea167a5a36dedd4bea2543; theme=dark"},
    {"sec-fetch-mode", "navigate"},
};

const HeaderList kResponse = {
    {":status", "200"},
    {"content-type", "text/html; charset=utf-8"},
    {"content-length", "14327"},
    {"date", "Tue, 11 Jun 2024 09:30:12 GMT"},
    {"server", "wtcpp/0.1"},
    {"cache-control", "max-age=3600"},
    {"etag", "\"5f2b-61a6a1c4b8e00\""},
    {"vary", "accept-encoding"},
};

// The exchange of bench/h3_requests.
const HeaderList kSmallRequest = {
    {":method", "GET"},
    {":scheme", "https"},
    {":authority", "127.0.0.1:4433"},
    {":path", "/small"},
};

const HeaderList kSmallResponse = {
    {":status", "200"},
    {"content-length", "1000"},
};

struct Pair {
  QpackEncoder enc;
  QpackDecoder dec;
  bool dynamic;

  explicit Pair(bool dyn) : dec(dyn ? 4096 : 0, dyn ? 100 : 0), dynamic(dyn) {
    if (dyn) enc.set_peer_settings(4096, 100);
  }
  // Encode, deliver, decode, acknowledge: after two rounds every indexable
  // field is in the table and acknowledged.
  std::vector<uint8_t> warm(const HeaderList& h) {
    std::vector<uint8_t> block;
    for (int round = 0; round < 2; ++round) {
      block.clear();
      if (!enc.encode(0, h, block).ok()) die("encode failed");
      if (!dec.on_encoder_stream_bytes(enc.take_encoder_stream_bytes()).ok()) die("encoder stream");
      auto r = dec.decode(0, block);
      if (!r.ok() || !std::holds_alternative<HeaderList>(*r) || std::get<HeaderList>(*r) != h) {
        die("round trip mismatch");
      }
      if (!enc.on_decoder_stream_bytes(dec.take_decoder_stream_bytes()).ok()) die("decoder stream");
    }
    return block;
  }
};

struct Metrics {
  double encode_ns = 0;
  double decode_ns = 0;
  size_t block_bytes = 0;
};

Metrics measure(bool dynamic, const HeaderList& h, int reps, int iters) {
  Pair p(dynamic);
  const std::vector<uint8_t> block = p.warm(h);
  const uint8_t ack[] = {0x80};  // Section Acknowledgment, stream 0
  std::vector<uint8_t> out;
  out.reserve(1024);
  std::vector<double> enc_ns, dec_ns;
  for (int rep = 0; rep < reps; ++rep) {
    auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) {
      out.clear();
      if (!p.enc.encode(0, h, out).ok()) die("encode failed");
      keep(out.data());
      // A section without dynamic references (small GET response) has none.
      if (dynamic && p.enc.outstanding_sections() > 0 && !p.enc.on_decoder_stream_bytes(ack).ok())
        die("ack failed");
    }
    auto t1 = Clock::now();
    if (out != block || p.enc.has_encoder_stream_bytes()) die("encoder not in steady state");
    for (int i = 0; i < iters; ++i) {
      auto r = p.dec.decode(0, block);
      if (!r.ok()) die("decode failed");
      keep(r);
      if (dynamic && (i & 31) == 31) keep(p.dec.take_decoder_stream_bytes());
    }
    auto t2 = Clock::now();
    (void)p.dec.take_decoder_stream_bytes();
    enc_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / iters);
    dec_ns.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / iters);
  }
  return {median(enc_ns), median(dec_ns), block.size()};
}

// ns per validate_request + validate_response of the small GET.
struct Validation {
  double request_ns = 0;
  double response_ns = 0;
};

Validation measure_validation(int reps, int iters) {
  std::vector<double> req_ns, resp_ns;
  for (int rep = 0; rep < reps; ++rep) {
    auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) {
      auto r = validate_request(kSmallRequest);
      if (!r.ok()) die("validate_request failed");
      keep(r);
    }
    auto t1 = Clock::now();
    for (int i = 0; i < iters; ++i) {
      auto r = validate_response(kSmallResponse);
      if (!r.ok()) die("validate_response failed");
      keep(r);
    }
    auto t2 = Clock::now();
    req_ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / iters);
    resp_ns.push_back(std::chrono::duration<double, std::nano>(t2 - t1).count() / iters);
  }
  return {median(req_ns), median(resp_ns)};
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int reps = 301;
  int iters = 256;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--json")) {
      json = true;
    } else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--iters") && i + 1 < argc) {
      iters = std::max(1, std::atoi(argv[++i]));
    } else {
      die("usage: qpack_bench [--json] [--reps N] [--iters N]");
    }
  }
  const Metrics sreq = measure(false, kRequest, reps, iters);
  const Metrics sresp = measure(false, kResponse, reps, iters);
  const Metrics dreq = measure(true, kRequest, reps, iters);
  const Metrics dresp = measure(true, kResponse, reps, iters);
  const Metrics ssreq = measure(false, kSmallRequest, reps, iters);
  const Metrics ssresp = measure(false, kSmallResponse, reps, iters);
  const Metrics dsreq = measure(true, kSmallRequest, reps, iters);
  const Metrics dsresp = measure(true, kSmallResponse, reps, iters);
  const Validation val = measure_validation(reps, iters);
  const size_t req_plain = static_cast<size_t>(field_section_size(kRequest));
  const size_t resp_plain = static_cast<size_t>(field_section_size(kResponse));
  if (json) {
    std::printf(
        "{\"request_encode_ns\": %.1f, \"request_decode_ns\": %.1f, "
        "\"response_encode_ns\": %.1f, \"response_decode_ns\": %.1f, "
        "\"request_block_bytes\": %zu, \"response_block_bytes\": %zu, "
        "\"dynamic\": {\"request_encode_ns\": %.1f, \"request_decode_ns\": %.1f, "
        "\"response_encode_ns\": %.1f, \"response_decode_ns\": %.1f, "
        "\"request_block_bytes\": %zu, \"response_block_bytes\": %zu}, "
        "\"small_get\": {\"request_encode_ns\": %.1f, \"request_decode_ns\": %.1f, "
        "\"response_encode_ns\": %.1f, \"response_decode_ns\": %.1f, "
        "\"request_block_bytes\": %zu, \"response_block_bytes\": %zu, "
        "\"dynamic\": {\"request_encode_ns\": %.1f, \"request_decode_ns\": %.1f, "
        "\"response_encode_ns\": %.1f, \"response_decode_ns\": %.1f, "
        "\"request_block_bytes\": %zu, \"response_block_bytes\": %zu}, "
        "\"validate_request_ns\": %.1f, \"validate_response_ns\": %.1f}}\n",
        sreq.encode_ns, sreq.decode_ns, sresp.encode_ns, sresp.decode_ns, sreq.block_bytes,
        sresp.block_bytes, dreq.encode_ns, dreq.decode_ns, dresp.encode_ns, dresp.decode_ns,
        dreq.block_bytes, dresp.block_bytes, ssreq.encode_ns, ssreq.decode_ns, ssresp.encode_ns,
        ssresp.decode_ns, ssreq.block_bytes, ssresp.block_bytes, dsreq.encode_ns,
        dsreq.decode_ns, dsresp.encode_ns, dsresp.decode_ns, dsreq.block_bytes,
        dsresp.block_bytes, val.request_ns, val.response_ns);
  } else {
    std::printf("QPACK, ns per field section (median of %d x %d)\n", reps, iters);
    std::printf("%-26s %10s %10s %8s\n", "", "encode", "decode", "bytes");
    std::printf("%-26s %10.1f %10.1f %8zu\n", "request, static", sreq.encode_ns, sreq.decode_ns,
                sreq.block_bytes);
    std::printf("%-26s %10.1f %10.1f %8zu\n", "response, static", sresp.encode_ns,
                sresp.decode_ns, sresp.block_bytes);
    std::printf("%-26s %10.1f %10.1f %8zu\n", "request, dynamic (warm)", dreq.encode_ns,
                dreq.decode_ns, dreq.block_bytes);
    std::printf("%-26s %10.1f %10.1f %8zu\n", "response, dynamic (warm)", dresp.encode_ns,
                dresp.decode_ns, dresp.block_bytes);
    std::printf("%-26s %10.1f %10.1f %8zu\n", "small GET req, static", ssreq.encode_ns,
                ssreq.decode_ns, ssreq.block_bytes);
    std::printf("%-26s %10.1f %10.1f %8zu\n", "small GET resp, static", ssresp.encode_ns,
                ssresp.decode_ns, ssresp.block_bytes);
    std::printf("%-26s %10.1f %10.1f %8zu\n", "small GET req, dyn (warm)", dsreq.encode_ns,
                dsreq.decode_ns, dsreq.block_bytes);
    std::printf("%-26s %10.1f %10.1f %8zu\n", "small GET resp, dyn (warm)", dsresp.encode_ns,
                dsresp.decode_ns, dsresp.block_bytes);
    std::printf("(uncompressed field section sizes: request %zu, response %zu bytes)\n",
                req_plain, resp_plain);
    std::printf("validate_request (small GET) %.1f ns, validate_response %.1f ns\n",
                val.request_ns, val.response_ns);
  }
  return 0;
}
