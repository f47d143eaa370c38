// A simulator node around a quic::Endpoint, plus an application hook that
// runs before every send() poll (read events, write streams) and an optional
// application wake-up time (e.g. "send the next datagram at t").
#pragma once
#include <functional>
#include <memory>

#include "quic/endpoint.h"
#include "test/sim/sim_node.h"

namespace wt::sim {

class EndpointNode : public SimNode {
 public:
  explicit EndpointNode(const quic::EndpointConfig& config)
      : ep_(std::make_unique<quic::Endpoint>(config)) {}

  quic::Endpoint& endpoint() { return *ep_; }
  // A restart that loses every connection (added for the stateless reset
  // test): a fresh endpoint with `config` replaces the old one.
  void restart(const quic::EndpointConfig& config) { ep_ = std::make_unique<quic::Endpoint>(config); }

  // Application logic; called with the current time before each send().
  std::function<void(Time)> app;
  // When the application wants to run next without network activity.
  Time app_wakeup = kTimeInfinite;

  void receive(MutBytes datagram, const Path& path, Ecn ecn, Time now) override {
    ep_->receive(datagram, path, ecn, now);
  }
  SendBatch send(MutBytes out, Time now) override {
    if (app) app(now);
    return ep_->send(out, now);
  }
  Time next_timeout() const override { return std::min(ep_->next_timeout(), app_wakeup); }
  void on_timeout(Time now) override {
    if (now >= app_wakeup) app_wakeup = kTimeInfinite;  // the app runs in send()
    if (ep_->next_timeout() <= now) ep_->on_timeout(now);
  }

 private:
  std::unique_ptr<quic::Endpoint> ep_;
};

}  // namespace wt::sim
