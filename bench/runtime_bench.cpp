// Runtime benchmarks, the gofer side of bench/go/runtime/runtime_test.go:
// the same cases measured the same way. bench/run-runtime-bench runs both
// side by side and prints gofer/Go ratios.
//
// Each benchmark runs its measured loop inside gofer::run with the number of
// Ps given as the argument (procs 1 and 2), like `go test -cpu 1,2`.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "gofer/chan.h"
#include "gofer/net.h"
#include "gofer/runtime.h"
#include "gofer/sync.h"
#include "gofer/time.h"

namespace {

// Spawn+join of 1,000,000 goroutines, reported per goroutine.
void BM_SpawnJoin(benchmark::State& state) {
  constexpr int kN = 1'000'000;
  gofer::run(
      [&] {
        for (auto _ : state) {
          gofer::WaitGroup wg;
          wg.add(kN);
          for (int k = 0; k < kN; ++k) gofer::go([&wg] { wg.done(); });
          wg.wait();
        }
      },
      {.procs = static_cast<int>(state.range(0))});
  state.counters["ns/goroutine"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * kN,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// Unbuffered channel ping-pong: one iteration is one round trip.
void BM_PingPong(benchmark::State& state) {
  gofer::run(
      [&] {
        auto ping = gofer::make_chan<int>();
        auto pong = gofer::make_chan<int>();
        gofer::go([ping, pong] {
          for (int v : ping) pong.send(v);
        });
        int i = 0;
        for (auto _ : state) {
          ping.send(i++);
          benchmark::DoNotOptimize(pong.recv());
        }
        ping.close();
      },
      {.procs = static_cast<int>(state.range(0))});
}

// yield() with a partner goroutine that yields too: one iteration is one
// yield of the benchmark goroutine (Go's Gosched in the same shape).
void BM_Yield(benchmark::State& state) {
  gofer::run(
      [&] {
        std::atomic<bool> stop{false};
        gofer::WaitGroup wg;
        wg.add(1);
        gofer::go([&] {
          while (!stop.load(std::memory_order_relaxed)) gofer::yield();
          wg.done();
        });
        for (auto _ : state) gofer::yield();
        stop = true;
        wg.wait();
      },
      {.procs = static_cast<int>(state.range(0))});
}

double rss_bytes() {
  long size = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

// RSS growth per parked goroutine with 1,000,000 parked on a channel.
void BM_ParkedRSS(benchmark::State& state) {
  constexpr int kN = 1'000'000;
  double per = 0;
  gofer::run(
      [&] {
        for (auto _ : state) {
          double before = rss_bytes();
          auto block = gofer::make_chan<int>();
          gofer::WaitGroup started, done;
          started.add(kN);
          done.add(kN);
          for (int k = 0; k < kN; ++k) {
            gofer::go([&, block] {
              started.done();
              block.recv();
              done.done();
            });
          }
          started.wait();
          per = (rss_bytes() - before) / kN;
          block.close();
          done.wait();
        }
      },
      {.procs = static_cast<int>(state.range(0))});
  state.counters["bytes/goroutine"] = per;
}

double cpu_ns() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3;
}

// 100,000 goroutines sleeping 10 ms in a loop for 2 s: wake-ups achieved and
// CPU time per wake-up.
void BM_TimerWakeups(benchmark::State& state) {
  constexpr int kN = 100'000;
  double wakeups = 0, cpu_per = 0;
  gofer::run(
      [&] {
        for (auto _ : state) {
          std::atomic<long> total{0};
          auto stop = std::chrono::steady_clock::now() + std::chrono::seconds(2);
          double c0 = cpu_ns();
          gofer::WaitGroup wg;
          wg.add(kN);
          for (int k = 0; k < kN; ++k) {
            gofer::go([&] {
              long local = 0;
              while (std::chrono::steady_clock::now() < stop) {
                gofer::sleep_for(std::chrono::milliseconds(10));
                ++local;
              }
              total.fetch_add(local);
              wg.done();
            });
          }
          wg.wait();
          wakeups = static_cast<double>(total.load());
          cpu_per = (cpu_ns() - c0) / wakeups;
        }
      },
      {.procs = static_cast<int>(state.range(0))});
  state.counters["wakeups"] = wakeups;
  state.counters["cpu-ns/wakeup"] = cpu_per;
}

// A keep-alive server's per-request step: a connection's read deadline
// pushed 250 ms ahead of now (idle timeout) while nothing waits on it. One
// iteration is one set_read_deadline.
void BM_DeadlinePush(benchmark::State& state) {
  gofer::run(
      [&] {
        auto [ln, lerr] = gofer::net::listen("tcp4", "127.0.0.1:0");
        if (lerr) return state.SkipWithError("listen failed");
        auto [c, derr] = gofer::net::dial("tcp", ln.addr().to_string(), std::chrono::seconds(5));
        if (derr) return state.SkipWithError("dial failed");
        for (auto _ : state) {
          gofer::Error err =
              c.set_read_deadline(gofer::net::Clock::now() + std::chrono::milliseconds(250));
          benchmark::DoNotOptimize(err);
        }
      },
      {.procs = static_cast<int>(state.range(0))});
}

BENCHMARK(BM_SpawnJoin)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PingPong)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_Yield)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_ParkedRSS)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TimerWakeups)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DeadlinePush)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
