#include "ksparse/synonyms/embedding_candidates.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ksparse/core/error.h"

namespace ksparse::synonyms {

namespace {

using Matrix = std::vector<std::vector<float>>;

std::string fill(const std::string& tmpl, const std::string& term) {
  std::string out = tmpl;
  const auto pos = out.find("{}");
  if (pos != std::string::npos) out.replace(pos, 2, term);
  return out;
}

Matrix embed_terms(const std::vector<std::string>& terms, const std::string& tmpl,
                   const EmbedFn& embed, const char* side) {
  std::vector<std::string> texts;
  texts.reserve(terms.size());
  for (const auto& t : terms) texts.push_back(fill(tmpl, t));
  Matrix m = embed(texts);
  if (m.size() != terms.size()) {
    throw DataError(fmt::format("embedding: {} {} terms gave {} vectors", terms.size(), side,
                                m.size()));
  }
  return m;
}

void normalize(std::vector<float>& v) {
  double n = 0.0;
  for (float x : v) n += static_cast<double>(x) * x;
  n = std::sqrt(n);
  if (n > 0.0) {
    for (float& x : v) x = static_cast<float>(x / n);
  }
}

void center(Matrix& m) {
  if (m.empty()) return;
  std::vector<double> mean(m.front().size(), 0.0);
  for (const auto& v : m) {
    for (std::size_t i = 0; i < v.size(); ++i) mean[i] += v[i];
  }
  for (double& x : mean) x /= static_cast<double>(m.size());
  for (auto& v : m) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(v[i] - mean[i]);
    normalize(v);
  }
}

float dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Mean of the k largest values of `row`.
double mean_top_k(std::vector<float> row, std::size_t k) {
  k = std::min(k, row.size());
  if (k == 0) return 0.0;
  std::nth_element(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(k - 1), row.end(),
                   std::greater<float>());
  double s = 0.0;
  for (std::size_t i = 0; i < k; ++i) s += row[i];
  return s / static_cast<double>(k);
}

}  // namespace

void EmbeddingOptions::validate() const {
  if (top_k == 0) throw ConfigError("embedding top_k must be >= 1");
  if (csls_k == 0) throw ConfigError("embedding csls_k must be >= 1");
  if (!(min_cosine >= -1.0 && min_cosine <= 1.0))
    throw ConfigError("embedding min_cosine must be in [-1, 1]");
}

std::vector<CandidatePair> embedding_candidates(const std::vector<std::string>& ko_terms,
                                                const std::vector<std::string>& en_terms,
                                                const EmbedFn& embed,
                                                const EmbeddingOptions& options) {
  options.validate();
  if (ko_terms.empty() || en_terms.empty()) return {};
  Matrix ko = embed_terms(ko_terms, options.ko_template, embed, "Korean");
  Matrix en = embed_terms(en_terms, options.en_template, embed, "English");
  const std::size_t dim = ko.front().size();
  for (const Matrix* m : {&ko, &en}) {
    for (const auto& v : *m) {
      if (v.size() != dim || dim == 0) {
        throw DataError(fmt::format("embedding: vectors of {} and {} dimensions mixed", dim,
                                    v.size()));
      }
    }
  }
  if (options.center) {
    center(ko);
    center(en);
  }
  // Full similarity matrix (|ko| x |en| floats): a few thousand by ten thousand fits easily.
  std::vector<std::vector<float>> sim(ko.size(), std::vector<float>(en.size()));
  for (std::size_t i = 0; i < ko.size(); ++i) {
    for (std::size_t j = 0; j < en.size(); ++j) sim[i][j] = dot(ko[i], en[j]);
  }
  std::vector<double> r_ko_side(ko.size());  // r_en(k): mean cos of k to its nearest English
  for (std::size_t i = 0; i < ko.size(); ++i) r_ko_side[i] = mean_top_k(sim[i], options.csls_k);
  std::vector<double> r_en_side(en.size());  // r_ko(e): mean cos of e to its nearest Korean
  {
    std::vector<float> col(ko.size());
    for (std::size_t j = 0; j < en.size(); ++j) {
      for (std::size_t i = 0; i < ko.size(); ++i) col[i] = sim[i][j];
      r_en_side[j] = mean_top_k(col, options.csls_k);
    }
  }
  auto csls = [&](std::size_t i, std::size_t j) {
    return 2.0 * sim[i][j] - r_ko_side[i] - r_en_side[j];
  };
  std::vector<std::size_t> best_ko_of_en;
  if (options.mutual) {
    best_ko_of_en.assign(en.size(), 0);
    for (std::size_t j = 0; j < en.size(); ++j) {
      double best = -1e9;
      for (std::size_t i = 0; i < ko.size(); ++i) {
        const double c = csls(i, j);
        if (c > best) {
          best = c;
          best_ko_of_en[j] = i;
        }
      }
    }
  }
  std::vector<CandidatePair> out;
  std::vector<std::size_t> order(en.size());
  for (std::size_t i = 0; i < ko.size(); ++i) {
    std::iota(order.begin(), order.end(), 0);
    const std::size_t k = std::min(options.top_k, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        const double ca = csls(i, a), cb = csls(i, b);
                        return ca != cb ? ca > cb : en_terms[a] < en_terms[b];
                      });
    for (std::size_t r = 0; r < k; ++r) {
      const std::size_t j = order[r];
      if (sim[i][j] < options.min_cosine) continue;
      if (options.mutual && best_ko_of_en[j] != i) continue;
      CandidatePair c;
      c.ko = ko_terms[i];
      c.en = en_terms[j];
      c.source = Source::kEmbedding;
      c.score = std::max(0.0, static_cast<double>(sim[i][j]));
      c.context = fmt::format("csls={:.3f}, rank={}", csls(i, j), r + 1);
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace ksparse::synonyms
