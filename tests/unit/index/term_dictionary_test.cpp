#include "ksparse/index/term_dictionary.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace ksparse {
namespace {

TEST(TermDictionary, AssignsDenseIdsInInsertionOrder) {
  TermDictionary d;
  EXPECT_EQ(d.add("서울"), 0u);
  EXPECT_EQ(d.add("apple"), 1u);
  EXPECT_EQ(d.add("서울"), 0u);
  EXPECT_EQ(d.size(), 2u);
  EXPECT_EQ(d.term(1), "apple");
  EXPECT_EQ(d.find("apple"), 1u);
  EXPECT_FALSE(d.find("pear").has_value());
  EXPECT_THROW(d.term(2), std::out_of_range);
}

}  // namespace
}  // namespace ksparse
