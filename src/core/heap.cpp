#include "ksparse/core/heap.h"

#include <climits>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ksparse {

namespace {
int g_depth = 0;  // nesting depth of enabled instances
}  // namespace

RetainFreedMemory::RetainFreedMemory(bool enable) {
#if defined(__GLIBC__)
  if (!enable) return;
  if (g_depth == 0) {
    // No mmap for large blocks, and trim the heap top only past 2 GiB of free memory there.
    if (mallopt(M_MMAP_MAX, 0) != 1) return;
    if (mallopt(M_TRIM_THRESHOLD, INT_MAX) != 1) {
      mallopt(M_MMAP_MAX, 65536);
      return;
    }
    owner_ = true;
  }
  ++g_depth;
  active_ = true;
#else
  (void)enable;
#endif
}

RetainFreedMemory::~RetainFreedMemory() {
#if defined(__GLIBC__)
  if (!active_) return;
  --g_depth;
  if (!owner_) return;
  // glibc's defaults (M_MMAP_MAX 65536, M_TRIM_THRESHOLD 128 KiB), then give back what is free.
  mallopt(M_MMAP_MAX, 65536);
  mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  malloc_trim(0);
#endif
}

}  // namespace ksparse
