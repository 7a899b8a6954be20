// Go's context package: cancellation, deadlines and request-scoped values
// that flow down a tree of goroutines.
//
//   auto [ctx, cancel] = gofer::with_timeout(parent, 2s);
//   gofer::go([ctx] { worker(ctx); });
//   ...
//   gofer::select(gofer::recv_case(results, ...),
//                 gofer::recv_case(ctx.done(), [&] { err = ctx.err(); }));
//   cancel();  // always call it (idempotent): it frees the child's link in its parent
//
// A Context is an immutable node of a tree. Cancelling a node (its cancel
// function, its deadline, or the cancellation of an ancestor) closes its
// done() channel and cancels all its descendants; err() then says why. A
// child made from an already cancelled parent is cancelled at once. A
// cancelled child unlinks itself from its nearest cancellable ancestor, so
// that long-lived parents do not accumulate dead children.
//
// Deadlines run on runtime::Timer; a deadline's cancellation runs right on
// the timer's scheduler stack (it only takes short locks and closes
// channels), not on a new goroutine as Go's time.AfterFunc would. Like any
// timer, a context with a deadline must not outlive the gofer::run() that
// made it.
//
// Unlike Go:
//   - Context is a shared handle (std::shared_ptr semantics); a default-
//     constructed Context is background(). There are no user-defined
//     Context implementations.
//   - err() returns a std::error_code of gofer::context_errc (false when not
//     cancelled); compare with context_errc::canceled or
//     context_errc::deadline_exceeded. There is no Cause.
//   - Value keys are typed objects (ContextKey<T>, compared by address), so
//     value() returns a typed pointer instead of an interface to assert.
//   - A child holds its parent alive; a parent holds only a link to each
//     uncancelled child (destroyed with the child), so forgetting cancel()
//     leaks nothing once the child's last handle is gone.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>

#include "gofer/chan.h"
#include "gofer/time.h"

namespace gofer {
// Go's context.Canceled and context.DeadlineExceeded.
enum class context_errc {
  canceled = 1,           // "context canceled"
  deadline_exceeded = 2,  // "context deadline exceeded"
};
}  // namespace gofer

template <>
struct std::is_error_code_enum<gofer::context_errc> : std::true_type {};

namespace gofer {

const std::error_category& context_category() noexcept;
inline std::error_code make_error_code(context_errc e) noexcept {
  return {static_cast<int>(e), context_category()};
}

// A key for with_value/value: its address identifies it.
//   inline const gofer::ContextKey<std::string> request_id;
template <class T>
struct ContextKey {
  using value_type = T;
};

namespace detail {

class CancelCtx;
struct ContextAccess;

// A node of the context tree. Immutable after construction, except for the
// cancellation state of CancelCtx (src/sync/context.cpp).
class ContextImpl {
 public:
  virtual ~ContextImpl() = default;
  // Closed when the context is cancelled; nil if it never will be.
  virtual RecvChan<Empty> done() const = 0;
  virtual std::error_code err() const = 0;
  virtual std::optional<TimePoint> deadline() const = 0;
  // The value stored under `key` in this node or its ancestors.
  virtual const void* value(const void* key) const = 0;
  // The nearest cancellable node at or above this one (Go's parentCancelCtx).
  virtual CancelCtx* cancel_ctx() const noexcept = 0;
};

class ValueCtxBase : public ContextImpl {
 public:
  ValueCtxBase(std::shared_ptr<const ContextImpl> parent, const void* key)
      : parent_(std::move(parent)), key_(key) {}
  RecvChan<Empty> done() const override { return parent_->done(); }
  std::error_code err() const override { return parent_->err(); }
  std::optional<TimePoint> deadline() const override { return parent_->deadline(); }
  const void* value(const void* key) const override {
    return key == key_ ? stored() : parent_->value(key);
  }
  CancelCtx* cancel_ctx() const noexcept override { return parent_->cancel_ctx(); }

 protected:
  virtual const void* stored() const noexcept = 0;

 private:
  const std::shared_ptr<const ContextImpl> parent_;
  const void* const key_;
};

template <class T>
class ValueCtx final : public ValueCtxBase {
 public:
  ValueCtx(std::shared_ptr<const ContextImpl> parent, const void* key, T value)
      : ValueCtxBase(std::move(parent), key), value_(std::move(value)) {}

 private:
  const void* stored() const noexcept override { return &value_; }
  const T value_;
};

}  // namespace detail

class Context {
 public:
  // background().
  Context();

  // Closed when the context is cancelled; a nil channel (never ready) for
  // contexts that cannot be cancelled, such as background().
  RecvChan<Empty> done() const { return impl_->done(); }
  // Empty until done() is closed; then context_errc::canceled or
  // context_errc::deadline_exceeded, and never changes again.
  std::error_code err() const { return impl_->err(); }
  // The time after which the context is cancelled, if any.
  std::optional<TimePoint> deadline() const { return impl_->deadline(); }
  // The value stored under key by with_value in this context or an ancestor,
  // or nullptr. The pointee lives as long as the context.
  template <class T>
  const T* value(const ContextKey<T>& key) const {
    return static_cast<const T*>(impl_->value(&key));
  }

  // Same context node.
  friend bool operator==(const Context& a, const Context& b) noexcept { return a.impl_ == b.impl_; }

 private:
  friend struct detail::ContextAccess;
  template <class T, class U>
  friend Context with_value(const Context& parent, const ContextKey<T>& key, U&& value);

  explicit Context(std::shared_ptr<const detail::ContextImpl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const detail::ContextImpl> impl_;
};

// Cancels its context (Go's CancelFunc). Idempotent and safe from any
// goroutine or thread; does not wait for the work to stop.
class CancelFunc {
 public:
  CancelFunc() noexcept = default;  // does nothing
  void operator()() const;

 private:
  friend struct detail::ContextAccess;
  explicit CancelFunc(std::shared_ptr<detail::CancelCtx> ctx) : ctx_(std::move(ctx)) {}
  std::shared_ptr<detail::CancelCtx> ctx_;
};

// Result of with_cancel/with_deadline/with_timeout:
//   auto [ctx, cancel] = gofer::with_cancel(parent);
struct WithCancel {
  Context ctx;
  CancelFunc cancel;
};

// The root context: never cancelled, no deadline, no values.
Context background();
// Go's context.TODO: background(), for code not yet given a context.
Context todo();

// A child cancelled by `cancel` or with its parent.
WithCancel with_cancel(const Context& parent);
// A child cancelled at `deadline` (err: deadline_exceeded), by `cancel`, or
// with its parent. If the parent's deadline is earlier it is the same as
// with_cancel(parent); if `deadline` has passed the child is born cancelled.
WithCancel with_deadline(const Context& parent, TimePoint deadline);
// with_deadline(parent, now + timeout).
WithCancel with_timeout(const Context& parent, Duration timeout);

// What after_func returns (Go's `stop func() bool`): stop() unregisters the
// function. It returns true if f has not been started and now never will
// be; false if ctx was done and f has been started (or stop() was called
// before). Unlike Go, the handle holds the registration: destroying its
// last copy unregisters f, as stop() would. An empty handle (for a context that is never done) has
// nothing to stop: its stop() returns true, f will not run.
class AfterFuncStop {
 public:
  AfterFuncStop() noexcept = default;
  bool stop() const;

 private:
  friend struct detail::ContextAccess;
  explicit AfterFuncStop(std::shared_ptr<detail::CancelCtx> node) : node_(std::move(node)) {}
  std::shared_ptr<detail::CancelCtx> node_;
};

// Go 1.21's context.AfterFunc: once ctx is done, runs f on a goroutine of
// its own (at once if ctx is done already). For a context that can never
// be done (background()) nothing is registered and the cost is a load. It
// lets a wait that is not a channel — a socket read, a lock — be given up
// when a context ends, without a goroutine that waits for it meanwhile:
// the HTTP client closes a connection this way.
AfterFuncStop after_func(const Context& ctx, std::function<void()> f);

// A child that carries `value` under `key` (Go's context.WithValue).
template <class T, class U>
Context with_value(const Context& parent, const ContextKey<T>& key, U&& value) {
  return Context(
      std::make_shared<const detail::ValueCtx<T>>(parent.impl_, &key, T(std::forward<U>(value))));
}

}  // namespace gofer
