// The examples of runtime.h, chan.h, sync.h, time.h, context.h and error.h,
// as one program that CI compiles and runs (check_excerpts.cpp keeps the
// headers' copies equal to these lines).
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include "gofer/chan.h"
#include "gofer/context.h"
#include "gofer/error.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"

using namespace std::chrono_literals;

namespace {

int total = 0;
void use(int v) {
  total += v;
}
void work() {}
void handle(int job) {
  total += job;
}
int polls = 0;
bool poll() {
  return ++polls == 3;
}
void worker(const gofer::Context& ctx) {
  (void)ctx.err();
}

// clang-format off
void runtime_h() {
  gofer::run([] {
    gofer::go([] { work(); });  // a goroutine: plain blocking code on its own stack
  });                           // returns when the main goroutine returns
}

void chan_h() {
  auto ch = gofer::make_chan<int>(16);      // buffered; make_chan<int>() is unbuffered
  gofer::go([ch] { for (int i = 0; i < 3; ++i) ch.send(i); ch.close(); });
  for (int v : ch) use(v);                  // until closed and drained
  auto [v, ok] = ch.recv();                 // ok == false: closed and drained
  if (ok || v != 0) std::abort();

  auto in = gofer::make_chan<int>(1);
  auto out = gofer::make_chan<int>(1);
  int x = 7;
  in.send(1);
  int i = gofer::select(
      gofer::recv_case(in, [&](int v, bool ok) { if (ok) use(v); }),
      gofer::send_case(out, x, [&] { use(x); }),
      gofer::default_case([&] { std::abort(); }));  // i: index of the case that ran
  if (i != 0 && i != 1) std::abort();
}

// select_switch: the loop form of chan.h.
void select_switch(gofer::Chan<int> in, gofer::Chan<int> quit) {
  for (;;) {
  int v = 0;
  bool ok = false;
  switch (gofer::select(gofer::recv_to(in, v, ok), gofer::recv_case(quit))) {
    case 0: if (!ok) return; use(v); break;   // case v, ok := <-in:
    case 1: return;                           // case <-quit:
  }
  }
}

void sync_h() {
  int counter = 0;
  int n = 4;
  gofer::Mutex mu;
  { std::lock_guard lock(mu); ++counter; }   // Mutex is a C++ Lockable

  gofer::WaitGroup wg;
  for (int i = 0; i < n; ++i) { wg.add(1); gofer::go([&] { work(); wg.done(); }); }
  wg.wait();

  bool ready = true;
  gofer::Cond cond;
  std::unique_lock lock(mu);
  while (!ready) cond.wait(lock);     // or cond.wait(lock, [&] { return ready; })
}

void time_h() {
  auto work = gofer::make_chan<int>(1);
  bool timed_out = false;
  gofer::sleep_for(10ms);                         // parks the goroutine, not the thread
  gofer::select(gofer::recv_case(work, [&](int job) { handle(job); }),
                gofer::recv_case(gofer::after(1s), [&] { timed_out = true; }));
  gofer::Ticker tick(100ms);
  for (auto t : tick.c()) { if (poll()) break; }  // the channel is never closed, as in Go
  if (!timed_out) std::abort();
}

inline const gofer::ContextKey<std::string> request_id;

void context_h(const gofer::Context& parent) {
  auto results = gofer::make_chan<int>(1);
  std::error_code err;
  auto [ctx, cancel] = gofer::with_timeout(parent, 2s);
  gofer::go([ctx] { worker(ctx); });
  results.send(1);
  gofer::select(gofer::recv_case(results, [&](int r) { use(r); }),
                gofer::recv_case(ctx.done(), [&] { err = ctx.err(); }));
  cancel();  // always call it (idempotent): it frees the child's link in its parent
}

void with_cancel_h(const gofer::Context& parent) {
  auto [ctx, cancel] = gofer::with_cancel(parent);
  cancel();
}

gofer::Error error_h(gofer::net::Conn& conn) {
  char buf[64];
  auto [n, err] = conn.read(buf);
  if (err == gofer::net::errc::eof) return {};  // the peer hung up
  if (err) return err;
  use(static_cast<int>(n));
  return {};
}
// clang-format on

}  // namespace

int main() {
  runtime_h();
  gofer::run([] {
    chan_h();
    auto in = gofer::make_chan<int>(2), quit = gofer::make_chan<int>();
    in.send(5);
    in.close();
    select_switch(in, quit);
    sync_h();
    time_h();
    context_h(gofer::background());
    with_cancel_h(gofer::background());
    gofer::net::Conn empty;
    if (!error_h(empty)) std::abort();  // an empty Conn fails (EINVAL)
  });
  std::printf("goroutines snippets: ok (%d)\n", total);
  return 0;
}
