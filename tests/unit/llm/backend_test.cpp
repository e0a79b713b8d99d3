// Request and sampling validation shared by all backends.
#include "ksparse/llm/backend.h"

#include <gtest/gtest.h>

#include "ksparse/core/error.h"

namespace ksparse::llm {
namespace {

TEST(SamplingOptions, DefaultsAreValidAndBadValuesAreRejected) {
  SamplingOptions s;
  EXPECT_NO_THROW(s.validate());
  s.temperature = -0.1f;
  EXPECT_THROW(s.validate(), ConfigError);
  s = {};
  s.top_p = 0.0f;
  EXPECT_THROW(s.validate(), ConfigError);
  s = {};
  s.min_p = 1.5f;
  EXPECT_THROW(s.validate(), ConfigError);
  s = {};
  s.repeat_penalty = 0.0f;
  EXPECT_THROW(s.validate(), ConfigError);
  s = {};
  s.top_k = -1;
  EXPECT_THROW(s.validate(), ConfigError);
  s = {};
  s.temperature = 0.0f;  // greedy
  EXPECT_NO_THROW(s.validate());
}

TEST(GenerationRequest, Validate) {
  GenerationRequest r;
  r.prompt = "x";
  EXPECT_NO_THROW(r.validate());
  r.max_tokens = 0;
  EXPECT_THROW(r.validate(), ConfigError);
  r.max_tokens = 4;
  r.stop = {"\n", ""};
  EXPECT_THROW(r.validate(), ConfigError);
}

TEST(FinishReason, Names) {
  EXPECT_STREQ(finish_reason_name(FinishReason::kStop), "stop");
  EXPECT_STREQ(finish_reason_name(FinishReason::kLength), "length");
  EXPECT_STREQ(finish_reason_name(FinishReason::kEos), "eos");
}

}  // namespace
}  // namespace ksparse::llm
