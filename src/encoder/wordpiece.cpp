// WordPiece (Schuster & Nakajima, 2012; Wu et al., 2016, "Google's NMT system", section 4.1) as
// used by BERT: each pre-tokenized word is covered greedily by the longest vocabulary entry that
// matches at the current position, continuation pieces spelled with a prefix ("##"). A word that
// cannot be covered, or is longer than max_input_chars_per_word, becomes [UNK] as a whole, which is
// what BERT and Hugging Face `tokenizers` do (so ids agree with models trained with them).
#include "ksparse/encoder/wordpiece.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ksparse/core/error.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace {

using nlohmann::json;

// Byte length of the last code point of s (s non-empty); an ill-formed tail counts as one byte.
std::size_t last_char_bytes(std::string_view s) {
  std::size_t n = 1;
  while (n < s.size() && n < 4 && (static_cast<unsigned char>(s[s.size() - n]) & 0xC0) == 0x80) {
    ++n;
  }
  return (static_cast<unsigned char>(s[s.size() - n]) & 0xC0) == 0x80 ? 1 : n;
}

// HF's WordPiece decoder cleanup, applied to each decoded token (with its leading space).
std::string cleanup(std::string s) {
  static const std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
      {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
      {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    std::string out;
    std::size_t pos = 0;
    while (true) {
      std::size_t hit = s.find(from, pos);
      if (hit == std::string::npos) break;
      out.append(s, pos, hit - pos);
      out.append(to);
      pos = hit + from.size();
    }
    out.append(s, pos, std::string::npos);
    s.swap(out);
  }
  return s;
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path.string() + ": check the path and permissions");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

void WordPieceConfig::validate() const {
  if (unk_token.empty()) throw ConfigError("unk_token is empty: set it to e.g. [UNK]");
  if (continuing_subword_prefix.empty()) {
    throw ConfigError("continuing_subword_prefix is empty: set it to e.g. ##");
  }
  if (max_input_chars_per_word == 0) {
    throw ConfigError("max_input_chars_per_word is 0: set it to at least 1 (BERT uses 100)");
  }
}

void EncodeOptions::validate() const {
  if (add_special_tokens && max_length == 1) {
    throw ConfigError("max_length 1 leaves no room for [CLS] and [SEP]: use 0 (off) or >= 2");
  }
}

WordPieceTokenizer::WordPieceTokenizer(std::vector<std::string> vocab, WordPieceConfig config)
    : vocab_(std::move(vocab)), config_(std::move(config)) {
  config_.validate();
  ids_.reserve(vocab_.size());
  for (std::size_t i = 0; i < vocab_.size(); ++i) {
    auto [it, inserted] = ids_.emplace(vocab_[i], static_cast<std::int32_t>(i));
    if (!inserted) {
      throw DataError("vocabulary entry '" + vocab_[i] + "' at id " + std::to_string(i) +
                      " duplicates id " + std::to_string(it->second) +
                      ": remove the duplicate line");
    }
  }
  unk_id_ = token_to_id(config_.unk_token);
  if (unk_id_ < 0) {
    throw ConfigError("the vocabulary has no unk_token '" + config_.unk_token +
                      "': add it or set unk_token to an entry that exists");
  }
  special_ids_.assign(vocab_.size(), false);
  for (const std::string* t : {&config_.unk_token, &config_.cls_token, &config_.sep_token,
                               &config_.pad_token, &config_.mask_token}) {
    std::int32_t id = token_to_id(*t);
    if (id < 0 || t->empty() || special_ids_[static_cast<size_t>(id)]) continue;
    special_ids_[static_cast<size_t>(id)] = true;
    special_tokens_.push_back(*t);
  }
  // Longest first so that, at one position, the longest special token wins.
  std::sort(special_tokens_.begin(), special_tokens_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

WordPieceTokenizer WordPieceTokenizer::from_vocab_txt(const std::filesystem::path& path,
                                                      WordPieceConfig config) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open vocabulary " + path.string() + ": check the path");
  std::vector<std::string> vocab;
  std::unordered_map<std::string, std::size_t> line_of;
  std::string line;
  while (std::getline(in, line)) {
    // HF trims trailing whitespace of each line (so "\r\n" files work too).
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r' ||
                             line.back() == '\n' || line.back() == '\f' || line.back() == '\v')) {
      line.pop_back();
    }
    if (!utf8_valid(line)) {
      throw DataError(where(path, vocab.size() + 1) + ": vocabulary entry is not valid UTF-8");
    }
    auto [it, inserted] = line_of.emplace(line, vocab.size() + 1);
    if (!inserted) {
      throw DataError(where(path, vocab.size() + 1) + ": duplicate vocabulary entry '" + line +
                      "' (first at line " + std::to_string(it->second) + "): remove one");
    }
    vocab.push_back(line);
  }
  if (vocab.empty()) throw DataError(path.string() + ": vocabulary is empty");
  return WordPieceTokenizer(std::move(vocab), std::move(config));
}

WordPieceTokenizer WordPieceTokenizer::from_tokenizer_json(const std::filesystem::path& path) {
  json j;
  try {
    j = json::parse(read_text(path));
  } catch (const json::exception& e) {
    throw IoError(path.string() + ": not valid JSON (" + e.what() + ")");
  }
  auto fail = [&](const std::string& what) -> ModelError {
    return ModelError(path.string() + ": " + what +
                      "; only BERT WordPiece tokenizers (vocab.txt or tokenizer.json with a "
                      "WordPiece model) are supported");
  };
  try {
    const json& model = j.at("model");
    if (model.value("type", "") != "WordPiece") {
      throw fail("model type '" + model.value("type", std::string("?")) + "'");
    }
    WordPieceConfig config;
    config.unk_token = model.value("unk_token", config.unk_token);
    config.continuing_subword_prefix =
        model.value("continuing_subword_prefix", config.continuing_subword_prefix);
    config.max_input_chars_per_word =
        model.value("max_input_chars_per_word", config.max_input_chars_per_word);

    const json& norm = j.contains("normalizer") ? j["normalizer"] : json();
    if (norm.is_null()) {
      config.normalizer = {false, false, false, false};
    } else if (norm.value("type", "") == "BertNormalizer") {
      config.normalizer.clean_text = norm.value("clean_text", true);
      config.normalizer.handle_chinese_chars = norm.value("handle_chinese_chars", true);
      config.normalizer.lowercase = norm.value("lowercase", true);
      if (norm.contains("strip_accents") && !norm["strip_accents"].is_null()) {
        config.normalizer.strip_accents = norm["strip_accents"].get<bool>();
      }
    } else {
      throw fail("normalizer '" + norm.value("type", std::string("?")) + "'");
    }
    const json& pre = j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json();
    if (!pre.is_null() && pre.value("type", "") != "BertPreTokenizer") {
      throw fail("pre_tokenizer '" + pre.value("type", std::string("?")) + "'");
    }
    const json& post = j.contains("post_processor") ? j["post_processor"] : json();
    if (!post.is_null()) {
      std::string type = post.value("type", "");
      if (type == "BertProcessing") {
        config.cls_token = post.at("cls").at(0).get<std::string>();
        config.sep_token = post.at("sep").at(0).get<std::string>();
      } else if (type == "TemplateProcessing") {
        const json& single = post.at("single");
        if (single.size() != 3 || !single[0].contains("SpecialToken") ||
            !single[2].contains("SpecialToken")) {
          throw fail("post_processor template other than '<special> $A <special>'");
        }
        config.cls_token = single[0]["SpecialToken"].at("id").get<std::string>();
        config.sep_token = single[2]["SpecialToken"].at("id").get<std::string>();
      } else {
        throw fail("post_processor '" + type + "'");
      }
    }
    const json& dec = j.contains("decoder") ? j["decoder"] : json();
    if (!dec.is_null()) {
      if (dec.value("type", "") != "WordPiece") {
        throw fail("decoder '" + dec.value("type", std::string("?")) + "'");
      }
      config.decode_cleanup = dec.value("cleanup", true);
    }

    const json& vocab_json = model.at("vocab");
    std::vector<std::string> vocab(vocab_json.size());
    std::vector<bool> seen(vocab_json.size(), false);
    for (auto it = vocab_json.begin(); it != vocab_json.end(); ++it) {
      auto id = it.value().get<std::int64_t>();
      if (id < 0 || static_cast<std::size_t>(id) >= vocab.size() || seen[id]) {
        throw fail("vocabulary ids are not 0..n-1 (entry '" + it.key() + "' has id " +
                   std::to_string(id) + ")");
      }
      seen[id] = true;
      vocab[id] = it.key();
    }
    if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
      for (const json& t : j["added_tokens"]) {
        auto id = t.at("id").get<std::int64_t>();
        std::string content = t.at("content").get<std::string>();
        if (id < 0 || static_cast<std::size_t>(id) >= vocab.size() || vocab[id] != content) {
          throw fail("added token '" + content + "' is not the vocabulary entry with id " +
                     std::to_string(id));
        }
      }
    }
    return WordPieceTokenizer(std::move(vocab), std::move(config));
  } catch (const json::exception& e) {
    throw ModelError(path.string() + ": malformed tokenizer.json (" + e.what() + ")");
  }
}

WordPieceTokenizer WordPieceTokenizer::from_file(const std::filesystem::path& path) {
  if (std::filesystem::is_directory(path)) {
    if (std::filesystem::exists(path / "tokenizer.json")) {
      return from_tokenizer_json(path / "tokenizer.json");
    }
    if (std::filesystem::exists(path / "vocab.txt")) return from_vocab_txt(path / "vocab.txt");
    throw IoError(path.string() + ": directory has neither tokenizer.json nor vocab.txt");
  }
  if (path.extension() == ".json") return from_tokenizer_json(path);
  return from_vocab_txt(path);
}

std::int32_t WordPieceTokenizer::token_to_id(std::string_view token) const {
  auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

bool WordPieceTokenizer::is_special(std::int32_t id) const {
  return id >= 0 && static_cast<std::size_t>(id) < special_ids_.size() &&
         special_ids_[static_cast<std::size_t>(id)];
}

void WordPieceTokenizer::add_word_pieces(std::string_view word, Encoding& out) const {
  if (utf8_length(word) > config_.max_input_chars_per_word) {
    out.ids.push_back(unk_id_);
    out.tokens.push_back(config_.unk_token);
    return;
  }
  const std::size_t first_piece = out.ids.size();
  std::string candidate;
  std::size_t start = 0;
  while (start < word.size()) {
    std::size_t end = word.size();
    std::int32_t found = -1;
    while (start < end) {
      std::string_view piece = word.substr(start, end - start);
      if (start > 0) {
        candidate.assign(config_.continuing_subword_prefix);
        candidate.append(piece);
        piece = candidate;
      }
      if (auto it = ids_.find(piece); it != ids_.end()) {
        found = it->second;
        break;
      }
      end -= last_char_bytes(word.substr(start, end - start));
    }
    if (found < 0) {
      out.ids.resize(first_piece);
      out.tokens.resize(first_piece);
      out.ids.push_back(unk_id_);
      out.tokens.push_back(config_.unk_token);
      return;
    }
    out.ids.push_back(found);
    out.tokens.push_back(vocab_[static_cast<std::size_t>(found)]);
    start = end;
  }
}

void WordPieceTokenizer::encode_segment(std::string_view segment, Encoding& out) const {
  for (const std::string& word : bert_pre_tokenize(bert_normalize(segment, config_.normalizer))) {
    add_word_pieces(word, out);
  }
}

std::vector<std::string> WordPieceTokenizer::tokenize_word(std::string_view word) const {
  Encoding e;
  add_word_pieces(word, e);
  return e.tokens;
}

std::vector<std::string> WordPieceTokenizer::tokenize(std::string_view text) const {
  EncodeOptions options;
  options.add_special_tokens = false;
  return encode(text, options).tokens;
}

Encoding WordPieceTokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  options.validate();
  Encoding out;
  // Special tokens are matched in the raw text, leftmost first and longest at a position; the text
  // between them is normalized and tokenized on its own.
  std::size_t seg_start = 0;
  std::size_t pos = 0;
  while (pos < text.size() && !special_tokens_.empty()) {
    const std::string* hit = nullptr;
    for (const std::string& t : special_tokens_) {
      if (text.compare(pos, t.size(), t) == 0) {
        hit = &t;
        break;
      }
    }
    if (hit == nullptr) {
      ++pos;
      continue;
    }
    encode_segment(text.substr(seg_start, pos - seg_start), out);
    out.ids.push_back(ids_.find(*hit)->second);
    out.tokens.push_back(*hit);
    pos += hit->size();
    seg_start = pos;
  }
  encode_segment(text.substr(seg_start), out);

  if (!options.add_special_tokens) {
    if (options.max_length > 0 && out.ids.size() > options.max_length) {
      out.ids.resize(options.max_length);
      out.tokens.resize(options.max_length);
    }
    return out;
  }
  std::int32_t cls = cls_id();
  std::int32_t sep = sep_id();
  if (cls < 0 || sep < 0) {
    throw ConfigError("cannot add special tokens: '" + config_.cls_token + "' or '" +
                      config_.sep_token + "' is not in the vocabulary");
  }
  if (options.max_length > 0 && out.ids.size() + 2 > options.max_length) {
    out.ids.resize(options.max_length - 2);
    out.tokens.resize(options.max_length - 2);
  }
  out.ids.insert(out.ids.begin(), cls);
  out.tokens.insert(out.tokens.begin(), config_.cls_token);
  out.ids.push_back(sep);
  out.tokens.push_back(config_.sep_token);
  return out;
}

std::string WordPieceTokenizer::decode(std::span<const std::int32_t> ids,
                                       bool skip_special_tokens) const {
  std::string out;
  bool first = true;
  const std::string& prefix = config_.continuing_subword_prefix;
  for (std::int32_t id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= vocab_.size()) {
      throw DataError("decode: id " + std::to_string(id) + " is outside the vocabulary (size " +
                      std::to_string(vocab_.size()) + ")");
    }
    if (skip_special_tokens && is_special(id)) continue;
    const std::string& token = vocab_[static_cast<std::size_t>(id)];
    std::string piece;
    if (first) {
      piece = token;
    } else if (token.starts_with(prefix)) {
      piece = token.substr(prefix.size());
    } else {
      piece = " " + token;
    }
    first = false;
    out += config_.decode_cleanup ? cleanup(std::move(piece)) : piece;
  }
  return out;
}

void WordPieceTokenizer::save_vocab_txt(const std::filesystem::path& path) const {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError("cannot write " + path.string() + ": check the directory exists");
  for (const std::string& t : vocab_) out << t << '\n';
  if (!out) throw IoError("write failed: " + path.string());
}

void WordPieceTokenizer::save_tokenizer_json(const std::filesystem::path& path) const {
  json added = json::array();
  for (std::size_t id = 0; id < vocab_.size(); ++id) {
    if (!special_ids_[id]) continue;
    added.push_back({{"id", id},
                     {"content", vocab_[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  json vocab = json::object();
  for (std::size_t id = 0; id < vocab_.size(); ++id) vocab[vocab_[id]] = id;
  const BertNormalizerOptions& n = config_.normalizer;
  json normalizer = {{"type", "BertNormalizer"},
                     {"clean_text", n.clean_text},
                     {"handle_chinese_chars", n.handle_chinese_chars},
                     {"strip_accents", n.strip_accents ? json(*n.strip_accents) : json()},
                     {"lowercase", n.lowercase}};
  json post = json();
  if (cls_id() >= 0 && sep_id() >= 0) {
    post = {{"type", "BertProcessing"},
            {"sep", json::array({config_.sep_token, sep_id()})},
            {"cls", json::array({config_.cls_token, cls_id()})}};
  }
  json j = {{"version", "1.0"},
            {"truncation", nullptr},
            {"padding", nullptr},
            {"added_tokens", added},
            {"normalizer", normalizer},
            {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
            {"post_processor", post},
            {"decoder",
             {{"type", "WordPiece"},
              {"prefix", config_.continuing_subword_prefix},
              {"cleanup", config_.decode_cleanup}}},
            {"model",
             {{"type", "WordPiece"},
              {"unk_token", config_.unk_token},
              {"continuing_subword_prefix", config_.continuing_subword_prefix},
              {"max_input_chars_per_word", config_.max_input_chars_per_word},
              {"vocab", vocab}}}};
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError("cannot write " + path.string() + ": check the directory exists");
  out << j.dump(2) << '\n';
  if (!out) throw IoError("write failed: " + path.string());
}

}  // namespace ksparse
