// SparseEncoder: model directory IO, document encoding with pruning, doc-only query weights, IDF.
//
// Doc-only ("inference-free") mode follows OpenSearch's neural-sparse doc-v1/v2/v3 models: the
// query side is a table look-up, weight(t) = relu(idf[t]) once per distinct query token, special
// tokens zero, so search needs no model at query time (see ../shared/docs/anchors.md).
#include "ksparse/encoder/sparse_encoder.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <unordered_set>

#include "ksparse/core/error.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/progress.h"
#include "safetensors.h"
#include "sparse_encoder_internal.h"

namespace ksparse {

using encoder::detail::BertForMaskedLM;
using nlohmann::json;

namespace {

constexpr const char* kManifestKind = "sparse_encoder";

json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open " + path.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw IoError(path.string() + ": invalid JSON: " + e.what());
  }
}

void write_json_file(const std::filesystem::path& path, const json& j) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw IoError("cannot write " + path.string());
  out << j.dump(2) << "\n";
  if (!out) throw IoError("error writing " + path.string());
}

}  // namespace

std::string encoder_mode_name(EncoderMode mode) {
  return mode == EncoderMode::kDocOnly ? "doc-only" : "siamese";
}

EncoderMode parse_encoder_mode(std::string_view name) {
  if (name == "doc-only") return EncoderMode::kDocOnly;
  if (name == "siamese") return EncoderMode::kSiamese;
  throw ConfigError("encoder mode '" + std::string(name) + "' is not one of doc-only, siamese");
}

std::string sparse_pooling_name(SparsePooling pooling) {
  return pooling == SparsePooling::kLog1pRelu ? "log1p_relu" : "l0";
}

SparsePooling parse_sparse_pooling(std::string_view name) {
  if (name == "log1p_relu") return SparsePooling::kLog1pRelu;
  if (name == "l0") return SparsePooling::kL0;
  throw ConfigError("sparse pooling '" + std::string(name) + "' is not one of log1p_relu, l0");
}

void SparseEncoderSettings::validate() const {
  if (max_length < 2) throw ConfigError("sparse encoder: max_length must be >= 2 ([CLS] and [SEP])");
}

json SparseEncoderSettings::to_json() const {
  return {{"mode", encoder_mode_name(mode)},
          {"pooling", sparse_pooling_name(pooling)},
          {"max_length", max_length}};
}

SparseEncoderSettings SparseEncoderSettings::from_json(const json& j) {
  SparseEncoderSettings s;
  try {
    if (j.contains("mode")) s.mode = parse_encoder_mode(j.at("mode").get<std::string>());
    if (j.contains("pooling")) s.pooling = parse_sparse_pooling(j.at("pooling").get<std::string>());
    if (j.contains("max_length")) s.max_length = j.at("max_length").get<std::size_t>();
  } catch (const json::exception& e) {
    throw ConfigError(std::string("sparse encoder settings: ") + e.what());
  }
  s.validate();
  return s;
}

void DocumentEncodeOptions::validate() const {
  if (batch_size < 1) throw ConfigError("encode: batch_size must be >= 1");
  if (max_length == 1) throw ConfigError("encode: max_length must be 0 (model default) or >= 2");
  if (!std::isfinite(threshold) || threshold < 0) throw ConfigError("encode: threshold must be >= 0");
}

// ------------------------------------------------------------------------------ internals

namespace encoder::detail {

TokenBatch tokenize_batch(const WordPieceTokenizer& tokenizer, const std::vector<std::string>& texts,
                          std::size_t max_length) {
  EncodeOptions eo;
  eo.add_special_tokens = true;
  eo.max_length = max_length;
  std::vector<std::vector<std::int32_t>> ids;
  ids.reserve(texts.size());
  std::size_t longest = 1;
  for (const auto& text : texts) {
    ids.push_back(tokenizer.encode(text, eo).ids);
    longest = std::max(longest, ids.back().size());
  }
  const std::int64_t pad = std::max<std::int32_t>(tokenizer.pad_id(), 0);
  const auto b = static_cast<std::int64_t>(texts.size()), t = static_cast<std::int64_t>(longest);
  auto input_ids = torch::full({b, t}, pad, torch::kLong);
  auto mask = torch::zeros({b, t}, torch::kLong);
  auto ia = input_ids.accessor<std::int64_t, 2>();
  auto ma = mask.accessor<std::int64_t, 2>();
  for (std::int64_t i = 0; i < b; ++i) {
    const auto& row = ids[static_cast<std::size_t>(i)];
    for (std::size_t j = 0; j < row.size(); ++j) {
      ia[i][static_cast<std::int64_t>(j)] = row[j];
      ma[i][static_cast<std::int64_t>(j)] = 1;
    }
  }
  return {input_ids, mask};
}

torch::Tensor special_token_mask(const WordPieceTokenizer& tokenizer, std::int64_t vocab_size) {
  const std::int64_t v = vocab_size > 0 ? vocab_size : static_cast<std::int64_t>(tokenizer.vocab_size());
  auto mask = torch::zeros({v}, torch::kFloat);
  auto a = mask.accessor<float, 1>();
  const auto n = std::min<std::int64_t>(v, static_cast<std::int64_t>(tokenizer.vocab_size()));
  for (std::int64_t i = 0; i < n; ++i) {
    a[i] = tokenizer.is_special(static_cast<std::int32_t>(i)) ? 0.0f : 1.0f;
  }
  return mask;  // ids >= tokenizer size (a padded model vocabulary) stay 0: no string to emit
}

SparseVector row_to_sparse_vector(const torch::Tensor& row_in, std::size_t top_k, float threshold) {
  auto row = row_in.to(torch::kFloat).contiguous();
  const float* w = row.data_ptr<float>();
  const auto n = row.numel();
  std::vector<std::pair<TermId, float>> kept;
  for (std::int64_t i = 0; i < n; ++i) {
    if (w[i] > threshold) kept.emplace_back(static_cast<TermId>(i), w[i]);
  }
  if (top_k > 0 && kept.size() > top_k) {
    std::partial_sort(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(top_k), kept.end(),
                      [](const auto& a, const auto& b) {
                        return a.second != b.second ? a.second > b.second : a.first < b.first;
                      });
    kept.resize(top_k);
  }
  return SparseVector::from_pairs(std::move(kept));
}

}  // namespace encoder::detail

// ------------------------------------------------------------------------------ SparseEncoder

SparseEncoder::SparseEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SparseEncoder::SparseEncoder(SparseEncoder&&) noexcept = default;
SparseEncoder& SparseEncoder::operator=(SparseEncoder&&) noexcept = default;
SparseEncoder::~SparseEncoder() = default;

SparseEncoder SparseEncoder::create(WordPieceTokenizer tokenizer, BertConfig config,
                                    SparseEncoderSettings settings, std::vector<float> idf,
                                    bool lexical_prior, std::uint64_t seed) {
  settings.validate();
  config.vocab_size = static_cast<std::int64_t>(tokenizer.vocab_size());
  if (tokenizer.pad_id() >= 0) config.pad_token_id = tokenizer.pad_id();
  config.validate();
  if (settings.max_length > static_cast<std::size_t>(config.max_position_embeddings)) {
    throw ConfigError("sparse encoder: max_length " + std::to_string(settings.max_length) +
                      " exceeds max_position_embeddings " +
                      std::to_string(config.max_position_embeddings));
  }
  if (!idf.empty() && idf.size() != tokenizer.vocab_size()) {
    throw DataError("sparse encoder: idf has " + std::to_string(idf.size()) +
                    " values, the vocabulary " + std::to_string(tokenizer.vocab_size()));
  }
  torch::manual_seed(seed);
  BertForMaskedLM model(config);
  if (lexical_prior && !idf.empty()) {
    model->init_lexical_prior(torch::tensor(idf, torch::kFloat));
  }
  model->eval();
  auto mask = encoder::detail::special_token_mask(tokenizer, config.vocab_size);
  auto impl = std::unique_ptr<Impl>(new Impl{std::move(tokenizer), settings, std::move(idf), model, mask});
  return SparseEncoder(std::move(impl));
}

SparseEncoder SparseEncoder::load(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw IoError("model directory " + dir.string() + " does not exist (train or export one first)");
  }
  const auto config_path = dir / "config.json";
  BertConfig config;
  try {
    config = BertConfig::from_json(read_json_file(config_path));
  } catch (const ConfigError& e) {
    throw ModelError(config_path.string() + ": " + e.what());
  }
  const bool ours = std::filesystem::exists(dir / "manifest.json");
  SparseEncoderSettings settings;
  if (ours) {
    Manifest m = read_manifest(dir, kManifestKind);
    settings = SparseEncoderSettings::from_json(m.config.value("settings", json::object()));
  } else {
    settings.mode = std::filesystem::exists(dir / "idf.json") ? EncoderMode::kDocOnly : EncoderMode::kSiamese;
    settings.max_length = std::min<std::size_t>(256, static_cast<std::size_t>(config.max_position_embeddings));
  }
  WordPieceTokenizer tokenizer = WordPieceTokenizer::from_file(dir);
  if (static_cast<std::int64_t>(tokenizer.vocab_size()) > config.vocab_size) {
    throw ModelError(dir.string() + ": tokenizer has " + std::to_string(tokenizer.vocab_size()) +
                     " tokens but config.json vocab_size is " + std::to_string(config.vocab_size));
  }
  const auto weights = dir / "model.safetensors";
  if (!std::filesystem::exists(weights)) {
    throw ModelError(dir.string() + ": no model.safetensors (a pytorch_model.bin checkpoint must be "
                     "converted to safetensors first)");
  }
  BertForMaskedLM model(config);
  try {
    encoder::detail::load_state_dict_hf(model, encoder::detail::read_safetensors(weights),
                                        /*allow_missing_head=*/!ours);
  } catch (const ModelError& e) {
    throw ModelError(weights.string() + ": " + e.what());
  }
  model->eval();
  std::vector<float> idf;
  if (std::filesystem::exists(dir / "idf.json")) {
    // Tokens an idf.json leaves out weigh 1, as in OpenSearch's training sample (SparseModel).
    idf = read_idf_json(dir / "idf.json", tokenizer, ours ? 0.0f : 1.0f);
  }
  auto mask = encoder::detail::special_token_mask(tokenizer, config.vocab_size);
  auto impl = std::unique_ptr<Impl>(new Impl{std::move(tokenizer), settings, std::move(idf), model, mask});
  return SparseEncoder(std::move(impl));
}

void SparseEncoder::save(const std::filesystem::path& dir, const json& extra_config,
                         const json& stats) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create " + dir.string() + ": " + ec.message());
  const auto& tok = impl_->tokenizer;
  const auto& cfg = impl_->model->config();
  std::vector<std::filesystem::path> files;
  auto add = [&](const char* name) { files.push_back(dir / name); return dir / name; };

  write_json_file(add("config.json"), cfg.to_json());
  encoder::detail::write_safetensors(add("model.safetensors"), encoder::detail::state_dict_hf(impl_->model));
  tok.save_vocab_txt(add("vocab.txt"));
  tok.save_tokenizer_json(add("tokenizer.json"));
  const auto& tc = tok.config();
  json special = {{"unk_token", tc.unk_token}, {"sep_token", tc.sep_token}, {"pad_token", tc.pad_token},
                  {"cls_token", tc.cls_token}, {"mask_token", tc.mask_token}};
  json tokenizer_config = special;
  tokenizer_config["tokenizer_class"] = "BertTokenizer";
  tokenizer_config["do_lower_case"] = tc.normalizer.lowercase;
  tokenizer_config["strip_accents"] =
      tc.normalizer.strip_accents ? json(*tc.normalizer.strip_accents) : json(nullptr);
  tokenizer_config["tokenize_chinese_chars"] = tc.normalizer.handle_chinese_chars;
  tokenizer_config["model_max_length"] = cfg.max_position_embeddings;
  tokenizer_config["clean_up_tokenization_spaces"] = tc.decode_cleanup;
  write_json_file(add("tokenizer_config.json"), tokenizer_config);
  write_json_file(add("special_tokens_map.json"), special);
  if (!impl_->idf.empty()) write_idf_json(add("idf.json"), tok, impl_->idf);
  if (impl_->idf.empty()) std::filesystem::remove(dir / "idf.json", ec);

  json config = extra_config.is_object() ? extra_config : json::object();
  config["settings"] = impl_->settings.to_json();
  config["bert"] = cfg.to_json();
  Manifest m = make_manifest(kManifestKind, config);
  for (const auto& f : files) m.outputs.push_back(describe_file(f, dir));
  m.stats = stats.is_object() ? stats : json::object();
  m.stats["vocab_size"] = cfg.vocab_size;
  m.stats["parameters"] = [&] {
    std::int64_t n = 0;
    for (const auto& p : impl_->model->parameters()) n += p.numel();
    return n;
  }();
  write_manifest(dir, m);
}

std::vector<SparseVector> SparseEncoder::encode_documents(const std::vector<std::string>& texts,
                                                          const DocumentEncodeOptions& options) const {
  options.validate();
  const std::size_t max_length = options.max_length ? options.max_length : impl_->settings.max_length;
  if (max_length > static_cast<std::size_t>(impl_->model->config().max_position_embeddings)) {
    throw ConfigError("encode: max_length " + std::to_string(max_length) +
                      " exceeds the model's max_position_embeddings");
  }
  std::vector<SparseVector> out(texts.size());
  ProgressOptions po;
  if (!options.show_progress) po.mode = ProgressOptions::Mode::kOff;
  Progress progress("encoding", texts.size(), po);
  torch::NoGradGuard no_grad;
  auto& model = impl_->model;
  const bool was_training = model->is_training();
  model->eval();
  // Texts of similar length share a batch (padding costs attention and MLM-head work): within each
  // window of 32 batches, texts are ordered by byte length, a cheap proxy for token count.
  const std::size_t window = options.batch_size * 32;
  std::vector<std::size_t> order;
  std::vector<std::string> batch;
  for (std::size_t w0 = 0; w0 < texts.size(); w0 += window) {
    const std::size_t w1 = std::min(texts.size(), w0 + window);
    order.resize(w1 - w0);
    std::iota(order.begin(), order.end(), w0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return texts[a].size() < texts[b].size();
    });
    for (std::size_t begin = 0; begin < order.size(); begin += options.batch_size) {
      const std::size_t end = std::min(order.size(), begin + options.batch_size);
      batch.clear();
      for (std::size_t k = begin; k < end; ++k) batch.push_back(texts[order[k]]);
      auto tb = encoder::detail::tokenize_batch(impl_->tokenizer, batch, max_length);
      auto pooled = model->sparse_forward(tb.input_ids, tb.attention_mask, impl_->token_mask,
                                          impl_->settings.pooling);
      for (std::size_t k = begin; k < end; ++k) {
        out[order[k]] = encoder::detail::row_to_sparse_vector(
            pooled[static_cast<std::int64_t>(k - begin)], options.top_k, options.threshold);
      }
      progress.advance(end - begin);
    }
  }
  if (was_training) model->train();
  return out;
}

SparseVector SparseEncoder::query_weights(std::string_view text) const {
  if (impl_->settings.mode == EncoderMode::kSiamese) {
    DocumentEncodeOptions o;
    o.batch_size = 1;
    return encode_documents({std::string(text)}, o).front();
  }
  if (impl_->idf.empty()) {
    throw ModelError("query_weights: doc-only mode needs idf.json (compute_idf over the corpus)");
  }
  EncodeOptions eo;
  eo.add_special_tokens = false;
  eo.max_length = impl_->settings.max_length;
  std::vector<std::pair<TermId, float>> pairs;
  std::unordered_set<std::int32_t> seen;
  for (std::int32_t id : impl_->tokenizer.encode(text, eo).ids) {
    if (impl_->tokenizer.is_special(id) || !seen.insert(id).second) continue;
    const float w = std::max(0.0f, impl_->idf[static_cast<std::size_t>(id)]);
    if (w > 0.0f) pairs.emplace_back(static_cast<TermId>(id), w);
  }
  return SparseVector::from_pairs(std::move(pairs));
}

std::vector<std::pair<std::string, float>> SparseEncoder::term_weights(const SparseVector& v) const {
  std::vector<std::pair<std::string, float>> out;
  out.reserve(v.size());
  for (const auto& e : v.entries()) {
    if (e.term >= impl_->tokenizer.vocab_size()) {
      throw DataError("term_weights: term id " + std::to_string(e.term) + " is outside the vocabulary");
    }
    out.emplace_back(impl_->tokenizer.id_to_token(static_cast<std::int32_t>(e.term)), e.weight);
  }
  return out;
}

const WordPieceTokenizer& SparseEncoder::tokenizer() const { return impl_->tokenizer; }
const BertConfig& SparseEncoder::config() const { return impl_->model->config(); }
const SparseEncoderSettings& SparseEncoder::settings() const { return impl_->settings; }
void SparseEncoder::set_settings(const SparseEncoderSettings& settings) {
  settings.validate();
  impl_->settings = settings;
}
const std::vector<float>& SparseEncoder::idf() const { return impl_->idf; }
void SparseEncoder::set_idf(std::vector<float> idf) {
  if (!idf.empty() && idf.size() != impl_->tokenizer.vocab_size()) {
    throw DataError("set_idf: " + std::to_string(idf.size()) + " values for a vocabulary of " +
                    std::to_string(impl_->tokenizer.vocab_size()));
  }
  impl_->idf = std::move(idf);
}

// ------------------------------------------------------------------------------------ IDF

std::vector<float> compute_idf(const WordPieceTokenizer& tokenizer, const std::vector<std::string>& texts,
                               std::size_t max_length) {
  if (texts.empty()) throw DataError("compute_idf: no texts");
  std::vector<std::uint32_t> df(tokenizer.vocab_size(), 0);
  EncodeOptions eo;
  eo.add_special_tokens = false;
  eo.max_length = max_length;
  std::vector<std::int32_t> ids;
  for (const auto& text : texts) {
    ids = tokenizer.encode(text, eo).ids;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (auto id : ids) ++df[static_cast<std::size_t>(id)];
  }
  // BM25's (Robertson-Sparck Jones) idf with the +1 inside the log that keeps it positive, as
  // Lucene and OpenSearch's idf.json use: ln(1 + (N - df + 0.5) / (df + 0.5)).
  const double n = static_cast<double>(texts.size());
  std::vector<float> idf(df.size());
  for (std::size_t i = 0; i < df.size(); ++i) {
    idf[i] = tokenizer.is_special(static_cast<std::int32_t>(i))
                 ? 0.0f
                 : static_cast<float>(std::log(1.0 + (n - df[i] + 0.5) / (df[i] + 0.5)));
  }
  return idf;
}

void write_idf_json(const std::filesystem::path& path, const WordPieceTokenizer& tokenizer,
                    const std::vector<float>& idf) {
  if (idf.size() != tokenizer.vocab_size()) {
    throw DataError("write_idf_json: idf has " + std::to_string(idf.size()) + " values, the vocabulary " +
                    std::to_string(tokenizer.vocab_size()));
  }
  json j = json::object();
  for (std::size_t i = 0; i < idf.size(); ++i) {
    j[tokenizer.id_to_token(static_cast<std::int32_t>(i))] = idf[i];
  }
  std::ofstream out(path, std::ios::trunc);
  if (!out) throw IoError("cannot write " + path.string());
  out << j.dump() << "\n";
  if (!out) throw IoError("error writing " + path.string());
}

std::vector<float> read_idf_json(const std::filesystem::path& path, const WordPieceTokenizer& tokenizer,
                                 float missing_value) {
  json j = read_json_file(path);
  if (!j.is_object()) throw DataError(path.string() + ": idf.json must be an object token -> idf");
  std::vector<float> idf(tokenizer.vocab_size(), missing_value);
  for (const auto& [token, value] : j.items()) {
    if (!value.is_number()) {
      throw DataError(path.string() + ": value of token '" + token + "' is not a number");
    }
    const auto id = tokenizer.token_to_id(token);
    if (id >= 0) idf[static_cast<std::size_t>(id)] = value.get<float>();
  }
  return idf;
}

}  // namespace ksparse
