#include "ksparse/encoder/trainer.h"

#include <gtest/gtest.h>

#include "ksparse/core/config.h"
#include "ksparse/core/error.h"

namespace ksparse {
namespace {

TEST(TrainOptionsTest, DefaultsAreValid) { EXPECT_NO_THROW(TrainOptions{}.validate()); }

TEST(TrainOptionsTest, RejectsBadFields) {
  auto bad = [](auto mutate) {
    TrainOptions o;
    mutate(o);
    EXPECT_THROW(o.validate(), ConfigError);
  };
  bad([](TrainOptions& o) { o.mode = "dense"; });
  bad([](TrainOptions& o) { o.pooling = "max"; });
  bad([](TrainOptions& o) { o.num_heads = 3; });  // does not divide 128
  bad([](TrainOptions& o) { o.validation_fraction = 1.0; });
  bad([](TrainOptions& o) { o.distill_weight = 0.5; });  // no teacher
  bad([](TrainOptions& o) { o.learn_idf = true, o.mode = "siamese"; });
  bad([](TrainOptions& o) { o.grad_accum = 0; });
  bad([](TrainOptions& o) { o.warmup_steps = 1000; });  // == max_steps
  bad([](TrainOptions& o) { o.temperature = 0; });
  bad([](TrainOptions& o) { o.max_length = 2; });
  bad([](TrainOptions& o) { o.keep_checkpoints = 0; });
  bad([](TrainOptions& o) { o.prior_lr_scale = -0.5; });
}

TEST(TrainOptionsTest, TomlMapsFieldForField) {
  const ConfigTable cfg = parse_config(R"(
[train]
mode = "siamese"
hidden_size = 64
num_heads = 4
max_steps = 50
warmup_steps = 5
lr = 1e-3
batch_size = 8
teacher = "bm25"
distill_weight = 0.5
flops_idf_aware = true
seed = 7
patience = 3
exclude_validation_docs = false
prior_lr_scale = 0.0
)",
                                       "t.toml");
  const TrainOptions o = train_options_from(cfg.table("train"));
  EXPECT_EQ(o.mode, "siamese");
  EXPECT_EQ(o.hidden_size, 64);
  EXPECT_EQ(o.num_heads, 4);
  EXPECT_EQ(o.max_steps, 50);
  EXPECT_EQ(o.warmup_steps, 5);
  EXPECT_DOUBLE_EQ(o.lr, 1e-3);
  EXPECT_EQ(o.batch_size, 8u);
  EXPECT_EQ(o.teacher, "bm25");
  EXPECT_DOUBLE_EQ(o.distill_weight, 0.5);
  EXPECT_TRUE(o.flops_idf_aware);
  EXPECT_EQ(o.seed, 7u);
  EXPECT_EQ(o.patience, 3u);
  EXPECT_FALSE(o.exclude_validation_docs);
  EXPECT_EQ(o.prior_lr_scale, 0.0);
  EXPECT_EQ(TrainOptions{}.prior_lr_scale, 1.0);
  EXPECT_TRUE(TrainOptions{}.exclude_validation_docs);
  EXPECT_EQ(o.to_json().at("exclude_validation_docs"), false);
  EXPECT_EQ(o.vocab_size, TrainOptions{}.vocab_size);  // untouched keys keep defaults
  EXPECT_NO_THROW(o.validate());
  EXPECT_EQ(o.to_json().at("mode"), "siamese");
}

TEST(TrainOptionsTest, TomlRejectsUnknownKeysAndWrongTypes) {
  const ConfigTable unknown = parse_config("[train]\nlearning_rate = 1e-3\n", "t.toml");
  try {
    train_options_from(unknown.table("train"));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("learning_rate"), std::string::npos) << e.what();
  }
  const ConfigTable typed = parse_config("[train]\nmax_steps = \"many\"\n", "t.toml");
  EXPECT_THROW(train_options_from(typed.table("train")), ConfigError);
  const ConfigTable negative = parse_config("[train]\nbatch_size = -1\n", "t.toml");
  EXPECT_THROW(train_options_from(negative.table("train")), ConfigError);
}

}  // namespace
}  // namespace ksparse
