#pragma once

// Small Asio helpers for the streaming server's coroutines. Everything here assumes one
// io_context thread owns the objects it touches (the server runs a single I/O thread), except
// Lifeline and RunBlocking, which exist to cross from other threads into it safely.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace cricket::cri::streaming {

namespace asio = boost::asio;
using asio::awaitable;

// A level-free wake-up for coroutines on one executor: Wait() suspends until the next Notify().
// Callers loop on their condition (`while (!ready) co_await ev.Wait();`); because everything
// runs on one thread, nothing can happen between the check and the wait.
class AsyncEvent {
 public:
  explicit AsyncEvent(const asio::any_io_executor& ex)
      : timer_(ex, asio::steady_timer::time_point::max()) {}

  awaitable<void> Wait() {
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  // Wakes every current waiter.
  void Notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

// Suspends the calling coroutine for `d`.
inline awaitable<void> SleepFor(std::chrono::steady_clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Shared by the server and the threads it starts: a thread posts to the io_context only while
// the server is alive, so a runtime call that outlives the server cannot touch a dead context.
class Lifeline {
 public:
  explicit Lifeline(asio::any_io_executor ex) : ex_(std::move(ex)) {}

  // Posts `fn` to the executor unless Cut() was called. Thread-safe.
  void Post(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    if (alive_) {
      asio::post(ex_, std::move(fn));
    }
  }

  // After Cut() returns no more work reaches the executor.
  void Cut() {
    std::lock_guard lock(mu_);
    alive_ = false;
  }

 private:
  std::mutex mu_;
  bool alive_ = true;  // Guarded by mu_.
  asio::any_io_executor ex_;
};

// Runs the blocking `fn` on a thread of its own and resumes the coroutine on its executor with
// the result. Used for runtime calls (Exec blocks until the process exits). If the server dies
// first the coroutine is destroyed with its io_context and the result is dropped. Returns
// `if_no_thread` when no thread can be started (std::thread reports that by throwing).
template <typename T>
awaitable<T> RunBlocking(std::shared_ptr<Lifeline> lifeline, std::function<T()> fn,
                         T if_no_thread) {
  auto ex = co_await asio::this_coro::executor;
  struct State {
    explicit State(const asio::any_io_executor& e) : done(e) {}
    std::optional<T> result;
    AsyncEvent done;
  };
  auto state = std::make_shared<State>(ex);
  std::weak_ptr<State> weak = state;
  bool started = true;
  try {
    std::thread([lifeline, weak, fn = std::move(fn)]() mutable {
      T result = fn();
      lifeline->Post([weak, result = std::make_shared<T>(std::move(result))]() mutable {
        if (auto s = weak.lock()) {
          s->result = std::move(*result);
          s->done.Notify();
        }
      });
    }).detach();
  } catch (const std::system_error&) {
    started = false;
  }
  if (!started) {
    co_return std::move(if_no_thread);
  }
  while (!state->result) {
    co_await state->done.Wait();
  }
  co_return std::move(*state->result);
}

}  // namespace cricket::cri::streaming
