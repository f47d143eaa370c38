// One QUIC connection (RFC 9000), sans-I/O and pull-based:
//
//   conn.receive(datagram, path, ecn, now)   feed a received UDP payload
//   conn.send(out, now) -> SendBatch         pull packets (one GSO batch)
//   conn.next_timeout() / on_timeout(now)    timers
//   conn.poll_event()                        what happened
//
// The implementation is split by concern: connection.cc (setup, public API,
// events, close), conn_recv.cc (receive path), conn_frames.cc (frame
// handlers), conn_send.cc (send path), conn_crypto.cc (TLS and keys),
// conn_cids.cc (connection IDs), conn_timers.cc (timers), conn_key_update.cc
// (key update), conn_paths.cc (path validation, migration), conn_ecn.cc,
// conn_pmtud.cc (ECN validation, PMTU discovery).
#pragma once
#include <array>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/bytes.h"
#include "lib/clock.h"
#include "lib/result.h"
#include "quic/ack_tracker.h"
#include "quic/compact_queue.h"
#include "quic/connection_config.h"
#include "quic/connection_events.h"
#include "quic/connection_id.h"
#include "quic/ecn_validation.h"
#include "quic/frame.h"
#include "quic/key_phase.h"
#include "quic/key_schedule.h"
#include "quic/loss_detector.h"
#include "quic/pacer.h"
#include "quic/packet_cipher.h"
#include "quic/packet_header.h"
#include "quic/packet_number.h"
#include "quic/packet_protection.h"
#include "quic/path.h"
#include "quic/path_validation.h"
#include "quic/pmtud.h"
#include "quic/qlog.h"
#include "quic/role.h"
#include "quic/stateless_reset.h"
#include "quic/stream_map.h"
#include "quic/tls_session.h"
#include "quic/transport_params.h"

namespace wt::quic {

struct SendBatch {
  size_t bytes = 0;         // total bytes written
  size_t segment_size = 0;  // every datagram has this size except maybe the last
  Path path;
  Ecn ecn = Ecn::not_ect;
  size_t datagrams() const { return segment_size ? (bytes + segment_size - 1) / segment_size : 0; }
};

struct StreamRead {
  size_t bytes = 0;
  bool fin = false;
};

// Zero-copy view of a stream's receive buffer (Connection::stream_peek).
struct StreamPeek {
  Bytes data;        // valid until the next call on this connection
  bool fin = false;  // the stream ends right after `data`
};

struct ConnectionStats {
  uint64_t packets_sent = 0, packets_received = 0, packets_dropped = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
  uint64_t packets_lost = 0, pto_count = 0;
  uint64_t stream_bytes_sent = 0, stream_bytes_retransmitted = 0;
  uint64_t datagrams_sent = 0, datagrams_received = 0, datagrams_dropped = 0;
  uint64_t ack_frames_sent = 0, ack_frames_received = 0;  // all spaces (ack_frequency.cc)
  Duration smoothed_rtt{}, min_rtt{};
  uint64_t cwnd = 0, bytes_in_flight = 0;
  // Version negotiation, Retry and 0-RTT (conn_version.cc, conn_retry.cc,
  // conn_early_data.cc).
  uint64_t version_negotiations = 0;  // client: Version Negotiation packets acted on
  uint64_t retries = 0;  // client: Retry packets acted on; server: 1 if the client's
                         // Initial carried our valid Retry token
  uint64_t zero_rtt_packets_sent = 0, zero_rtt_packets_received = 0;
  uint64_t zero_rtt_bytes_resent = 0;  // client: stream bytes resent after 0-RTT rejection
};

// What the endpoint learns about the first Initial of a new server connection.
struct InitialInfo {
  uint32_t version = 0;
  ConnectionId dcid;  // the client's chosen DCID (original_destination_connection_id)
  ConnectionId scid;  // the client's SCID
  // Address validation (endpoint_admission.cc): a valid Retry token names
  // the DCID of the client's very first Initial (then `dcid` is our Retry's
  // SCID); any valid token validates the client's address (RFC 9000 §8.1).
  std::optional<ConnectionId> retry_original_dcid;
  bool address_validated = false;
};

inline constexpr size_t kCryptoBufferLimit = 1u << 20;  // RFC 9000 §7.5
inline constexpr size_t kMaxDatagramQueueBytes = 1u << 20;

class Connection;
// Told when a connection may have something new to send or a new deadline:
// a datagram or timer was handled, or the application called it. The
// endpoint (endpoint_schedule.cc) then visits only those connections, not
// every connection it holds.
class ConnectionObserver {
 public:
  virtual ~ConnectionObserver() = default;
  virtual void on_connection_activity(Connection& c) = 0;
};

class Connection {
 public:
  enum class State : uint8_t { handshaking, established, closing, draining, closed };

  // Client: the first send() yields the Initial. Server: built by Endpoint.
  static Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config,
                                                     const Path& path, Time now);
  static Result<std::unique_ptr<Connection>> accept(const ConnectionConfig& config,
                                                    const Path& path, const InitialInfo& initial,
                                                    Time now);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // --- I/O (sans-I/O: the caller moves bytes and supplies time)
  void receive(MutBytes datagram, const Path& path, Ecn ecn, Time now);
  SendBatch send(MutBytes out, Time now);
  Time next_timeout() const;
  void on_timeout(Time now);
  std::optional<Event> poll_event();
  bool has_events() const { return !events_.empty(); }

  // --- streams (RFC 9000 §2-4)
  Result<uint64_t> open_stream(bool bidirectional);
  Result<size_t> stream_write(uint64_t id, Bytes data, bool fin);
  Result<StreamRead> stream_read(uint64_t id, MutBytes out);
  // Zero-copy reading: the contiguous bytes at the read position (possibly
  // fewer than are readable: one buffer chunk), then stream_consume() of
  // any prefix of them. Errors as stream_read(); a reset is reported by
  // stream_peek() like a read.
  Result<StreamPeek> stream_peek(uint64_t id);
  Result<StreamRead> stream_consume(uint64_t id, size_t n);
  Status stream_reset(uint64_t id, uint64_t app_error);
  Status stream_stop_sending(uint64_t id, uint64_t app_error);
  Status stream_set_priority(uint64_t id, uint8_t urgency, bool incremental);
  // The priority of streams opened (by either side) from now on; QUIC's own
  // default is urgency 3, incremental (streams share round-robin).
  void set_default_stream_priority(uint8_t urgency, bool incremental) {
    streams_.set_default_priority(urgency, incremental);
  }
  uint64_t stream_writable_bytes(uint64_t id);

  // --- DATAGRAM (RFC 9221)
  Status send_datagram(Bytes payload);
  size_t max_datagram_payload() const;

  // --- lifetime
  void close(uint64_t app_error, std::string_view reason);
  State state() const { return state_; }
  bool is_established() const { return state_ == State::established; }
  bool is_closed() const { return state_ == State::closed; }
  bool handshake_confirmed() const { return handshake_confirmed_; }
  const CloseInfo& close_info() const { return close_info_; }

  // --- introspection
  Role role() const { return role_; }
  uint32_t version() const { return version_; }
  std::string_view alpn() const { return tls_->alpn(); }
  const TlsSession& tls() const { return *tls_; }
  const TransportParameters& peer_params() const { return peer_tp_; }
  const TransportParameters& local_params() const { return local_tp_; }
  const ConnectionStats& stats();
  const Path& path() const { return path_; }
  const ConnectionConfig& config() const { return cfg_; }

  // --- versions, tokens, resumption and 0-RTT (conn_version.cc,
  // conn_retry.cc, conn_early_data.cc)
  // The version of the first Initial (ours or the client's); version() is
  // the negotiated one (RFC 9368 §2).
  uint32_t original_version() const { return original_version_; }
  // Client: a session to resume (ConnectionConfig::resume_session) once the
  // server sent a ticket after the handshake; nullopt if none is waiting.
  std::optional<std::vector<uint8_t>> take_session_ticket();
  // Client: a token from a NEW_TOKEN frame (ConnectionConfig::token).
  std::optional<std::vector<uint8_t>> take_new_token();
  // Client: 0-RTT keys were available and early data could be sent.
  bool early_data_attempted() const { return early_data_attempted_; }
  // Both sides: the server accepted 0-RTT (RFC 9001 §4.6.1). A client knows
  // once the server's handshake messages arrived.
  bool early_data_accepted() const;
  // Server, for the endpoint: the handshake is complete and no NEW_TOKEN was
  // queued yet; queue_new_token() sends `token` in a NEW_TOKEN frame.
  bool wants_new_token() const;
  void queue_new_token(Bytes token);

  // --- key update, paths, ECN, PMTU, stateless reset (conn_key_update.cc,
  // conn_paths.cc, conn_ecn.cc, conn_pmtud.cc)
  // RFC 9001 §6: update the 1-RTT keys with the next packet sent once that
  // is allowed (handshake confirmed, a packet of the current key phase
  // acknowledged). Fails before the handshake is confirmed.
  Status initiate_key_update();
  const KeyUpdateInfo& key_update_info() const { return kp_.info; }
  // Client (RFC 9000 §9.2): probe a path from `new_local` with a fresh peer
  // CID and move there once PATH_RESPONSE validates it. Fails if the peer
  // disabled active migration, before confirmation, or without a spare CID.
  Status migrate(const Address& new_local);
  bool path_validated() const;  // the active path (RFC 9000 §8.2)
  bool migration_pending() const;  // a probe of migrate() or preferred_address
  const PathStats& path_stats() const { return path_stats_; }
  EcnValidator::State ecn_state() const { return ecn_.state(); }
  const EcnCounts& peer_ecn_counts() const { return ecn_.last_counts(); }  // validated counts
  uint64_t ecn_congestion_events() const { return ecn_ce_events_; }
  size_t max_packet_size() const { return max_packet_size_; }  // current PLPMTU
  const Pmtud& pmtud() const { return pmtud_; }
  // For the endpoint: a stateless reset for this connection arrived
  // (RFC 9000 §10.3.1), and the tokens to recognise one by.
  void on_stateless_reset(Time now);
  void take_reset_token_changes(std::vector<StatelessResetToken>& added,
                                std::vector<StatelessResetToken>& removed);

  // --- for the endpoint: our CIDs that route to this connection
  const ConnectionId& original_dcid() const { return original_dcid_; }
  const ConnectionId& initial_scid() const { return local_scid_; }
  // CIDs issued / retired since the last call (the endpoint's routing table).
  void take_cid_changes(std::vector<ConnectionId>& added, std::vector<ConnectionId>& removed);
  // Every CID of ours that may still route to this connection (conn_cids.cc),
  // for the endpoint to forget when it frees the connection.
  void routing_cids(std::vector<ConnectionId>& out) const;
  // The endpoint's bookkeeping (endpoint_schedule.cc). `active`: activity
  // was reported and the endpoint has not yet seen send() come back empty.
  struct Scheduling {
    ConnectionObserver* observer = nullptr;
    uint32_t slot = 0;       // the endpoint's name for the connection
    uint32_t timer_gen = 0;  // which timer entry is current (unique per endpoint)
    bool active = true;
  };
  Scheduling& scheduling() { return sched_; }
  const Scheduling& scheduling() const { return sched_; }
  // Something may need sending, or a deadline may have changed.
  void note_activity() {
    if (sched_.active) return;
    sched_.active = true;
    if (sched_.observer) sched_.observer->on_connection_activity(*this);
  }

 private:
  struct Space {
    AckTracker acks;
    uint64_t next_pn = 0;
    uint64_t largest_rx = kNoPacketNumber;
    std::optional<PacketCipher> rx, tx;
    // CRYPTO streams exist only while they hold data (conn_crypto.cc); the
    // bases are the stream offsets where the current objects start.
    std::unique_ptr<SendStream> crypto_send;
    std::unique_ptr<RecvStream> crypto_recv;
    uint64_t crypto_send_base = 0, crypto_recv_base = 0;
    uint32_t probes = 0;  // PTO probes owed in this space
    uint32_t non_eliciting_run = 0;  // ACK-only packets sent in a row
    bool discarded = false;
  };
  struct LocalCid {
    uint64_t seq;
    ConnectionId cid;
    StatelessResetToken token;
  };
  struct PeerCid {
    uint64_t seq;
    ConnectionId cid;
    StatelessResetToken token;
    bool has_token;
  };
  // Frames owed to the peer that are not stream data.
  struct Pending {
    bool handshake_done = false;
    bool max_data = false;
    bool data_blocked = false;
    bool max_streams_bidi = false, max_streams_uni = false;
    bool streams_blocked_bidi = false, streams_blocked_uni = false;
    bool ping = false;
    std::vector<uint64_t> new_cid_seqs;
    std::vector<uint64_t> retire_cid_seqs;
    std::vector<std::array<uint8_t, 8>> path_responses;
  };

  Connection(const ConnectionConfig& config, Role role, const Path& path, Time now);
  Status init_client(Time now);
  Status init_server(const InitialInfo& initial, Time now);
  Status init_common(Time now);
  TransportParameters make_local_params() const;

  // receive (conn_recv.cc)
  void receive_packet(MutBytes packet, const PacketHeader& hdr, Bytes reset_tail, Ecn ecn, Time now);
  Status process_frames(PnSpace space, PacketType type, MutBytes payload, Time now,
                        bool& ack_eliciting);
  bool is_stateless_reset(Bytes tail) const;
  // frame handlers (conn_frames.cc)
  Status on_frame(PnSpace space, const Frame& f, Time now);
  Status on_ack(PnSpace space, const AckFrame& f, Time now);
  Status on_crypto(PnSpace space, const CryptoFrame& f, Time now);
  Status on_stream(const StreamFrame& f);
  Status on_reset_stream(const ResetStreamFrame& f);
  Status on_stop_sending(const StopSendingFrame& f);
  Status on_max_stream_data(const MaxStreamDataFrame& f);
  Status on_stream_data_blocked(const StreamDataBlockedFrame& f);
  Status on_new_connection_id(const NewConnectionIdFrame& f);
  Status on_retire_connection_id(const RetireConnectionIdFrame& f);
  Status on_datagram(const DatagramFrame& f);
  void on_connection_close(const ConnectionCloseFrame& f, Time now);
  void on_packets_acked(PnSpace space, std::vector<SentPacket>& acked);
  void on_packets_lost(PnSpace space, std::vector<SentPacket>& lost);
  void on_frame_lost(PnSpace space, const SentFrame& f);

  // TLS (conn_crypto.cc)
  SendStream& crypto_sender(Space& s);
  bool crypto_wants_to_send(const Space& s) const {
    return s.crypto_send && s.crypto_send->wants_to_send();
  }
  void crypto_on_acked(PnSpace space, const SentFrame& f);
  void crypto_on_lost(PnSpace space, const SentFrame& f);
  void release_crypto_streams(Space& s);  // those that hold nothing
  Status drive_tls(Time now);
  Status install_secret(const TlsSecret& s, Time now);
  Status on_handshake_complete(Time now);
  Status apply_peer_params(Time now);
  void discard_space(PnSpace space, Time now);
  void confirm_handshake(Time now);
  static EncryptionLevel level_of(PnSpace s);

  // send (conn_send.cc)
  size_t build_datagram(MutBytes out, Time now);
  size_t build_packet(PnSpace space, MutBytes out, size_t min_size, bool cc_allowed, Time now);
  bool space_has_data(PnSpace space, bool cc_allowed, Time now) const;
  bool app_has_data() const;
  void write_app_frames(Writer& w, SentFrames& frames, Time now, bool& eliciting);
  void write_control_frames(Writer& w, SentFrames& frames, bool& eliciting, Time now);
  void write_stream_frames(Writer& w, SentFrames& frames, bool& eliciting);
  bool write_crypto_frames(PnSpace space, Writer& w, SentFrames& frames);
  size_t build_close_packet(MutBytes out, Time now);
  bool amplification_limited() const;
  size_t amplification_budget() const;

  // version negotiation (conn_version.cc)
  std::vector<uint32_t> our_versions() const;
  VersionInformation local_version_information() const;
  uint32_t crypto_version() const;  // reserved versions borrow v1's keys and format
  void on_version_negotiation(const PacketHeader& hdr, Time now);
  Status restart_with_version(uint32_t version, Time now);
  Status collect_client_hello(Bytes crypto);
  Status switch_server_version(uint32_t version);
  Status validate_version_information() const;
  Status reencode_local_params();
  PacketCipher* rx_cipher_for(const PacketHeader& hdr);
  Status on_packet_authenticated(const PacketHeader& hdr, Time now);
  // Retry and tokens (conn_retry.cc)
  void apply_initial_info(const InitialInfo& initial);
  void on_retry_packet(MutBytes packet, const PacketHeader& hdr, Time now);
  Status on_new_token(const NewTokenFrame& f);
  Bytes initial_token() const { return initial_token_; }
  // resumption and 0-RTT (conn_early_data.cc)
  Status setup_tls_extensions(Time now);
  Status bind_tickets_to_version();
  Status install_early_secret(const TlsSecret& s);
  Status check_early_data(Time now);
  bool zero_rtt_sendable() const { return zero_rtt_tx_.has_value() && !spaces_[2].tx; }

  // key update (conn_key_update.cc)
  Status keep_app_secret(const TlsSecret& s, CipherSuite suite);
  Result<UnprotectedPacket> unprotect_one_rtt(MutBytes packet, size_t pn_offset, Time now);
  Status update_tx_keys();
  Status rotate_rx_keys(uint64_t pn, Time now);
  void maybe_update_keys(Time now);
  Status check_ack_key_phase(const AckFrame& f);
  void key_update_on_ack(const AckFrame& f, Time now);
  bool tx_key_phase() const { return kp_.info.tx_generation & 1; }
  // paths (conn_paths.cc)
  bool on_datagram_path(const Path& path, size_t bytes);
  void on_packet_path(Bytes dcid);
  void after_packet_path(uint64_t pn, bool largest, Time now);
  void on_path_challenge(const PathChallengeFrame& f, Time now);
  void on_path_response(const PathResponseFrame& f, Time now);
  PathRecord* find_path(const Path& p);
  PathRecord& active_path();
  PathRecord* add_path(const Path& p, PathRecord::Purpose purpose);
  bool pick_fresh_peer_cid(PathRecord& rec);
  void retire_peer_cid(uint64_t seq);
  void start_validation(PathRecord& rec, Time now);
  void validation_failed(size_t index, Time now);
  void switch_path(size_t index, Time now);
  void peer_migrated(size_t index, Time now);
  void sync_path_bytes();
  bool path_amplification_limited() const;
  size_t path_amplification_budget() const;
  bool ack_blocked_by_amplification() const;
  size_t build_path_packet(MutBytes out, PathRecord& rec, size_t probe_size, Time now);
  void setup_preferred_address();
  void add_preferred_address(TransportParameters& tp) const;
  Status on_peer_params_applied(Time now);
  void start_preferred_address(Time now);
  void reset_path_state(bool same_hosts, Time now);
  // hooks into send() (probes, key update, ECN marks), on_ack(), losses, timers
  bool pre_send(MutBytes out, SendBatch& b, Time now);
  void post_send(const SendBatch& b, uint64_t first_app_pn);
  Status before_ack(PnSpace space, const AckFrame& f);
  void after_ack(PnSpace space, const AckFrame& f, Time now);
  void note_lost(PnSpace space, const std::vector<SentPacket>& lost);
  Time aux_deadline() const;
  void on_aux_timeout(Time now);
  // ECN (conn_ecn.cc)
  const AckFrame& ecn_filter_ack(PnSpace space, const AckFrame& f, AckFrame& scratch) const;
  void ecn_on_ack(const AckFrame& f);
  Ecn ecn_mark() const;
  // PMTU (conn_pmtud.cc)
  bool pmtud_send_probe(MutBytes out, SendBatch& b, Time now);
  void pmtud_on_ack();
  void pmtud_check_black_hole();
  void set_packet_size(size_t size);
  size_t base_packet_size() const;

  // connection IDs (conn_cids.cc)
  void issue_cids();
  Status use_peer_cid(uint64_t retire_prior_to);
  Status retire_peer_seq(uint64_t seq);

  // memory of idle connections (conn_memory.cc)
  void arm_compaction(Time now);
  void compact(Time now);
  bool release_tls();

  // timers (conn_timers.cc)
  void reset_idle_timer(Time now);
  // ACK rate of a bulk receiver, from the RTT (ack_frequency.cc).
  void update_ack_interval();
  Duration pto() const;
  void enter_closing(const Error& e, Time now, std::string reason);
  void enter_draining(Time now);
  void finish_close();

  bool closing_or_closed() const;
  void emit(Event e) { events_.push_back(std::move(e)); }
  void emit_closed();
  void close_with_error(const Error& e, Time now);

  ConnectionConfig cfg_;
  Role role_;
  Random& rng_;
  uint32_t version_;
  State state_ = State::handshaking;
  Path path_;

  // Connection IDs (RFC 9000 §5.1).
  ConnectionId original_dcid_;  // the client's first DCID
  ConnectionId local_scid_;     // our SCID in long headers
  ConnectionId peer_initial_scid_;
  ConnectionId dcid_;           // the peer CID we send to
  bool have_peer_scid_ = false;
  std::vector<LocalCid> local_cids_;
  uint64_t next_local_seq_ = 0;
  std::vector<PeerCid> peer_cids_;
  uint64_t active_peer_seq_ = 0;
  uint64_t peer_retire_prior_to_ = 0;
  std::set<uint64_t> retired_peer_seqs_;  // RETIRE_CONNECTION_ID sent once each
  std::vector<ConnectionId> cids_added_, cids_removed_;
  std::array<uint8_t, 32> reset_key_{};

  std::array<Space, kNumPnSpaces> spaces_;
  std::unique_ptr<TlsSession> tls_;
  TransportParameters local_tp_, peer_tp_;
  bool peer_tp_applied_ = false;
  bool handshake_complete_ = false;
  bool handshake_confirmed_ = false;
  bool address_validated_ = false;  // server: the client proved its address
  bool handshake_done_event_ = false;

  LossDetector recovery_;
  Pacer pacer_;
  AckOutcome ack_outcome_;
  TimeoutOutcome timeout_outcome_;
  StreamMap streams_;
  SendCredit conn_credit_;  // the peer's MAX_DATA
  RecvWindow conn_window_;  // our MAX_DATA
  Pending pending_;
  CompactQueue<std::vector<uint8_t>> datagrams_out_;
  size_t datagrams_out_bytes_ = 0;
  CompactQueue<Event> events_;

  uint64_t bytes_received_ = 0, bytes_sent_ = 0;  // for the 3x amplification limit
  size_t max_packet_size_;
  Duration idle_timeout_;
  Time idle_deadline_ = kTimeInfinite;
  Time close_deadline_ = kTimeInfinite;
  Time keep_alive_deadline_ = kTimeInfinite;
  Time compact_deadline_ = kTimeInfinite;  // conn_memory.cc
  Scheduling sched_;
  Time last_ack_eliciting_sent_after_rx_{};
  bool ack_eliciting_sent_since_rx_ = false;

  // Closing state (RFC 9000 §10.2).
  CloseInfo close_info_;
  Error close_error_;
  std::string close_reason_;
  bool close_pending_ = false;  // a CONNECTION_CLOSE must go out
  bool closed_event_sent_ = false;
  bool sending_close_ = false;  // send() is building the CONNECTION_CLOSE
  Time pacing_deadline_ = kTimeInfinite;
  size_t batch_index_ = 0;
  bool rx_datagram_small_ = false;  // the datagram being processed is < 1200 bytes  // datagram index within the current send() batch

  ConnectionStats stats_;
  Qlog qlog_;

  // Version negotiation (conn_version.cc).
  uint32_t original_version_ = 0;
  bool vn_received_ = false;      // client: restarted after Version Negotiation
  uint32_t vn_chosen_ = 0;        // client: the version picked from that packet
  bool client_hello_done_ = false;  // server: first flight inspected (RFC 9368 §2.3)
  std::vector<uint8_t> client_hello_buf_;
  std::optional<PacketCipher> initial_rx_original_;  // server: original-version Initials
  std::optional<InitialCiphers> pending_initial_;     // client: a version switch on trial
  // Retry and tokens (conn_retry.cc).
  bool retry_received_ = false;
  ConnectionId retry_scid_;
  std::optional<ConnectionId> retry_original_dcid_;  // server: from the Retry token
  bool token_validated_ = false;                     // server: the Initial's token was valid
  std::vector<uint8_t> initial_token_;               // client: sent in our Initials
  CompactQueue<std::vector<uint8_t>> new_tokens_;    // client: from NEW_TOKEN frames
  std::vector<uint8_t> new_token_out_;               // server: to send in NEW_TOKEN
  bool new_token_pending_ = false, new_token_queued_ = false;
  // Resumption and 0-RTT (conn_early_data.cc).
  std::optional<PacketCipher> zero_rtt_tx_, zero_rtt_rx_;
  std::unique_ptr<TransportParameters> remembered_tp_;  // client: from resume_session
  bool early_data_attempted_ = false;
  bool early_data_outcome_ = false;  // client: acceptance or rejection handled
  bool tickets_bound_ = false;       // server: session context carries version_

  // Key update (conn_key_update.cc).
  KeyPhaseState kp_;
  // Paths (conn_paths.cc): paths_[0] is the active path once any exists.
  std::vector<PathRecord> paths_;
  std::optional<Path> fallback_path_;  // last validated path while the active one is checked
  Path rx_path_;                   // path of the datagram being processed
  size_t rx_bytes_ = 0;            // its size, counted once for its path
  bool rx_non_probing_ = false;    // the packet being processed had a non-probing frame
  uint64_t sent_synced_ = 0;       // bytes_sent_ already added to the active path
  bool ack_largest_increased_ = false;  // the ACK being processed raised the largest acked
  bool preferred_started_ = false;
  PathStats path_stats_;
  std::vector<StatelessResetToken> published_tokens_;
  uint64_t published_sig_ = UINT64_MAX;  // what published_tokens_ were computed from
  // ECN (conn_ecn.cc) and PMTU (conn_pmtud.cc).
  EcnValidator ecn_{cfg_.ecn};
  uint64_t ecn_ce_events_ = 0;
  Pmtud pmtud_;
  bool pmtud_started_ = false;
};

}  // namespace wt::quic
