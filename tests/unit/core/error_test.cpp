#include "ksparse/core/error.h"

#include <gtest/gtest.h>

namespace ksparse {
namespace {

TEST(Where, FormatsPathAndLine) {
  EXPECT_EQ(where("corpus.jsonl", 12), "corpus.jsonl:12");
  EXPECT_EQ(where("corpus.jsonl"), "corpus.jsonl");
}

TEST(Error, HierarchyIsCatchableAsBase) {
  try {
    throw DataError("bad line");
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "bad line");
  }
}

}  // namespace
}  // namespace ksparse
