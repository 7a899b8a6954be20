// Sleep, Timer, Ticker, after and after_func over runtime::Timer.
//
// TimerImpl couples one runtime::Timer with its delivery (a try_send on a
// buffered-1 channel, or a goroutine running f). Stale fires are the whole
// difficulty: the runtime may have picked a fire for the old arming just
// before stop()/reset(), and that fire must not deliver afterwards. So every
// arming has a sequence number (runtime::Timer hands it to the callback) and
// TimerImpl::mu_ serialises "check the sequence number and deliver" (fire)
// against "re-arm or disarm, then drain the channel" (stop/reset): a fire
// either delivers before stop/reset drains it, or sees a stale number.
//
// Rejected: stop_sync() in stop/reset, which would wait for a running fire
// instead of letting it discard itself; it spins on the timer's state and
// would have to do so while holding mu_, which fire needs.
#include "gofer/time.h"

#include <limits>
#include <mutex>
#include <stdexcept>

#include "gofer/runtime.h"
#include "runtime/timer.h"
#include "sync/parker.h"

namespace gofer {

namespace {

static_assert(std::is_same_v<std::chrono::steady_clock::duration, std::chrono::nanoseconds>,
              "steady_clock must count CLOCK_MONOTONIC nanoseconds like runtime::nanotime");

// d from now on the nanotime() clock, saturating instead of overflowing.
std::int64_t when_from_now(Duration d) {
  const std::int64_t now = runtime::nanotime();
  if (d.count() <= 0) return now;
  if (d.count() > std::numeric_limits<std::int64_t>::max() - now) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return now + d.count();
}

TimePoint now_point() noexcept {
  return TimePoint(Duration(runtime::nanotime()));
}

}  // namespace

void sleep_for(Duration d) {
  if (d.count() <= 0) return;
  runtime::sleep_until_ns(when_from_now(d));
}

void sleep_until(TimePoint deadline) {
  runtime::sleep_until_ns(deadline.time_since_epoch().count());
}

namespace detail {

class TimerImpl : public std::enable_shared_from_this<TimerImpl> {
 public:
  // `chan`: where fires send the time (not owned: Timer and Ticker hold a
  // reference beside the impl, after() makes the channel own the impl);
  // nullptr for after_func, whose fires start `f`.
  TimerImpl(ChanCore* chan, std::function<void()> f) noexcept
      : chan_(chan), f_(std::move(f)), timer_(&TimerImpl::fire, this) {}

  // Both return true if the timer was armed, or had fired but its value was
  // still unreceived (and is now discarded).
  bool stop() {
    std::shared_ptr<TimerImpl> keepalive;  // released after unlocking
    std::lock_guard<std::mutex> lock(mu_);
    const bool pending = timer_.stop();
    seq_ = 0;
    keepalive = std::move(keepalive_);
    return drain_locked() || pending;
  }
  bool reset(std::int64_t when, std::int64_t period) {
    std::lock_guard<std::mutex> lock(mu_);
    std::uint64_t seq = 0;
    const bool pending = timer_.reset(when, period, &seq);
    seq_ = seq;
    if (f_) keepalive_ = shared_from_this();
    return drain_locked() || pending;
  }

 private:
  // Runs on a scheduler stack: must not park; try_send never does.
  static void fire(void* arg, std::uint64_t seq) noexcept {
    auto* self = static_cast<TimerImpl*>(arg);
    std::unique_lock<std::mutex> lock(self->mu_);
    if (seq != self->seq_) return;  // stopped or re-armed since this fire was picked
    if (self->chan_ != nullptr) {
      // A full channel drops the value (a Ticker's slow receiver).
      TimePoint now = now_point();
      self->chan_->try_send(&now);
      return;
    }
    self->seq_ = 0;  // one-shot: fired
    std::shared_ptr<TimerImpl> keepalive = std::move(self->keepalive_);
    lock.unlock();
    // The goroutine keeps the impl (and so f_) alive while f runs.
    gofer::go([keepalive = std::move(keepalive)] { keepalive->f_(); });
  }

  bool drain_locked() {
    if (chan_ == nullptr) return false;
    Slot<TimePoint> slot;
    return chan_->try_recv(slot.raw()) == TryRecv::received;  // TimePoint: trivial, no destroy
  }

  ChanCore* const chan_;
  const std::function<void()> f_;
  std::mutex mu_;          // serialises fire() against stop()/reset()
  std::uint64_t seq_ = 0;  // guarded by mu_: the arming whose fires deliver; 0: none
  // guarded by mu_: after_func timers keep themselves alive while armed.
  std::shared_ptr<TimerImpl> keepalive_;
  // Last member, so destroyed first: its destructor stops the timer and waits
  // for a fire() in progress, which still uses the members above.
  runtime::Timer timer_;
};

}  // namespace detail

Timer::Timer(Duration d)
    : c_(make_chan<TimePoint>(1)),
      impl_(std::make_shared<detail::TimerImpl>(chan_ref(c_).get(), nullptr)) {
  impl_->reset(when_from_now(d), 0);
}

Timer::Timer(Duration d, std::function<void()> f)
    : impl_(std::make_shared<detail::TimerImpl>(nullptr, std::move(f))) {
  impl_->reset(when_from_now(d), 0);
}

bool Timer::stop() {
  return impl_->stop();
}
bool Timer::reset(Duration d) {
  return impl_->reset(when_from_now(d), 0);
}

Timer after_func(Duration d, std::function<void()> f) {
  if (!f) throw std::invalid_argument("after_func: empty function");
  return Timer(d, std::move(f));
}

RecvChan<TimePoint> after(Duration d) {
  Chan<TimePoint> ch = make_chan<TimePoint>(1);
  detail::ChanCore* core = chan_ref(ch).get();
  auto* impl = new detail::TimerImpl(core, nullptr);
  core->own(impl, [](void* p) noexcept { delete static_cast<detail::TimerImpl*>(p); });
  impl->reset(when_from_now(d), 0);
  return ch;
}

Ticker::Ticker(Duration period) : c_(make_chan<TimePoint>(1)) {
  if (period.count() <= 0) throw std::invalid_argument("non-positive interval for Ticker");
  impl_ = std::make_shared<detail::TimerImpl>(chan_ref(c_).get(), nullptr);
  impl_->reset(when_from_now(period), period.count());
}

void Ticker::stop() {
  impl_->stop();
}

void Ticker::reset(Duration period) {
  if (period.count() <= 0) throw std::invalid_argument("non-positive interval for Ticker.reset");
  impl_->reset(when_from_now(period), period.count());
}

}  // namespace gofer
