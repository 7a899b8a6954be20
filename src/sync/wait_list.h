// SyncWaiter and the intrusive wait list of the sync primitives
// (include/gofer/sync.h): a parked goroutine's record lives on its own stack
// while it waits, so queueing never allocates.
#pragma once

#include <cstdint>

#include "gofer/sync.h"
#include "sync/parker.h"

namespace gofer::detail {

struct SyncWaiter {
  Parker parker;
  SyncWaiter* prev = nullptr;  // guarded by the owning list's lock
  SyncWaiter* next = nullptr;  // guarded by the owning list's lock
  std::int64_t weight = 0;     // Semaphore: units requested
  // Sema: set by a handing-off releaser before unpark — the ticket was
  // taken on this waiter's behalf.
  bool ticket = false;
  // Sema: which one this waiter waits on (the table's lists are shared).
  const void* sema = nullptr;
};

// All functions need the owner's lock held.
inline void push_back(WaitList& l, SyncWaiter* w) noexcept {
  w->next = nullptr;
  w->prev = l.tail;
  if (l.tail) {
    l.tail->next = w;
  } else {
    l.head = w;
  }
  l.tail = w;
}

inline void push_front(WaitList& l, SyncWaiter* w) noexcept {
  w->prev = nullptr;
  w->next = l.head;
  if (l.head) {
    l.head->prev = w;
  } else {
    l.tail = w;
  }
  l.head = w;
}

inline SyncWaiter* pop_front(WaitList& l) noexcept {
  SyncWaiter* w = l.head;
  if (!w) return nullptr;
  l.head = w->next;
  if (l.head) {
    l.head->prev = nullptr;
  } else {
    l.tail = nullptr;
  }
  w->next = w->prev = nullptr;
  return w;
}

inline void remove(WaitList& l, SyncWaiter* w) noexcept {
  (w->prev ? w->prev->next : l.head) = w->next;
  (w->next ? w->next->prev : l.tail) = w->prev;
  w->next = w->prev = nullptr;
}

// Detaches the whole list; the caller walks it through `next` (reading
// `next` before unparking each waiter).
inline SyncWaiter* take_all(WaitList& l) noexcept {
  SyncWaiter* w = l.head;
  l.head = l.tail = nullptr;
  return w;
}

}  // namespace gofer::detail
