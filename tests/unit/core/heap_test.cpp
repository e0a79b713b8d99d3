#include "ksparse/core/heap.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstddef>
#include <cstdlib>

namespace ksparse {
namespace {

constexpr std::size_t kBlock = 64u << 20;  // above glibc's largest mmap threshold (32 MiB)
constexpr std::size_t kPage = 4096;

long minor_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

// Page faults taken while allocating kBlock bytes, writing every page and freeing them again.
long faults_of_one_block() {
  const long before = minor_faults();
  auto* p = static_cast<volatile char*>(std::malloc(kBlock));
  if (p == nullptr) return -1;
  for (std::size_t i = 0; i < kBlock; i += kPage) p[i] = static_cast<char>(i);
  std::free(const_cast<char*>(p));
  return minor_faults() - before;
}

constexpr long kPages = static_cast<long>(kBlock / kPage);

TEST(RetainFreedMemory, ALargeBlockIsReusedWithoutNewPageFaultsOnlyWhileActive) {
#if !defined(__GLIBC__)
  GTEST_SKIP() << "RetainFreedMemory only acts on glibc; this C library keeps its own policy";
#elif defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's allocator, whose policy this test measures";
#else
  // Default glibc policy: a fresh mapping each time, so every page faults again.
  faults_of_one_block();
  EXPECT_GT(faults_of_one_block(), kPages * 9 / 10);
  {
    RetainFreedMemory retain;
    ASSERT_TRUE(retain.active());
    faults_of_one_block();  // first use grows the heap: faults once
    EXPECT_LT(faults_of_one_block(), kPages / 10);
    {
      RetainFreedMemory inner;  // nesting keeps the outer policy
      EXPECT_TRUE(inner.active());
    }
    EXPECT_LT(faults_of_one_block(), kPages / 10);
  }
  // Defaults again once the outermost instance is gone.
  faults_of_one_block();
  EXPECT_GT(faults_of_one_block(), kPages * 9 / 10);
#endif
}

TEST(RetainFreedMemory, DisabledInstanceChangesNothing) {
  RetainFreedMemory off(false);
  EXPECT_FALSE(off.active());
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  faults_of_one_block();
  EXPECT_GT(faults_of_one_block(), kPages * 9 / 10);
#endif
}

}  // namespace
}  // namespace ksparse
