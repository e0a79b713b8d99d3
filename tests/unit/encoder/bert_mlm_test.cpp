// BERT masked-LM, sparse pooling and losses (src/encoder/bert_model.h): hand-computed values for
// pooling, each loss and the FLOPS schedule; shapes, HF parameter names, the tied decoder, the
// padding mask, weight round trips and the lexical prior. (Not named bert_model_test.cpp: the
// *_model_test.cpp suffix means "needs the real GGUF" to tests/CMakeLists.txt.)
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bert_model.h"
#include "ksparse/core/error.h"

namespace ksparse::encoder::detail {
namespace {

BertConfig tiny_config(std::int64_t layers = 1) {
  BertConfig c;
  c.vocab_size = 50;
  c.hidden_size = 16;
  c.num_hidden_layers = layers;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 32;
  return c;
}

TEST(SparsePool, MaxOverUnmaskedPositionsOfLog1pRelu) {
  // B=1, T=3, V=4; position 2 is padding, token 3 is special.
  auto logits = torch::tensor(
      {{{2.0f, -1.0f, 0.5f, 9.0f}, {1.0f, -3.0f, 2.0f, 9.0f}, {7.0f, 7.0f, 7.0f, 7.0f}}});
  auto mask = torch::tensor({{1, 1, 0}}, torch::kLong);
  auto keep = torch::tensor({1.0f, 1.0f, 1.0f, 0.0f});
  auto w = sparse_pool(logits, mask, keep);
  ASSERT_EQ(w.sizes(), (std::vector<std::int64_t>{1, 4}));
  EXPECT_NEAR(w[0][0].item<float>(), std::log1p(2.0), 1e-6);  // max(2, 1)
  EXPECT_NEAR(w[0][1].item<float>(), 0.0, 1e-7);              // relu of negatives; pad's 7 ignored
  EXPECT_NEAR(w[0][2].item<float>(), std::log1p(2.0), 1e-6);  // max(0.5, 2)
  EXPECT_EQ(w[0][3].item<float>(), 0.0f);                     // special token masked
  auto l0 = sparse_pool(logits, mask, keep, PoolKind::kL0);
  EXPECT_NEAR(l0[0][0].item<float>(), 0.7412763113750152, 1e-6);  // log1p(log1p(2))
  EXPECT_EQ(l0[0][1].item<float>(), 0.0f);
}

TEST(SparsePool, GradientReachesOnlyTheArgmaxPosition) {
  auto logits = torch::tensor({{{1.0f}, {3.0f}}}).requires_grad_(true);
  auto w = sparse_pool(logits, torch::ones({1, 2}, torch::kLong), torch::ones({1}));
  w.sum().backward();
  EXPECT_EQ(logits.grad()[0][0][0].item<float>(), 0.0f);
  EXPECT_NEAR(logits.grad()[0][1][0].item<float>(), 1.0 / 4.0, 1e-6);  // d log1p(x)/dx at 3
}

// The CPU float path (one pass with indices, bias after the max) against the plain torch ops it
// replaces: padding as -inf, max over positions, bias, log1p(relu(.)).
TEST(SparsePool, CpuKernelMatchesTorchOpsInValueAndGradientWithPaddingAndBias) {
  torch::manual_seed(5);
  const std::int64_t b = 3, t = 7, v = 2500;  // V spans blocks of 1024 and a partial one
  auto x = torch::randn({b, t, v}).requires_grad_(true);
  auto x2 = x.detach().clone().requires_grad_(true);
  auto bias = torch::randn({v}).requires_grad_(true);
  auto bias2 = bias.detach().clone().requires_grad_(true);
  auto mask = torch::ones({b, t}, torch::kLong);
  mask[0].slice(0, 4) = 0;  // document 0: 4 real positions, 3 padding
  mask[2].slice(0, 1) = 0;  // document 2: only its first position
  auto keep = torch::ones({v});
  keep[7] = 0;
  auto ours = sparse_pool(x, mask, keep, PoolKind::kLog1pRelu, bias);
  auto padded = x2.masked_fill(mask.logical_not().unsqueeze(-1), -INFINITY);
  auto ref = torch::log1p(torch::relu(std::get<0>(padded.max(1)) + bias2)) * keep;
  ASSERT_EQ(ours.sizes(), ref.sizes());
  EXPECT_TRUE(torch::equal(ours, ref));
  auto w = torch::randn({b, v});
  (ours * w).sum().backward();
  (ref * w).sum().backward();
  EXPECT_TRUE(torch::allclose(x.grad(), x2.grad(), 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(bias.grad(), bias2.grad(), 1e-6, 1e-7));
  // Padded positions get no gradient; each (document, id) sends it to one position at most.
  EXPECT_EQ(x.grad()[0].slice(0, 4).abs().sum().item<float>(), 0.0f);
  EXPECT_LE((x.grad() != 0).sum(1).max().item<std::int64_t>(), 1);
  EXPECT_GT((x.grad() != 0).sum().item<std::int64_t>(), b * v / 4);
}

TEST(SparsePool, SparseForwardEqualsPoolingTheBiasedLogits) {
  torch::manual_seed(11);
  BertForMaskedLM m(tiny_config(2));
  {
    torch::NoGradGuard g;
    for (auto& p : m->named_parameters()) {
      if (p.key() == "cls.predictions.bias") p.value().normal_(0.0, 1.0);
    }
  }
  m->eval();
  auto ids = torch::randint(5, 50, {4, 9}, torch::kLong);
  auto mask = torch::ones_like(ids);
  mask[1].slice(0, 5) = 0;
  auto keep = torch::ones({50});
  keep[0] = 0;
  auto a = m->sparse_forward(ids, mask, keep, PoolKind::kLog1pRelu);
  auto r = sparse_pool(m->forward(ids, mask), mask, keep);
  EXPECT_TRUE(torch::allclose(a, r, 1e-6, 1e-6));
  EXPECT_GT((r > 0).sum().item<std::int64_t>(), 0);
}

TEST(ParallelBmm, ValueAndGradientsMatchBmmOnTransposedViews) {
  torch::manual_seed(3);
  // b is used as a transposed view, as attention uses Kᵀ; the gradients flow back through it.
  auto a = torch::randn({6, 5, 4}).requires_grad_(true);
  auto k = torch::randn({6, 7, 4}).requires_grad_(true);
  auto a2 = a.detach().clone().requires_grad_(true);
  auto k2 = k.detach().clone().requires_grad_(true);
  auto w = torch::randn({6, 5, 7});
  auto ours = parallel_bmm(a, k.transpose(1, 2));
  auto ref = torch::bmm(a2, k2.transpose(1, 2));
  EXPECT_TRUE(torch::allclose(ours, ref, 1e-5, 1e-6));
  (ours * w).sum().backward();
  (ref * w).sum().backward();
  EXPECT_TRUE(torch::allclose(a.grad(), a2.grad(), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(k.grad(), k2.grad(), 1e-5, 1e-6));
  EXPECT_GT(k.grad().abs().sum().item<double>(), 0.0);
}

TEST(HashedDropout, KeepsOneMinusPScaledAndIsSeededAndDifferentiable) {
  const double p = 0.1;
  auto x = torch::ones({1001, 999}).requires_grad_(true);  // odd count: the last half-pair
  torch::manual_seed(7);
  auto y = hashed_dropout(x, p, /*training=*/true);
  const auto kept = (y != 0).sum().item<double>() / static_cast<double>(x.numel());
  EXPECT_NEAR(kept, 1.0 - p, 0.002);  // 1M Bernoulli(0.9) samples: sd 0.0003
  // Kept elements are scaled by 1 / (1 - p), the rest are exactly 0.
  EXPECT_TRUE(torch::all((y == 0) | ((y - 1.0 / (1.0 - p)).abs() < 1e-6)).item<bool>());
  // Neighbouring rows get different masks.
  EXPECT_FALSE(torch::equal(y[0], y[1]));
  // Same seed, same mask; another seed, another mask.
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(hashed_dropout(x, p, true), y));
  torch::manual_seed(8);
  EXPECT_FALSE(torch::equal(hashed_dropout(x, p, true), y));
  // Gradient = mask.
  y.sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), y.detach()));
  // Identity when not training or p == 0.
  EXPECT_TRUE(torch::equal(hashed_dropout(x, p, false), x));
  EXPECT_TRUE(torch::equal(hashed_dropout(x, 0.0, true), x));
  // The keep rate follows p.
  auto z = hashed_dropout(torch::ones({200000}), 0.5, true);
  EXPECT_NEAR((z != 0).sum().item<double>() / 200000.0, 0.5, 0.005);
}

TEST(Losses, InfoNceHandComputed) {
  auto s = torch::tensor({{2.0f, 1.0f, 0.0f}});
  EXPECT_NEAR(info_nce_loss(s).item<float>(), 0.4076059644443803, 1e-6);
  EXPECT_NEAR(info_nce_loss(s, 2.0).item<float>(), 0.6802696706417346, 1e-6);
  // Mean over rows: a second row whose positive dominates adds ~0.
  auto two = torch::tensor({{2.0f, 1.0f, 0.0f}, {100.0f, 0.0f, 0.0f}});
  EXPECT_NEAR(info_nce_loss(two).item<float>(), 0.4076059644443803 / 2, 1e-6);
}

TEST(Losses, KlDistillHandComputed) {
  // Teacher [1, 3] -> min-max [0, 1] -> p = softmax([0, 1]); student uniform.
  auto student = torch::tensor({{0.0f, 0.0f}});
  EXPECT_NEAR(kl_distill_loss(student, torch::tensor({{1.0f, 3.0f}})).item<float>(),
              0.11094407167172735, 1e-6);
  // teacher_scale 2: p = softmax([0, 2]); student [1, 0].
  EXPECT_NEAR(kl_distill_loss(torch::tensor({{1.0f, 0.0f}}), torch::tensor({{5.0f, 9.0f}}), 2.0)
                  .item<float>(),
              0.8287249104088976, 1e-5);
  // Equal distributions: zero; a constant teacher row is a uniform target.
  EXPECT_NEAR(kl_distill_loss(student, torch::tensor({{4.0f, 4.0f}})).item<float>(), 0.0, 1e-7);
}

TEST(Losses, FlopsPlainAndIdfAware) {
  auto w = torch::tensor({{1.0f, 0.0f, 2.0f}, {3.0f, 0.0f, 0.0f}});
  // column means [2, 0, 1] -> 4 + 0 + 1
  EXPECT_NEAR(flops_loss(w).item<float>(), 5.0, 1e-6);
  // IDF-aware: 4 / 2 + 0 / 1 + 1 / max(0.05, 0.1)
  auto idf = torch::tensor({2.0f, 1.0f, 0.05f});
  EXPECT_NEAR(flops_loss(w, idf).item<float>(), 12.0, 1e-5);
  EXPECT_NEAR(flops_loss(w, idf, 0.01).item<float>(), 2.0 + 20.0, 1e-4);
}

TEST(Losses, FlopsLambdaQuadraticWarmup) {
  EXPECT_DOUBLE_EQ(flops_lambda(0.05, 0, 200), 0.0);
  EXPECT_DOUBLE_EQ(flops_lambda(0.05, 50, 200), 0.05 * 0.0625);
  EXPECT_DOUBLE_EQ(flops_lambda(0.05, 100, 200), 0.0125);
  EXPECT_DOUBLE_EQ(flops_lambda(0.05, 200, 200), 0.05);
  EXPECT_DOUBLE_EQ(flops_lambda(0.05, 5000, 200), 0.05);
  EXPECT_DOUBLE_EQ(flops_lambda(0.002, 3, 0), 0.002);
}

TEST(BertModel, OutputShape) {
  torch::manual_seed(1);
  BertForMaskedLM m(tiny_config(2));
  auto ids = torch::randint(50, {3, 7}, torch::kLong);
  auto logits = m->forward(ids, torch::ones_like(ids));
  EXPECT_EQ(logits.sizes(), (std::vector<std::int64_t>{3, 7, 50}));
  EXPECT_EQ(logits.scalar_type(), torch::kFloat);
}

TEST(BertModel, ParameterNamesAreHuggingFaceBertForMaskedLM) {
  // named_parameters() of transformers 4.40 BertForMaskedLM(BertConfig(num_hidden_layers=1)).
  const std::set<std::string> expected = {"bert.embeddings.word_embeddings.weight",
                                          "bert.embeddings.position_embeddings.weight",
                                          "bert.embeddings.token_type_embeddings.weight",
                                          "bert.embeddings.LayerNorm.weight",
                                          "bert.embeddings.LayerNorm.bias",
                                          "bert.encoder.layer.0.attention.self.query.weight",
                                          "bert.encoder.layer.0.attention.self.query.bias",
                                          "bert.encoder.layer.0.attention.self.key.weight",
                                          "bert.encoder.layer.0.attention.self.key.bias",
                                          "bert.encoder.layer.0.attention.self.value.weight",
                                          "bert.encoder.layer.0.attention.self.value.bias",
                                          "bert.encoder.layer.0.attention.output.dense.weight",
                                          "bert.encoder.layer.0.attention.output.dense.bias",
                                          "bert.encoder.layer.0.attention.output.LayerNorm.weight",
                                          "bert.encoder.layer.0.attention.output.LayerNorm.bias",
                                          "bert.encoder.layer.0.intermediate.dense.weight",
                                          "bert.encoder.layer.0.intermediate.dense.bias",
                                          "bert.encoder.layer.0.output.dense.weight",
                                          "bert.encoder.layer.0.output.dense.bias",
                                          "bert.encoder.layer.0.output.LayerNorm.weight",
                                          "bert.encoder.layer.0.output.LayerNorm.bias",
                                          "cls.predictions.bias",
                                          "cls.predictions.transform.dense.weight",
                                          "cls.predictions.transform.dense.bias",
                                          "cls.predictions.transform.LayerNorm.weight",
                                          "cls.predictions.transform.LayerNorm.bias"};
  BertForMaskedLM m(tiny_config(1));
  std::set<std::string> got;
  for (const auto& p : m->named_parameters()) got.insert(p.key());
  EXPECT_EQ(got, expected);
  auto sd = state_dict_hf(m);
  EXPECT_EQ(sd.size(), expected.size() + 1);
  ASSERT_TRUE(sd.contains("cls.predictions.decoder.weight"));
  EXPECT_EQ(sd.at("cls.predictions.decoder.weight").data_ptr(),
            sd.at("bert.embeddings.word_embeddings.weight").data_ptr());
}

TEST(BertModel, DecoderIsTiedToWordEmbeddings) {
  torch::manual_seed(2);
  BertForMaskedLM m(tiny_config(1));
  m->eval();
  auto ids = torch::tensor({{1, 2, 3, 4}}, torch::kLong);
  auto params = m->named_parameters();
  {
    torch::NoGradGuard g;
    params["cls.predictions.bias"].copy_(torch::arange(50, torch::kFloat) * 0.01);
    // Row 40 (not in the input) zeroed: with a tied decoder its logit is exactly the bias.
    params["bert.embeddings.word_embeddings.weight"][40].zero_();
  }
  auto logits = m->forward(ids, torch::ones_like(ids));
  for (int t = 0; t < 4; ++t) EXPECT_FLOAT_EQ(logits[0][t][40].item<float>(), 0.40f);
  EXPECT_NE(logits[0][0][41].item<float>(), 0.41f);
  // The pad row starts at zero and, like HF's padding_idx, receives no gradient.
  EXPECT_EQ(params["bert.embeddings.word_embeddings.weight"][0].abs().sum().item<float>(), 0.0f);
}

TEST(BertModel, PaddedPositionsDoNotChangeRealOnes) {
  torch::manual_seed(3);
  BertForMaskedLM m(tiny_config(2));
  m->eval();
  torch::NoGradGuard g;
  auto short_ids = torch::tensor({{5, 6, 7}}, torch::kLong);
  auto a = m->forward(short_ids, torch::ones_like(short_ids));
  auto padded = torch::tensor({{5, 6, 7, 9, 11}}, torch::kLong);
  auto b = m->forward(padded, torch::tensor({{1, 1, 1, 0, 0}}, torch::kLong));
  EXPECT_TRUE(torch::allclose(a, b.slice(1, 0, 3), 1e-5, 1e-5));
  auto c = m->forward(padded, torch::ones_like(padded));
  EXPECT_FALSE(torch::allclose(a, c.slice(1, 0, 3), 1e-5, 1e-5));
}

TEST(BertModel, StateDictRoundTripGivesIdenticalLogits) {
  torch::manual_seed(4);
  BertForMaskedLM a(tiny_config(2));
  torch::manual_seed(5);
  BertForMaskedLM b(tiny_config(2));
  a->eval();
  b->eval();
  auto ids = torch::randint(50, {2, 6}, torch::kLong);
  auto mask = torch::ones_like(ids);
  EXPECT_FALSE(torch::equal(a->forward(ids, mask), b->forward(ids, mask)));
  load_state_dict_hf(b, state_dict_hf(a));
  EXPECT_TRUE(torch::equal(a->forward(ids, mask), b->forward(ids, mask)));
}

TEST(BertModel, LoadRejectsMissingAndMisshapedTensors) {
  BertForMaskedLM m(tiny_config(1));
  auto sd = state_dict_hf(m);
  auto missing = sd;
  missing.erase("bert.encoder.layer.0.output.dense.bias");
  try {
    load_state_dict_hf(m, missing);
    FAIL() << "expected ModelError";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("bert.encoder.layer.0.output.dense.bias"),
              std::string::npos);
  }
  auto bad = sd;
  bad["cls.predictions.bias"] = torch::zeros({49});
  EXPECT_THROW(load_state_dict_hf(m, bad), ModelError);
  auto extra = sd;
  extra["bert.encoder.layer.7.output.dense.bias"] = torch::zeros({16});
  EXPECT_THROW(load_state_dict_hf(m, extra), ModelError);
  // A bare BertModel checkpoint (no MLM head, no "bert." prefix) loads with allow_missing_head.
  std::map<std::string, torch::Tensor> bare;
  for (const auto& [k, v] : sd) {
    if (k.starts_with("bert.")) bare[k.substr(5)] = v;
  }
  bare["pooler.dense.weight"] = torch::zeros({16, 16});
  EXPECT_THROW(load_state_dict_hf(m, bare), ModelError);
  EXPECT_NO_THROW(load_state_dict_hf(m, bare, /*allow_missing_head=*/true));
}

TEST(BertModel, MapsDistilBertNames) {
  std::map<std::string, torch::Tensor> d = {
      {"distilbert.transformer.layer.3.attention.q_lin.weight", torch::zeros({1})},
      {"distilbert.transformer.layer.3.sa_layer_norm.bias", torch::zeros({1})},
      {"distilbert.transformer.layer.3.ffn.lin1.weight", torch::zeros({1})},
      {"distilbert.transformer.layer.3.ffn.lin2.bias", torch::zeros({1})},
      {"distilbert.transformer.layer.3.output_layer_norm.weight", torch::zeros({1})},
      {"distilbert.transformer.layer.3.attention.out_lin.bias", torch::zeros({1})},
      {"distilbert.embeddings.word_embeddings.weight", torch::zeros({1})},
      {"vocab_transform.weight", torch::zeros({1})},
      {"vocab_layer_norm.bias", torch::zeros({1})},
      {"vocab_projector.bias", torch::zeros({1})}};
  std::set<std::string> got;
  for (const auto& [k, _] : map_hf_names(d)) got.insert(k);
  const std::set<std::string> expected = {"bert.encoder.layer.3.attention.self.query.weight",
                                          "bert.encoder.layer.3.attention.output.LayerNorm.bias",
                                          "bert.encoder.layer.3.intermediate.dense.weight",
                                          "bert.encoder.layer.3.output.dense.bias",
                                          "bert.encoder.layer.3.output.LayerNorm.weight",
                                          "bert.encoder.layer.3.attention.output.dense.bias",
                                          "bert.embeddings.word_embeddings.weight",
                                          "cls.predictions.transform.dense.weight",
                                          "cls.predictions.transform.LayerNorm.bias",
                                          "cls.predictions.bias"};
  EXPECT_EQ(got, expected);
}

TEST(BertConfig, JsonRoundTripAndErrors) {
  BertConfig c = tiny_config(3);
  auto j = c.to_json();
  EXPECT_EQ(j["architectures"][0], "BertForMaskedLM");
  EXPECT_EQ(j["model_type"], "bert");
  BertConfig back = BertConfig::from_json(j);
  EXPECT_EQ(back.num_hidden_layers, 3);
  EXPECT_EQ(back.vocab_size, 50);
  j.erase("hidden_size");
  EXPECT_THROW(BertConfig::from_json(j), ConfigError);
  BertConfig bad = tiny_config();
  bad.num_attention_heads = 3;
  EXPECT_THROW(bad.validate(), ConfigError);
  nlohmann::json distil = {{"model_type", "distilbert"},
                           {"vocab_size", 30},
                           {"dim", 8},
                           {"n_layers", 2},
                           {"n_heads", 2},
                           {"hidden_dim", 16}};
  BertConfig d = BertConfig::from_json(distil);
  EXPECT_EQ(d.hidden_size, 8);
  EXPECT_EQ(d.intermediate_size, 16);
}

// The lexical prior: an untrained, prior-initialised model should weight each document token by
// (a monotone function of) its prior and leave other tokens at zero.
TEST(LexicalPrior, PooledWeightsFollowThePriorOfTheDocumentsOwnTokens) {
  BertConfig c;
  c.vocab_size = 2000;
  c.hidden_size = 128;
  c.num_hidden_layers = 4;
  c.num_attention_heads = 4;
  c.intermediate_size = 512;
  c.max_position_embeddings = 128;
  torch::manual_seed(7);
  BertForMaskedLM m(c);
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(0.5f, 9.0f);
  std::vector<float> prior_v(2000);
  for (auto& p : prior_v) p = u(rng);
  for (int i = 0; i < 5; ++i) prior_v[static_cast<std::size_t>(i)] = 0.0f;  // "special tokens"
  m->init_lexical_prior(torch::tensor(prior_v));
  m->eval();
  torch::NoGradGuard g;
  const int docs = 16, len = 48;
  auto ids = torch::randint(5, 2000, {docs, len}, torch::kLong);
  auto keep = torch::ones({2000});
  keep.slice(0, 0, 5).zero_();
  auto w = sparse_pool(m->forward(ids, torch::ones_like(ids)), torch::ones_like(ids), keep);
  std::vector<double> xs, ys;
  std::int64_t off_nonzero = 0, off_total = 0;
  for (int d = 0; d < docs; ++d) {
    std::set<std::int64_t> own;
    for (int t = 0; t < len; ++t) own.insert(ids[d][t].item<std::int64_t>());
    for (std::int64_t v = 5; v < 2000; ++v) {
      const float wv = w[d][v].item<float>();
      if (own.contains(v)) {
        xs.push_back(std::log1p(prior_v[static_cast<std::size_t>(v)]));
        ys.push_back(wv);
      } else {
        ++off_total;
        off_nonzero += wv > 0 ? 1 : 0;
      }
    }
  }
  auto mean = [](const std::vector<double>& a) {
    double s = 0;
    for (double x : a) s += x;
    return s / static_cast<double>(a.size());
  };
  const double mx = mean(xs), my = mean(ys);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) * (xs[i] - mx);
    syy += (ys[i] - my) * (ys[i] - my);
  }
  const double corr = sxy / std::sqrt(sxx * syy);
  const double off_rate = static_cast<double>(off_nonzero) / static_cast<double>(off_total);
  std::printf(
      "lexical prior: corr(w, log1p(prior)) over own tokens = %.4f (n=%zu), mean |w - "
      "log1p(prior)| ratio w/x = %.3f, non-document tokens with w > 0: %.5f; stats %s\n",
      corr, xs.size(), my / mx, off_rate, m->lexical_prior_stats().dump().c_str());
  EXPECT_GT(corr, 0.9);
  EXPECT_LT(off_rate, 0.001);
  EXPECT_NEAR(my / mx, 1.0, 0.2);
}

TEST(LexicalPrior, RejectsBadPriors) {
  BertForMaskedLM m(tiny_config());
  EXPECT_THROW(m->init_lexical_prior(torch::ones({49})), ConfigError);
  EXPECT_THROW(m->init_lexical_prior(torch::zeros({50})), ConfigError);
}

}  // namespace
}  // namespace ksparse::encoder::detail
