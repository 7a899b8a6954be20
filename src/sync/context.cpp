// Go's context package: the cancellation tree (context.go's cancelCtx and
// timerCtx, merged into one CancelCtx) and the error category.
//
// Lock order: an ancestor's mu_ before a descendant's mu_ (cancel walks
// down the tree holding each node's lock while it cancels the children), and
// a node's mu_ before its done channel's lock (close under mu_).
//
// Lifetime: a child holds a strong reference to its parent (so ancestors
// outlive descendants); the nearest cancellable ancestor holds only an
// intrusive link to the child. The child's destructor unlinks itself under
// the ancestor's lock before anything else, so a concurrent cancel of the
// ancestor either finishes with the child first or never sees it.
#include "gofer/context.h"

#include <atomic>
#include <mutex>
#include <string>

#include "gofer/runtime.h"
#include "runtime/park.h"
#include "runtime/timer.h"

namespace gofer {

namespace {

class ContextCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "context"; }
  std::string message(int ev) const override {
    switch (static_cast<context_errc>(ev)) {
      case context_errc::canceled:
        return "context canceled";
      case context_errc::deadline_exceeded:
        return "context deadline exceeded";
    }
    return "unknown context error";
  }
};

}  // namespace

const std::error_category& context_category() noexcept {
  static const ContextCategory category;
  return category;
}

namespace detail {

namespace {

class BackgroundCtx final : public ContextImpl {
 public:
  RecvChan<Empty> done() const override { return {}; }
  std::error_code err() const override { return {}; }
  std::optional<TimePoint> deadline() const override { return std::nullopt; }
  const void* value(const void*) const override { return nullptr; }
  CancelCtx* cancel_ctx() const noexcept override { return nullptr; }
};

}  // namespace

// Go's cancelCtx + timerCtx.
//
// Invariants:
//   err_ is set at most once (under mu_); done_ is closed exactly when it is
//   set, and children_ is empty from then on.
//   A node is in its ancestor's children_ list iff `linked_` (guarded by the
//   ancestor's mu_), and only while neither of them is cancelled.
//   timer_ is armed only while err_ is empty.
class CancelCtx final : public ContextImpl {
 public:
  CancelCtx(std::shared_ptr<const ContextImpl> parent, std::optional<TimePoint> deadline)
      : parent_(std::move(parent)), ancestor_(parent_->cancel_ctx()), deadline_(deadline) {}
  // An after_func node: cancelling it starts `after` on a goroutine.
  CancelCtx(std::shared_ptr<const ContextImpl> parent, std::function<void()> after)
      : parent_(std::move(parent)), ancestor_(parent_->cancel_ctx()), after_(std::move(after)) {}

  ~CancelCtx() override {
    // First leave the ancestor's list (see the file comment), then stop the
    // timer and wait for a fire in progress; only then may members die.
    if (ancestor_ != nullptr) {
      std::lock_guard<std::mutex> lock(ancestor_->mu_);
      ancestor_->unlink_locked(this);
    }
    if (timer_) timer_->stop_sync();
  }

  RecvChan<Empty> done() const override { return done_; }
  std::error_code err() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return err_;
  }
  std::optional<TimePoint> deadline() const override {
    return deadline_ ? deadline_ : parent_->deadline();
  }
  const void* value(const void* key) const override { return parent_->value(key); }
  CancelCtx* cancel_ctx() const noexcept override { return const_cast<CancelCtx*>(this); }

  // Go's propagateCancel: links this new node under its nearest cancellable
  // ancestor, or cancels it at once if that one is already cancelled.
  void propagate() {
    if (ancestor_ == nullptr) return;  // the parent can never be cancelled
    std::lock_guard<std::mutex> lock(ancestor_->mu_);
    if (ancestor_->err_) {
      cancel_locked_by_parent(ancestor_->err_);
      return;
    }
    next_ = ancestor_->children_;
    prev_ = nullptr;
    if (next_) next_->prev_ = this;
    ancestor_->children_ = this;
    linked_ = true;
  }

  // Arms the deadline timer (with_deadline, after propagate).
  void arm(std::int64_t when_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    if (err_) return;  // the parent was already cancelled
    timer_.emplace(&CancelCtx::fire, this);
    timer_->reset(when_ns);
  }

  // after_func's stop(): true if `after_` had not been started, and now
  // never will be.
  bool stop_after() {
    if (after_started_.exchange(true, std::memory_order_acq_rel)) return false;
    cancel(true, make_error_code(context_errc::canceled));
    return true;
  }

  // Go's cancelCtx.cancel(removeFromParent, err).
  void cancel(bool remove_from_parent, std::error_code err) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancel_self_locked(err);
    }
    if (remove_from_parent && ancestor_ != nullptr) {
      std::lock_guard<std::mutex> lock(ancestor_->mu_);
      ancestor_->unlink_locked(this);
    }
  }

 private:
  // Called with the ancestor's mu_ held; the ancestor drops its links itself.
  void cancel_locked_by_parent(std::error_code err) {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_self_locked(err);
  }

  void cancel_self_locked(std::error_code err) {
    if (err_) return;  // already cancelled
    err_ = err;
    done_.close();
    for (CancelCtx* child = children_; child != nullptr;) {
      CancelCtx* next = child->next_;
      child->linked_ = false;
      child->prev_ = child->next_ = nullptr;
      child->cancel_locked_by_parent(err);
      child = next;
    }
    children_ = nullptr;
    if (timer_) timer_->stop();  // a fire already under way finds err_ set
    // acq_rel: pairs with stop_after's exchange; exactly one of them wins.
    // go() only queues the goroutine: no park under mu_ (this may run on a
    // timer's scheduler stack).
    if (after_ && !after_started_.exchange(true, std::memory_order_acq_rel)) {
      gofer::go(std::move(after_));
    }
  }

  void unlink_locked(CancelCtx* child) {
    if (!child->linked_) return;
    if (child->prev_) {
      child->prev_->next_ = child->next_;
    } else {
      children_ = child->next_;
    }
    if (child->next_) child->next_->prev_ = child->prev_;
    child->prev_ = child->next_ = nullptr;
    child->linked_ = false;
  }

  // Timer callback, on a scheduler stack: cancel only takes short locks and
  // closes channels, so it may run right here.
  static void fire(void* arg, std::uint64_t) noexcept {
    static_cast<CancelCtx*>(arg)->cancel(true, make_error_code(context_errc::deadline_exceeded));
  }

  const std::shared_ptr<const ContextImpl> parent_;
  CancelCtx* const ancestor_;  // nearest cancellable ancestor (kept alive through parent_)
  const std::optional<TimePoint> deadline_;  // own deadline, if a timer context
  const Chan<Empty> done_ = make_chan<Empty>(0);

  mutable std::mutex mu_;
  std::error_code err_;                  // guarded by mu_
  CancelCtx* children_ = nullptr;        // guarded by mu_: first uncancelled linked child
  std::optional<runtime::Timer> timer_;  // emplaced under mu_; stopped under mu_
  std::function<void()> after_;          // after_func's f; moved out under mu_ when started
  std::atomic<bool> after_started_{false};

  // This node's links in ancestor_->children_; guarded by ancestor_->mu_.
  CancelCtx* prev_ = nullptr;
  CancelCtx* next_ = nullptr;
  bool linked_ = false;
};

struct ContextAccess {
  static Context make(std::shared_ptr<const ContextImpl> impl) { return Context(std::move(impl)); }
  static const std::shared_ptr<const ContextImpl>& impl(const Context& c) { return c.impl_; }
  static CancelFunc cancel_func(std::shared_ptr<CancelCtx> c) { return CancelFunc(std::move(c)); }
  static CancelCtx* ctx(const CancelFunc& f) { return f.ctx_.get(); }
  static AfterFuncStop after_func_stop(std::shared_ptr<CancelCtx> c) {
    return AfterFuncStop(std::move(c));
  }
};

namespace {

WithCancel make_cancel_ctx(const Context& parent, std::optional<TimePoint> deadline) {
  auto c = std::make_shared<CancelCtx>(ContextAccess::impl(parent), deadline);
  c->propagate();
  return {ContextAccess::make(c), ContextAccess::cancel_func(c)};
}

}  // namespace

}  // namespace detail

Context::Context() : Context(detail::ContextAccess::impl(background())) {}

void CancelFunc::operator()() const {
  if (ctx_) ctx_->cancel(true, make_error_code(context_errc::canceled));
}

bool AfterFuncStop::stop() const {
  return !node_ || node_->stop_after();
}

AfterFuncStop after_func(const Context& ctx, std::function<void()> f) {
  const auto& parent = detail::ContextAccess::impl(ctx);
  if (parent->cancel_ctx() == nullptr) return {};  // never done: f can never run
  auto node = std::make_shared<detail::CancelCtx>(parent, std::move(f));
  node->propagate();  // cancels the node (and starts f) at once if ctx is done
  return detail::ContextAccess::after_func_stop(std::move(node));
}

Context background() {
  static const std::shared_ptr<const detail::ContextImpl> root =
      std::make_shared<const detail::BackgroundCtx>();
  return detail::ContextAccess::make(root);
}

Context todo() {
  return background();
}

WithCancel with_cancel(const Context& parent) {
  return detail::make_cancel_ctx(parent, std::nullopt);
}

WithCancel with_deadline(const Context& parent, TimePoint deadline) {
  if (auto current = parent.deadline(); current && *current < deadline) {
    // The parent's deadline is sooner: the new one would never fire.
    return with_cancel(parent);
  }
  WithCancel r = detail::make_cancel_ctx(parent, deadline);
  auto* c = static_cast<detail::CancelCtx*>(detail::ContextAccess::ctx(r.cancel));
  const std::int64_t when = deadline.time_since_epoch().count();
  if (when <= runtime::nanotime()) {
    c->cancel(true, make_error_code(context_errc::deadline_exceeded));
  } else {
    c->arm(when);
  }
  return r;
}

WithCancel with_timeout(const Context& parent, Duration timeout) {
  const TimePoint now{Duration(runtime::nanotime())};
  // Saturate instead of overflowing for "forever" timeouts.
  const TimePoint deadline = timeout > TimePoint::max() - now ? TimePoint::max() : now + timeout;
  return with_deadline(parent, deadline);
}

}  // namespace gofer
