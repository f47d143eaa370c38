// A Loop on its own thread, for servers that run N loops on N threads (each
// with its own SO_REUSEPORT socket on the same address).
#pragma once
#include <functional>
#include <memory>
#include <thread>

#include "lib/io/loop.h"

namespace wt::io {

class LoopThread {
 public:
  // Creates the loop on a new thread, runs `setup` there (bind sockets,
  // create handlers), then runs the loop until stop(). Fails with the error
  // of Loop::create or of `setup`.
  static Result<std::unique_ptr<LoopThread>> start(const LoopOptions& options,
                                                   std::function<Status(Loop&)> setup);
  ~LoopThread();  // stop() and join()

  Loop& loop() { return *loop_; }
  void stop();
  void join();

 private:
  LoopThread() = default;
  std::unique_ptr<Loop> loop_;
  std::thread thread_;
};

}  // namespace wt::io
