#include "lib/io/loop_thread.h"

#include <future>

namespace wt::io {

Result<std::unique_ptr<LoopThread>> LoopThread::start(const LoopOptions& options,
                                                      std::function<Status(Loop&)> setup) {
  std::unique_ptr<LoopThread> t(new LoopThread());
  std::promise<Status> ready;
  auto started = ready.get_future();
  LoopThread* self = t.get();
  t->thread_ = std::thread([self, options, setup = std::move(setup), ready = std::move(ready)]() mutable {
    auto loop = Loop::create(options);
    if (!loop) {
      ready.set_value(loop.error());
      return;
    }
    self->loop_ = std::move(loop).value();
    Status s = setup ? setup(*self->loop_) : Status{};
    ready.set_value(s);
    if (s) self->loop_->run();
  });
  Status s = started.get();
  if (!s) {
    t->thread_.join();
    return s.error();
  }
  return t;
}

void LoopThread::stop() {
  if (loop_) loop_->stop();
}

void LoopThread::join() {
  if (thread_.joinable()) thread_.join();
}

LoopThread::~LoopThread() {
  stop();
  join();
}

}  // namespace wt::io
