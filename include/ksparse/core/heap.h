// Keeping freed heap memory inside the process while a loop allocates the same large buffers
// over and over (training steps, encoding batches).
#pragma once

namespace ksparse {

// glibc serves every allocation above its mmap threshold (at most 32 MiB) with a fresh mmap and
// unmaps it on free, and trims the heap top back to the kernel past 128 KiB. A training step that
// allocates [docs, tokens, vocab] activations and their gradients (131 MiB each at 32 x 128 x
// 8,000) then page-faults and zeroes every one of them again on every step. While an instance is
// alive, large blocks come from the heap and freed memory stays there for the next step: the
// process keeps its peak heap resident instead. The destructor restores glibc's defaults and
// returns the free memory to the kernel (malloc_trim). Nesting is allowed (the outermost instance
// restores); instances must not be created concurrently from several threads.
// On a C library other than glibc this does nothing and active() is false.
class RetainFreedMemory {
 public:
  explicit RetainFreedMemory(bool enable = true);
  ~RetainFreedMemory();
  RetainFreedMemory(const RetainFreedMemory&) = delete;
  RetainFreedMemory& operator=(const RetainFreedMemory&) = delete;

  // True when this instance (or an enclosing one) has the heap in retaining mode.
  bool active() const { return active_; }

 private:
  bool active_ = false;
  bool owner_ = false;
};

}  // namespace ksparse
