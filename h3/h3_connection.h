// An HTTP/3 session (RFC 9114) over one QUIC connection, sans-I/O like the
// QUIC layer: the caller moves packets for the quic::Connection, then lets
// this object consume the QUIC events and pulls HTTP/3 events from it.
//
//   h3::Connection h3(quic_conn, config);     // client or server: quic_conn.role()
//   ... after quic receive/timeout:  h3.process();   // drains quic.poll_event()
//   while (auto e = h3.poll_event()) ...      // headers, data, trailers, ...
//
// Request bodies and responses stream through read_data()/send_data() with
// QUIC flow control as backpressure. On CONNECT streams (RFC 9220 extended
// CONNECT included) read_data()/send_data() are the tunnel's byte stream;
// HTTP datagrams (RFC 9297) are sent and received per request stream, and
// capsule.h parses the capsule protocol carried in that byte stream.
// Extension streams (e.g. WebTransport's 0x41 bidi / 0x54 uni streams) are
// handed over raw after their type.
//
// A stream is forgotten once both directions are done (the peer's FIN read
// and ours acknowledged, or reset); calls naming it then fail. Events are
// edge-triggered like QUIC's: after `data`, read until read_data() returns
// fewer bytes than asked for, or the next bytes bring no new event.
//
// The implementation is split: h3_connection.cc (setup, sending API,
// control stream, GOAWAY, datagrams, events), h3_streams.cc (receiving:
// unidirectional streams, request streams, read_data).
#pragma once
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "h3/capsule.h"
#include "h3/h3_error.h"
#include "h3/h3_frame.h"
#include "h3/h3_settings.h"
#include "h3/header_field.h"
#include "h3/message.h"
#include "h3/priority.h"
#include "h3/qpack_decoder.h"
#include "h3/qpack_encoder.h"
#include "lib/bytes.h"
#include "lib/result.h"
#include "quic/connection.h"

namespace wt {
class Random;
}

namespace wt::h3 {

namespace stream_type {  // RFC 9114 §6.2, RFC 9204 §4.2
inline constexpr uint64_t control = 0x00;
inline constexpr uint64_t push = 0x01;
inline constexpr uint64_t qpack_encoder = 0x02;
inline constexpr uint64_t qpack_decoder = 0x03;
}  // namespace stream_type

struct Config {
  // SETTINGS we send (RFC 9114 §7.2.4.1, RFC 9204 §5). Our QPACK decoder
  // accepts this much dynamic table and this many blocked streams.
  uint64_t qpack_max_table_capacity = 4096;
  uint64_t qpack_blocked_streams = 16;
  uint64_t max_field_section_size = 64 * 1024;  // kUnlimited: not sent
  // Server: accept extended CONNECT (RFC 9220 SETTINGS_ENABLE_CONNECT_PROTOCOL).
  bool enable_connect_protocol = false;
  // HTTP datagrams (RFC 9297 SETTINGS_H3_DATAGRAM); needs the QUIC
  // max_datagram_frame_size transport parameter.
  bool enable_datagrams = false;
  // Further SETTINGS sent as they are (e.g. WebTransport's 0x2b603742).
  std::map<uint64_t, uint64_t> extra_settings;

  // GREASE (RFC 9114 §7.2.4.1, §7.2.8, §6.2.3): a reserved setting and a
  // reserved frame type on the control stream; optionally a reserved
  // unidirectional stream.
  bool grease = true;
  bool grease_stream = false;
  Random* rng = nullptr;  // GREASE values; nullptr: the QUIC connection's

  // Extensions: unidirectional stream types (e.g. 0x54) and signal values
  // that may open a bidirectional stream in place of a frame type (e.g.
  // 0x41). Such streams are reported as extension_stream events and carry
  // raw bytes after the type. With bidi types set, a client accepts
  // server-initiated bidirectional streams that start with one.
  std::vector<uint64_t> extension_uni_types;
  std::vector<uint64_t> extension_bidi_types;

  // Check our own outgoing messages (off only to send malformed ones in
  // conformance tests).
  bool validate_outgoing = true;
  // Largest control-stream frame we accept.
  uint64_t max_control_frame = 64 * 1024;
  // PRIORITY_UPDATEs kept for request streams not yet opened.
  size_t max_pending_priority_updates = 256;
};

struct Event {
  enum class Type : uint8_t {
    settings,          // the peer's SETTINGS arrived (peer_settings())
    headers,           // server: a request; client: a response (`status`; 1xx
                       // informational responses come first, each its own event)
    data,              // body (or tunnel) bytes are readable: call read_data()
                       // until it returns fewer bytes than asked
    trailers,          // the trailing field section
    finished,          // the peer ended the stream after a complete message
    stream_reset,      // the peer reset the stream (`code`)
    stop_sending,      // the peer stopped reading the stream (`code`)
    stream_error,      // we aborted the stream because of the peer (`code`)
    writable,          // send_data() accepts bytes again after a short write
    goaway,            // the peer's GOAWAY (`code`: stream ID from a server,
                       // push ID from a client)
    datagram,          // an HTTP datagram for `stream_id` (`data`)
    extension_stream,  // a peer stream of an extension type (`code` = type)
    closed,            // the connection closed (`code`, `reason`, `by_peer`)
  };
  Type type;
  uint64_t stream_id = 0;
  uint64_t code = 0;
  int status = 0;
  HeaderList fields;
  std::vector<uint8_t> data;
  std::string reason;
  bool by_peer = false;
};

const char* event_type_name(Event::Type t);

struct DataRead {
  size_t bytes = 0;
  bool fin = false;  // the body (or extension stream) ended
};

class Connection {
 public:
  Connection(quic::Connection& quic, Config config = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // ---- driving
  // Drains quic.poll_event() through on_quic_event(), then writes what is due.
  void process();
  // For callers that poll the QUIC events themselves.
  void on_quic_event(const quic::Event& e);
  std::optional<Event> poll_event();
  bool has_events() const { return event_head_ < events_.size(); }

  // ---- requests and responses
  // Client: opens a request stream and sends HEADERS. Fails before the QUIC
  // handshake, after a GOAWAY, or (with validation) for a malformed request
  // or :protocol before the server's SETTINGS enabled it.
  Result<uint64_t> send_request(const HeaderList& headers, bool end_stream);
  // Server: any number of 1xx, then one final response.
  Status send_response(uint64_t stream_id, const HeaderList& headers, bool end_stream);
  // A final response whose body follows at once: the HEADERS frame is held
  // (not yet given to QUIC) so the stream's next send_data() writes it with
  // the first DATA frame in one go. The caller must then send data, call
  // flush_held(), or let process() run before waiting for I/O.
  Status send_response_held(uint64_t stream_id, const HeaderList& headers);
  void flush_held(uint64_t stream_id);
  // Body or tunnel bytes (raw bytes on extension streams). Returns how many
  // were taken; fewer than offered means blocked until a `writable` event.
  // `fin` applies only if everything was taken.
  Result<size_t> send_data(uint64_t stream_id, Bytes data, bool fin);
  Status send_trailers(uint64_t stream_id, const HeaderList& trailers);  // ends the stream
  Status finish(uint64_t stream_id);  // send_data({}, fin)
  // Body (or raw) bytes; fin once everything up to the end was read. Fails
  // with the error code once the stream was reset or aborted.
  Result<DataRead> read_data(uint64_t stream_id, MutBytes out);
  // Abandons a stream in both directions (RESET_STREAM + STOP_SENDING).
  Status reset_stream(uint64_t stream_id, uint64_t error_code = h3::code(H3Error::request_cancelled));
  Status stop_sending(uint64_t stream_id, uint64_t error_code = h3::code(H3Error::no_error));

  // ---- priorities (RFC 9218)
  // Local scheduling of our sending on the stream.
  Status set_priority(uint64_t stream_id, const Priority& p);
  // Client: PRIORITY_UPDATE for one of our requests (and local scheduling).
  Status send_priority_update(uint64_t stream_id, const Priority& p);

  // ---- HTTP datagrams (RFC 9297)
  bool datagrams_enabled() const;  // both sides sent SETTINGS_H3_DATAGRAM=1
  // Only on CONNECT streams (§2: other methods define no datagrams; a peer
  // sending one on them gets the request aborted with H3_DATAGRAM_ERROR).
  Status send_datagram(uint64_t stream_id, Bytes payload);
  size_t max_datagram_payload(uint64_t stream_id) const;

  // ---- extension streams
  // Opens a stream and writes `type` (a uni stream type, or a bidi signal
  // value) first; the stream then carries raw bytes (send_data/read_data).
  Result<uint64_t> open_extension_stream(bool bidirectional, uint64_t type);

  // ---- lifetime
  // Graceful shutdown (RFC 9114 §5.2): server: GOAWAY with the first request
  // stream ID not processed, and later requests are rejected; client: GOAWAY
  // (push ID 0) and no new requests. The connection closes with H3_NO_ERROR
  // once the open requests are done.
  Status send_goaway();
  void close(uint64_t error_code = h3::code(H3Error::no_error), std::string_view reason = "");

  // ---- state
  quic::Role role() const { return role_; }
  bool is_client() const { return role_ == quic::Role::client; }
  bool started() const { return started_; }
  bool settings_received() const { return peer_settings_.has_value(); }
  const Settings& local_settings() const { return local_settings_; }
  const Settings* peer_settings() const { return peer_settings_ ? &*peer_settings_ : nullptr; }
  bool goaway_sent() const { return goaway_sent_; }
  bool goaway_received() const { return goaway_received_.has_value(); }
  bool is_closed() const { return closed_; }
  // Request and extension streams not yet finished in both directions.
  size_t active_streams() const { return streams_.size(); }
  bool stream_exists(uint64_t id) const { return streams_.count(id) != 0; }
  // The priority last given to QUIC's scheduler for the stream, if any.
  std::optional<Priority> stream_priority(uint64_t id) const;
  quic::Connection& quic() { return quic_; }

  // Optional: hands back a field list taken from an event, so a later field
  // section is decoded into its memory (no allocation per message).
  void recycle(HeaderList&& fields) {
    if (fields.capacity() > 0 && spare_lists_.size() < kSpareLists) spare_lists_.push_back(std::move(fields));
  }

 private:
  struct SendQueue {
    std::vector<uint8_t> bytes;
    size_t off = 0;
    bool fin = false;          // send FIN after the bytes
    bool fin_written = false;  // FIN handed to QUIC
    bool empty() const { return off == bytes.size(); }
  };
  enum class Kind : uint8_t { request, extension };
  enum class RecvPhase : uint8_t { headers, body, trailers, done };
  enum class SendPhase : uint8_t { headers, body, done };

  struct Stream {
    uint64_t id = 0;
    Kind kind = Kind::request;
    bool local = false;
    // receive side
    RecvPhase recv = RecvPhase::headers;
    FrameParser parser;
    bool sniffing = false;  // reading a possible extension signal first
    uint8_t sniff[8];
    size_t sniff_len = 0;
    bool blocked = false;  // a HEADERS frame waits for QPACK inserts
    bool fin_pending = false;  // QUIC's FIN was read while blocked
    bool quic_readable = false;  // QUIC may hold bytes we have not read
    bool data_notified = false;  // a `data` event is outstanding
    bool recv_closed = false;    // FIN read, reset, or we stopped reading
    bool recv_failed = false;    // reset by the peer or aborted by us
    uint64_t recv_error = 0;
    bool tunnel = false;         // CONNECT: no trailers, no content-length
    bool connect_request = false;
    bool head_request = false;
    bool request_received = false;   // server: the request's HEADERS arrived
    bool priority_updated = false;   // a PRIORITY_UPDATE overrides the header
    std::optional<Priority> priority;
    std::optional<uint64_t> content_length;
    uint64_t body_received = 0;
    // send side
    SendPhase send = SendPhase::headers;
    SendQueue out;
    bool send_closed = false;  // FIN queued or reset
    bool send_reset = false;   // RESET_STREAM sent (by us or after STOP_SENDING)
    bool acked = false;        // QUIC: everything we sent was acknowledged
    bool app_blocked = false;  // send_data took less than offered
    bool final_response_received = false;
  };
  enum class UniKind : uint8_t { pending, control, encoder, decoder };
  struct UniStream {
    UniKind kind = UniKind::pending;
    uint8_t type_buf[8];
    size_t type_len = 0;
    FrameParser parser;
    bool settings_seen = false;
    bool fin = false;  // the stream ended right after its type
  };

  // setup and sending (h3_connection.cc)
  void maybe_start();
  Result<uint64_t> open_critical_stream(uint64_t type, SendQueue& q);
  Settings build_local_settings() const;
  // With `fin`, the stream ends after `data` (in the same stream_write when
  // nothing is queued before it).
  void queue(uint64_t id, SendQueue& q, Bytes data, bool fin = false);
  void flush(uint64_t id, SendQueue& q);
  void flush_all();
  void flush_qpack();
  Status write_headers(Stream& s, const HeaderList& fields, bool end_stream, bool hold = false);
  Status send_response(uint64_t stream_id, const HeaderList& headers, bool end_stream, bool hold);
  void fail(const Error& e);
  void emit(Event e) { events_.push_back(std::move(e)); }
  // The common small events, built in place.
  void emit(Event::Type t, uint64_t stream_id = 0, uint64_t code = 0) {
    Event& e = events_.emplace_back();
    e.type = t;
    e.stream_id = stream_id;
    e.code = code;
  }
  void release_done_streams();
  // Gives the held HEADERS frame to QUIC (or drops it), freeing the slot.
  void release_held(bool write);
  // Request/extension stream records: map nodes are recycled (a request
  // costs no allocation in steady state); find() has a small cache.
  Stream& new_stream(uint64_t id);
  void erase_stream(std::map<uint64_t, Stream>::iterator it);
  void maybe_close_after_goaway();
  void apply_priority(uint64_t id, const Priority& p);
  void on_datagram(Bytes payload);
  void on_stream_writable(uint64_t id);
  Stream* find(uint64_t id);
  Random& rng();
  uint64_t request_frame_limit() const;

  // receiving (h3_streams.cc)
  void on_stream_opened(uint64_t id);
  void on_readable(uint64_t id);
  void on_peer_reset(uint64_t id, uint64_t code);
  void on_peer_stop_sending(uint64_t id, uint64_t code);
  Stream* accept_peer_bidi(uint64_t id);
  void read_uni(uint64_t id, UniStream& u);
  void start_extension_stream(Stream& s, uint64_t type, bool fin);
  bool read_uni_type(uint64_t id, UniStream& u);
  void read_control(uint64_t id, UniStream& u);
  Status on_control_frame(UniStream& u, uint64_t type, Bytes payload);
  Status on_peer_settings(Bytes payload);
  Status on_goaway(Bytes payload);
  Status on_priority_update(uint64_t type, Bytes payload);
  void read_qpack_stream(uint64_t id, UniStream& u);
  void pump(Stream& s);
  bool sniff(Stream& s);
  Status on_request_frame(Stream& s, uint64_t type, Bytes payload);
  Status on_data_frame_start(Stream& s, uint64_t length);
  void decode_headers(Stream& s, Bytes block);
  void on_decoded(Stream& s, Result<HeaderList> fields);
  void on_fin(Stream& s);
  void abort_stream(Stream& s, uint64_t code, bool report = true);
  void retry_blocked();
  bool critical(uint64_t id) const;

  quic::Connection& quic_;
  Config cfg_;
  quic::Role role_;
  bool started_ = false;
  bool closed_ = false;
  bool failed_ = false;  // we closed the connection for a peer error
  bool closed_event_ = false;

  Settings local_settings_;
  std::optional<Settings> peer_settings_;
  QpackEncoder encoder_;
  QpackDecoder decoder_;

  // our unidirectional streams
  uint64_t control_id_ = ~uint64_t{0}, encoder_id_ = ~uint64_t{0}, decoder_id_ = ~uint64_t{0};
  SendQueue control_out_, encoder_out_, decoder_out_;
  std::map<uint64_t, SendQueue> grease_out_;
  // the peer's unidirectional streams
  std::map<uint64_t, UniStream> uni_;
  std::optional<uint64_t> peer_control_, peer_encoder_, peer_decoder_;

  std::map<uint64_t, Stream> streams_;
  std::vector<std::map<uint64_t, Stream>::node_type> spare_streams_;
  // find()'s cache, direct-mapped by stream index: the requests in flight
  // are usually consecutive streams.
  struct FoundSlot {
    uint64_t id = ~uint64_t{0};
    Stream* s = nullptr;
  };
  static constexpr size_t kFoundSlots = 32;
  std::array<FoundSlot, kFoundSlots> found_{};
  static size_t found_slot(uint64_t id) { return (id >> 2) % kFoundSlots; }
  uint64_t next_peer_bidi_ = 0;     // index of the next peer bidi stream QUIC may open
  std::optional<uint64_t> max_request_id_;  // server: highest request stream seen
  std::map<uint64_t, Priority> pending_priority_;

  bool goaway_sent_ = false;
  uint64_t goaway_id_ = 0;  // server: first request stream ID we reject
  std::optional<uint64_t> goaway_received_;
  std::optional<uint64_t> max_push_id_received_;

  // A FIFO that keeps its storage: poll_event() advances event_head_ (a
  // deque would allocate and free a block every few events).
  std::vector<Event> events_;
  size_t event_head_ = 0;
  std::vector<uint8_t> scratch_;
  static constexpr size_t kSpareLists = 32;
  std::vector<HeaderList> spare_lists_;  // recycle()d field lists
  // send_response_held(): the one HEADERS frame waiting for its stream's
  // first DATA frame (held_id_ kNoStream: none).
  static constexpr uint64_t kNoStream = ~uint64_t{0};
  uint64_t held_id_ = kNoStream;
  std::vector<uint8_t> held_buf_;
  std::vector<uint8_t> qpack_out_;  // encoder/decoder stream bytes on their way to QUIC
  std::vector<uint8_t> frame_buf_;  // a HEADERS frame, or a small DATA frame, being written
  // Inside process(): QPACK decoder-stream bytes (Section Acknowledgments)
  // are written once at its end rather than after every field section.
  bool in_process_ = false;
};

}  // namespace wt::h3
