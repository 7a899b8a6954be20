// Channels and select, as in Go.
//
//   auto ch = gofer::make_chan<int>(16);      // buffered; make_chan<int>() is unbuffered
//   gofer::go([ch] { for (int i = 0; i < 3; ++i) ch.send(i); ch.close(); });
//   for (int v : ch) use(v);                  // until closed and drained
//   auto [v, ok] = ch.recv();                 // ok == false: closed and drained
//
//   int i = gofer::select(
//       gofer::recv_case(in, [&](int v, bool ok) { ... }),
//       gofer::send_case(out, x, [&] { ... }),
//       gofer::default_case([&] { ... }));  // i: index of the case that ran
//
// select returns the position of the case that fired, so a loop can also
// switch on it, with `break`, `continue` and `return` of its own, as Go's
// select statement allows (recv_to stores what a case receives; the whole
// example is examples/snippets/goroutines.cpp):
//
//   int v = 0;
//   bool ok = false;
//   switch (gofer::select(gofer::recv_to(in, v, ok), gofer::recv_case(quit))) {
//     case 0: if (!ok) return; use(v); break;   // case v, ok := <-in:
//     case 1: return;                           // case <-quit:
//   }
//
// The model is Go's runtime/chan.go: a channel is a lock, a ring buffer and
// two queues of waiting goroutines whose records live on their own stacks. A
// sender that finds a parked receiver moves its value straight into the
// receiver's storage (and vice versa), so an unbuffered hand-off costs one
// move and one wakeup. Every blocking operation parks the goroutine, never
// the thread; they must be called on a goroutine (try_*, len, cap and close
// may be called anywhere).
//
// Chan<T> is a reference, as Go's chan: copies share one channel; the
// channel lives as long as any copy. A default-constructed Chan is nil:
// send and receive on it park forever, in select its cases never fire, close
// throws. RecvChan<T> / SendChan<T> are Go's <-chan T / chan<- T: views that
// allow only one direction (a Chan converts to either).
//
// Unlike Go:
//   - Misuse that panics in Go (send on a closed channel, closing a closed
//     or nil channel) throws ChanClosedError, a std::logic_error.
//   - T must be nothrow move-constructible (elements are moved under the
//     channel's lock and across goroutines, where a throwing move could not
//     be undone); receive operations also need T default-constructible (the
//     zero value a closed channel yields).
//   - try_send/try_recv exist for Go's one-case select with default.
//   - Timer channels and context done channels hand out RecvChan.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "gofer/detail/chan_core.h"

namespace gofer {

// Thrown where Go panics: "send on closed channel", "close of closed
// channel", "close of nil channel".
class ChanClosedError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Go's struct{}: the element of channels that only signal (context done).
struct Empty {
  friend bool operator==(Empty, Empty) noexcept { return true; }
};

// Result of recv(): use as `auto [v, ok] = ch.recv();`.
template <class T>
struct RecvResult {
  T value;  // value-initialised when !ok
  bool ok;  // false: the channel is closed and drained
};

enum class SendStatus : std::uint8_t {
  sent,    // the value was delivered to a receiver or the buffer
  full,    // it would have blocked (or the channel is nil); the value is untouched
  closed,  // the channel is closed; the value is untouched (no exception)
};
enum class RecvStatus : std::uint8_t {
  received,  // value holds an element that was sent
  empty,     // it would have blocked (or the channel is nil)
  closed,    // the channel is closed and drained
};
template <class T>
struct TryRecvResult {
  T value;  // value-initialised unless status == received
  RecvStatus status;
};

template <class T>
class Chan;
template <class T>
class RecvChan;
template <class T>
class SendChan;

// Go's make(chan T, capacity); capacity 0 makes an unbuffered channel.
// Throws std::length_error if the buffer size overflows.
template <class T>
Chan<T> make_chan(std::size_t capacity = 0);

namespace detail {

// Raw storage for one T that a channel operation may construct into.
template <class T>
struct Slot {
  alignas(T) unsigned char bytes[sizeof(T)];
  void* raw() noexcept { return bytes; }
  T* get() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
  // Moves the constructed value out and destroys it in place.
  T take() noexcept {
    T* p = get();
    T v(std::move(*p));
    p->~T();
    return v;
  }
};

template <class T>
concept ChanElement = std::is_nothrow_move_constructible_v<T> && std::is_nothrow_destructible_v<T>;

// What Chan, RecvChan and SendChan share: the reference and the operations,
// each view re-exporting its direction's half.
template <class T>
class ChanBase {
  static_assert(ChanElement<T>, "gofer::Chan<T>: T must be nothrow move-constructible");

 public:
  ChanBase() noexcept = default;

  std::size_t len() const noexcept { return ref_.get() ? ref_.get()->len() : 0; }
  std::size_t cap() const noexcept { return ref_.get() ? ref_.get()->cap() : 0; }
  // False for a nil channel.
  explicit operator bool() const noexcept { return ref_.get() != nullptr; }
  // Same channel (Go's ==); all nil channels are equal.
  friend bool operator==(const ChanBase& a, const ChanBase& b) noexcept {
    return a.ref_.get() == b.ref_.get();
  }
  // For select cases (found by ADL).
  friend ChanRef chan_ref(const ChanBase& c) noexcept { return c.ref_; }

 protected:
  explicit ChanBase(ChanRef ref) noexcept : ref_(std::move(ref)) {}
  ChanCore* core() const noexcept { return ref_.get(); }
  const ChanRef& ref() const noexcept { return ref_; }

  // --- send half ---
  void send(T&& v) const {
    if (!core()) block_forever_send_nil();
    core()->send(&v);
  }
  void send(const T& v) const requires std::copy_constructible<T> {
    T copy(v);
    send(std::move(copy));
  }
  // Moves from v only if the result is sent.
  SendStatus try_send(T&& v) const noexcept {
    if (!core()) return SendStatus::full;
    return static_cast<SendStatus>(core()->try_send(&v));
  }
  SendStatus try_send(const T& v) const requires std::copy_constructible<T> {
    T copy(v);
    return try_send(std::move(copy));
  }
  void close() const {
    if (!core()) throw ChanClosedError("close of nil channel");
    core()->close();
  }

  // --- receive half ---
  RecvResult<T> recv() const {
    static_assert(std::is_default_constructible_v<T>, "recv needs a default-constructible T");
    if (!core()) block_forever_recv_nil();
    Slot<T> slot;
    if (core()->recv(slot.raw())) return RecvResult<T>{slot.take(), true};
    return RecvResult<T>{T(), false};
  }
  TryRecvResult<T> try_recv() const {
    static_assert(std::is_default_constructible_v<T>, "try_recv needs a default-constructible T");
    if (!core()) return TryRecvResult<T>{T(), RecvStatus::empty};
    Slot<T> slot;
    auto status = static_cast<RecvStatus>(core()->try_recv(slot.raw()));
    if (status == RecvStatus::received) return TryRecvResult<T>{slot.take(), status};
    return TryRecvResult<T>{T(), status};
  }

 public:
  // Input iterator for range-for: receives until the channel is closed and
  // drained (Go's `for v := range ch`). The reference stays valid until the
  // next increment; move from it to keep a move-only element.
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = T&;

    T& operator*() noexcept { return *current_; }
    T* operator->() noexcept { return &*current_; }
    iterator& operator++() {
      current_.reset();
      Slot<T> slot;
      if (!chan_) block_forever_recv_nil();
      if (chan_->recv(slot.raw())) current_.emplace(slot.take());
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return !it.current_.has_value();
    }

   private:
    friend class ChanBase;
    explicit iterator(ChanCore* chan) : chan_(chan) { ++*this; }
    ChanCore* chan_;
    std::optional<T> current_;
  };

 protected:
  iterator begin_impl() const { return iterator(core()); }

 private:
  ChanRef ref_;
};

}  // namespace detail

// A bidirectional channel (Go's chan T).
template <class T>
class Chan : public detail::ChanBase<T> {
  using Base = detail::ChanBase<T>;

 public:
  using value_type = T;

  Chan() noexcept = default;  // nil

  // Parks until a receiver took the value or the buffer had room. Throws
  // ChanClosedError if the channel is or gets closed.
  using Base::send;
  using Base::try_send;
  // Closing wakes every waiting receiver (they get ok == false once the
  // buffer is drained) and every waiting sender (they throw).
  using Base::close;
  // Parks until a value arrives or the channel is closed and drained.
  using Base::recv;
  using Base::try_recv;

  typename Base::iterator begin() const { return this->begin_impl(); }
  std::default_sentinel_t end() const noexcept { return {}; }

  operator RecvChan<T>() const noexcept { return RecvChan<T>(this->ref()); }
  operator SendChan<T>() const noexcept { return SendChan<T>(this->ref()); }

 private:
  template <class U>
  friend Chan<U> make_chan(std::size_t capacity);
  explicit Chan(detail::ChanRef ref) noexcept : Base(std::move(ref)) {}
};

// A receive-only view (Go's <-chan T).
template <class T>
class RecvChan : public detail::ChanBase<T> {
  using Base = detail::ChanBase<T>;

 public:
  using value_type = T;

  RecvChan() noexcept = default;  // nil
  using Base::recv;
  using Base::try_recv;
  typename Base::iterator begin() const { return this->begin_impl(); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  friend class Chan<T>;
  explicit RecvChan(detail::ChanRef ref) noexcept : Base(std::move(ref)) {}
};

// A send-only view (Go's chan<- T). Like Go, close is allowed on it.
template <class T>
class SendChan : public detail::ChanBase<T> {
  using Base = detail::ChanBase<T>;

 public:
  using value_type = T;

  SendChan() noexcept = default;  // nil
  using Base::close;
  using Base::send;
  using Base::try_send;

 private:
  friend class Chan<T>;
  explicit SendChan(detail::ChanRef ref) noexcept : Base(std::move(ref)) {}
};

template <class T>
Chan<T> make_chan(std::size_t capacity) {
  return Chan<T>(detail::ChanRef(detail::ChanCore::make(&detail::elem_ops_for<T>, capacity)));
}

// ---------------------------------------------------------------------------
// select

namespace detail {

struct NoAction {
  void operator()() const noexcept {}
};

// recv_to's action: stores the received value (and ok) into the caller's
// variables.
template <class T>
struct StoreInto {
  T* value;
  bool* ok;
  void operator()(T&& v, bool received) {
    *value = std::move(v);
    if (ok != nullptr) *ok = received;
  }
};

}  // namespace detail

// A receive case; made by recv_case().
template <class T, class F>
class RecvCase {
  static_assert(std::is_default_constructible_v<T>, "recv_case needs a default-constructible T");

 public:
  RecvCase(detail::ChanRef chan, F f) : chan_(std::move(chan)), f_(std::move(f)) {}

  void fill(detail::SelectCaseRaw& raw) {
    raw.chan = chan_.get();
    raw.elem = slot_.raw();
    raw.is_send = false;
  }
  // Runs the action for the received element (or T() if !ok).
  void fire(bool ok) {
    T v = ok ? slot_.take() : T();
    if constexpr (std::is_invocable_v<F&, T&&, bool>) {
      f_(std::move(v), ok);
    } else if constexpr (std::is_invocable_v<F&, T&&>) {
      f_(std::move(v));
    } else {
      static_assert(std::is_invocable_v<F&>, "recv_case action: f(T, bool), f(T) or f()");
      f_();
    }
  }

 private:
  detail::ChanRef chan_;
  F f_;
  detail::Slot<T> slot_;
};

// A send case; made by send_case(). Holds the value until the select ends:
// if another case runs, the value is destroyed unsent.
template <class T, class F>
class SendCase {
 public:
  SendCase(detail::ChanRef chan, T value, F f)
      : chan_(std::move(chan)), value_(std::move(value)), f_(std::move(f)) {}

  void fill(detail::SelectCaseRaw& raw) {
    raw.chan = chan_.get();
    raw.elem = &value_;
    raw.is_send = true;
  }
  void fire(bool) { f_(); }

 private:
  detail::ChanRef chan_;
  T value_;
  F f_;
};

// The default case: runs when no other case is ready.
template <class F>
class DefaultCase {
 public:
  explicit DefaultCase(F f) : f_(std::move(f)) {}
  void fire(bool) { f_(); }

 private:
  F f_;
};

// A receive case; `f` may take (T value, bool ok), (T value) or nothing.
template <class T, class F = detail::NoAction>
RecvCase<T, std::decay_t<F>> recv_case(const Chan<T>& ch, F&& f = {}) {
  return {chan_ref(ch), std::forward<F>(f)};
}
template <class T, class F = detail::NoAction>
RecvCase<T, std::decay_t<F>> recv_case(const RecvChan<T>& ch, F&& f = {}) {
  return {chan_ref(ch), std::forward<F>(f)};
}
// A receive case that, if chosen, moves the value received into `value`
// (T() once the channel is closed and drained) and sets `ok` as recv() does
// — Go's `case v, ok := <-ch:` for a select that is switched on. `value` and
// `ok` must outlive the select; nothing is stored unless this case fires.
template <class T>
RecvCase<T, detail::StoreInto<T>> recv_to(const Chan<T>& ch, T& value, bool& ok) {
  return {chan_ref(ch), detail::StoreInto<T>{&value, &ok}};
}
template <class T>
RecvCase<T, detail::StoreInto<T>> recv_to(const RecvChan<T>& ch, T& value, bool& ok) {
  return {chan_ref(ch), detail::StoreInto<T>{&value, &ok}};
}
// Without ok: `case v := <-ch:`.
template <class T>
RecvCase<T, detail::StoreInto<T>> recv_to(const Chan<T>& ch, T& value) {
  return {chan_ref(ch), detail::StoreInto<T>{&value, nullptr}};
}
template <class T>
RecvCase<T, detail::StoreInto<T>> recv_to(const RecvChan<T>& ch, T& value) {
  return {chan_ref(ch), detail::StoreInto<T>{&value, nullptr}};
}
// A send case; `value` is converted to T at once (as Go evaluates it) and
// sent only if this case is chosen. `f` takes nothing.
template <class T, class U, class F = detail::NoAction>
requires std::constructible_from<T, U&&> SendCase<T, std::decay_t<F>> send_case(const Chan<T>& ch,
                                                                                U&& value,
                                                                                F&& f = {}) {
  return {chan_ref(ch), T(std::forward<U>(value)), std::forward<F>(f)};
}
template <class T, class U, class F = detail::NoAction>
requires std::constructible_from<T, U&&> SendCase<T, std::decay_t<F>> send_case(
    const SendChan<T>& ch, U&& value, F&& f = {}) {
  return {chan_ref(ch), T(std::forward<U>(value)), std::forward<F>(f)};
}
template <class F = detail::NoAction>
DefaultCase<std::decay_t<F>> default_case(F&& f = {}) {
  return DefaultCase<std::decay_t<F>>(std::forward<F>(f));
}

namespace detail {
template <class C>
struct IsDefaultCase : std::false_type {};
template <class F>
struct IsDefaultCase<DefaultCase<F>> : std::true_type {};
template <class C>
struct IsChanCase : std::false_type {};
template <class T, class F>
struct IsChanCase<RecvCase<T, F>> : std::true_type {};
template <class T, class F>
struct IsChanCase<SendCase<T, F>> : std::true_type {};
template <class C>
concept SelectCaseLike =
    IsDefaultCase<std::remove_cvref_t<C>>::value || IsChanCase<std::remove_cvref_t<C>>::value;
}  // namespace detail

// Go's select statement. Waits until one of the cases can proceed, performs
// it and runs its action; returns the case's position in the argument list.
// Among ready cases one is chosen uniformly at random. With a default case,
// never blocks. A case on a nil channel never fires; select() with no
// (non-nil) case and no default parks forever. A send case that is chosen
// while its channel is closed throws ChanClosedError. Must be called on a
// goroutine unless it has a default case (then it never parks).
template <detail::SelectCaseLike... Cases>
int select(Cases&&... cases) {
  constexpr std::size_t kDefaults =
      (0 + ... + detail::IsDefaultCase<std::remove_cvref_t<Cases>>::value);
  static_assert(kDefaults <= 1, "select: at most one default case");
  constexpr std::size_t kChanCases = sizeof...(Cases) - kDefaults;
  static_assert(kChanCases < 0x8000, "select: too many cases");

  std::array<detail::SelectCaseRaw, kChanCases> raw;
  std::array<std::uint16_t, 2 * kChanCases> order;
  {
    [[maybe_unused]] std::size_t k = 0;
    (
        [&] {
          if constexpr (detail::IsChanCase<std::remove_cvref_t<Cases>>::value) cases.fill(raw[k++]);
        }(),
        ...);
  }
  [[maybe_unused]] const detail::SelectResult r =
      detail::select_go(raw.data(), order.data(), kChanCases, kDefaults == 0);

  int chosen = -1;
  [[maybe_unused]] int position = 0;
  [[maybe_unused]] std::size_t k = 0;
  (
      [&] {
        if constexpr (detail::IsChanCase<std::remove_cvref_t<Cases>>::value) {
          if (static_cast<int>(k++) == r.index) {
            chosen = position;
            cases.fire(r.ok);
          }
        } else if (r.index < 0) {
          chosen = position;
          cases.fire(false);
        }
        ++position;
      }(),
      ...);
  return chosen;
}

// A case of the dynamic select (Go's reflect.Select): any recv_case,
// send_case or default_case, type-erased (one heap allocation per case).
class SelectCase {
 public:
  template <class C>
  requires detail::SelectCaseLike<C> &&(!std::is_reference_v<C>)
      SelectCase(C&& c)  // NOLINT(google-explicit-constructor): reads like a list of cases
      : impl_(std::make_unique<Impl<C>>(std::move(c))),
        is_default_(detail::IsDefaultCase<C>::value) {}

  bool is_default() const noexcept { return is_default_; }
  void fill(detail::SelectCaseRaw& raw) { impl_->fill(raw); }
  void fire(bool ok) { impl_->fire(ok); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void fill(detail::SelectCaseRaw& raw) = 0;
    virtual void fire(bool ok) = 0;
  };
  template <class C>
  struct Impl final : Base {
    explicit Impl(C&& c) : c(std::move(c)) {}
    void fill(detail::SelectCaseRaw& raw) override {
      if constexpr (detail::IsChanCase<C>::value) c.fill(raw);
    }
    void fire(bool ok) override { c.fire(ok); }
    C c;
  };

  std::unique_ptr<Base> impl_;
  bool is_default_;
};

// select over a list of cases built at run time (Go's reflect.Select). Same
// semantics as the variadic select; returns the chosen index in `cases`.
// At most one default case.
int select(std::span<SelectCase> cases);

}  // namespace gofer
