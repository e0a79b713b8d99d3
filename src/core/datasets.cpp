#include "ksparse/core/datasets.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <system_error>
#include <unordered_map>

#include "ksparse/core/config.h"
#include "ksparse/core/csv.h"
#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/core/manifest.h"
#include "ksparse/core/progress.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace fs = std::filesystem;

namespace {

// SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
// tiny, well mixed, and fully specified here, unlike std::shuffle whose algorithm varies by
// standard library.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound), bound > 0; rejection sampling removes modulo bias.
  std::uint64_t below(std::uint64_t bound) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    std::uint64_t x;
    do {
      x = next();
    } while (x >= limit);
    return x % bound;
  }

 private:
  std::uint64_t state_;
};

std::string read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open for reading", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Field `key` of `obj` (at JSON path `at`) with the expected type, else DataError naming both.
const nlohmann::json& korquad_field(const nlohmann::json& obj, const char* key,
                                    nlohmann::json::value_t type, const fs::path& file,
                                    const std::string& at) {
  if (!obj.is_object()) {
    throw DataError(fmt::format("{}: {} must be an object, got {}; is this a KorQuAD/SQuAD file?",
                                file.string(), at, obj.type_name()));
  }
  auto it = obj.find(key);
  if (it == obj.end()) {
    throw DataError(
        fmt::format("{}: {} has no `{}`; is this a KorQuAD/SQuAD file?", file.string(), at, key));
  }
  if (it->type() != type) {
    throw DataError(
        fmt::format("{}: {}.{} has the wrong type ({})", file.string(), at, key, it->type_name()));
  }
  return *it;
}

void remove_stale(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

void add_outputs(Manifest& m, const fs::path& dir, const std::vector<fs::path>& rel_paths) {
  for (const auto& rel : rel_paths) m.outputs.push_back(describe_file(dir / rel, dir));
}

}  // namespace

std::vector<bool> split_articles(std::size_t n, double fraction, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  SplitMix64 rng(seed);
  // Fisher-Yates (Knuth, TAOCP vol. 2, Algorithm 3.4.2P).
  for (std::size_t i = n; i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rng.below(i));
    std::swap(order[i - 1], order[j]);
  }
  const auto n_train = static_cast<std::size_t>(std::llround(fraction * static_cast<double>(n)));
  std::vector<bool> train(n, false);
  for (std::size_t k = 0; k < n_train && k < n; ++k) train[order[k]] = true;
  return train;
}

void KorquadOptions::validate() const {
  if (input.empty()) throw ConfigError("korquad: input is empty; pass --in KorQuAD_v1.0_dev.json");
  if (out_dir.empty()) throw ConfigError("korquad: out_dir is empty; pass --out DIR");
  if (!(split_articles >= 0.0 && split_articles < 1.0)) {
    throw ConfigError(fmt::format(
        "korquad: split_articles = {} must be in [0, 1) (fraction of articles for training; 0 "
        "disables the split)",
        split_articles));
  }
}

nlohmann::json KorquadOptions::to_json() const {
  return {{"input", input.string()},
          {"out_dir", out_dir.string()},
          {"split_articles", split_articles},
          {"seed", seed}};
}

void CsvCorpusOptions::validate() const {
  if (input.empty()) throw ConfigError("csv: input is empty; pass --in FILE.csv");
  if (out_dir.empty()) throw ConfigError("csv: out_dir is empty; pass --out DIR");
  if (text_col.empty()) throw ConfigError("csv: text column is empty; pass --text-col NAME");
}

nlohmann::json CsvCorpusOptions::to_json() const {
  return {{"input", input.string()}, {"out_dir", out_dir.string()},
          {"id_col", id_col},        {"title_col", title_col},
          {"text_col", text_col},    {"date_col", date_col},
          {"meta_cols", meta_cols},  {"delimiter", std::string(1, delimiter)}};
}

nlohmann::json DatasetStats::to_json() const {
  return {{"passages", passages},
          {"queries", queries},
          {"qrels", qrels},
          {"train_qrels", train_qrels},
          {"test_qrels", test_qrels},
          {"articles", articles},
          {"train_articles", train_articles},
          {"duplicate_passages", duplicate_passages},
          {"empty_text", empty_text}};
}

KorquadOptions korquad_options_from(const ConfigTable& table, KorquadOptions defaults) {
  table.expect_keys({"input", "out_dir", "split_articles", "seed"});
  KorquadOptions o = std::move(defaults);
  o.input = table.get("input", o.input);
  o.out_dir = table.get("out_dir", o.out_dir);
  o.split_articles = table.get("split_articles", o.split_articles);
  o.seed = table.get("seed", o.seed);
  return o;
}

DatasetStats convert_korquad(const KorquadOptions& options) {
  options.validate();
  const fs::path& in = options.input;
  const std::string raw = read_whole(in);
  std::size_t bad = 0;
  if (!utf8_valid(raw, &bad)) {
    throw DataError(fmt::format("{}: invalid UTF-8 at byte offset {}", in.string(), bad));
  }
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(raw);
  } catch (const nlohmann::json::parse_error& e) {
    throw DataError(fmt::format("{}: not valid JSON: {}", in.string(), e.what()));
  }
  using V = nlohmann::json::value_t;
  const auto& articles = korquad_field(root, "data", V::array, in, "the top level");

  DatasetStats stats;
  stats.articles = articles.size();
  const bool split = options.split_articles > 0.0;
  std::vector<bool> is_train(articles.size(), false);
  if (split) is_train = split_articles(articles.size(), options.split_articles, options.seed);

  const fs::path& out = options.out_dir;
  JsonlWriter corpus(out / "corpus.jsonl");
  JsonlWriter queries(out / "queries.jsonl");
  Qrels train_qrels, test_qrels;
  std::unordered_map<std::string, std::string> passage_of_context;  // context -> passage id
  std::unordered_map<std::string, std::string> seen_question;       // id -> JSON path
  Progress progress("korquad articles", articles.size());

  for (std::size_t a = 0; a < articles.size(); ++a) {
    const std::string at_a = fmt::format("data[{}]", a);
    const auto& article = articles[a];
    const std::string title =
        korquad_field(article, "title", V::string, in, at_a).get<std::string>();
    const auto& paragraphs = korquad_field(article, "paragraphs", V::array, in, at_a);
    if (is_train[a]) ++stats.train_articles;
    for (std::size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string at_p = fmt::format("{}.paragraphs[{}]", at_a, p);
      const auto& para = paragraphs[p];
      const std::string context =
          korquad_field(para, "context", V::string, in, at_p).get<std::string>();
      auto [it, fresh] = passage_of_context.emplace(context, fmt::format("kq-{}-{}", a, p));
      const std::string& passage_id = it->second;
      if (fresh) {
        corpus.write(
            Document{passage_id, title, context, nlohmann::json{{"article", a}, {"paragraph", p}}});
      } else {
        ++stats.duplicate_passages;
      }
      const auto& qas = korquad_field(para, "qas", V::array, in, at_p);
      for (std::size_t q = 0; q < qas.size(); ++q) {
        const std::string at_q = fmt::format("{}.qas[{}]", at_p, q);
        const auto& qa = qas[q];
        const std::string qid = korquad_field(qa, "id", V::string, in, at_q).get<std::string>();
        const std::string question =
            korquad_field(qa, "question", V::string, in, at_q).get<std::string>();
        if (qid.empty()) throw DataError(fmt::format("{}: {}.id is empty", in.string(), at_q));
        auto [prev, new_id] = seen_question.emplace(qid, at_q);
        if (!new_id) {
          throw DataError(fmt::format("{}: duplicate question id \"{}\" at {} and {}", in.string(),
                                      qid, prev->second, at_q));
        }
        nlohmann::json answers = nlohmann::json::array();
        if (auto ans = qa.find("answers"); ans != qa.end() && ans->is_array()) {
          for (const auto& x : *ans) {
            if (x.is_object() && x.contains("text") && x["text"].is_string()) {
              answers.push_back(x["text"]);
            }
          }
        }
        const bool train = is_train[a];
        queries.write(Query{qid, question,
                            nlohmann::json{{"article", a},
                                           {"title", title},
                                           {"answers", std::move(answers)},
                                           {"split", train ? "train" : "test"}}});
        (train ? train_qrels : test_qrels)[qid][passage_id] = 1;
        ++(train ? stats.train_qrels : stats.test_qrels);
      }
    }
    progress.advance();
  }
  progress.finish();
  stats.passages = corpus.count();
  stats.queries = queries.count();
  stats.qrels = stats.train_qrels + stats.test_qrels;
  corpus.close();
  queries.close();
  if (stats.passages == 0) {
    throw DataError(fmt::format("{}: no passages found (empty `data`)", in.string()));
  }

  std::vector<fs::path> outputs{"corpus.jsonl", "queries.jsonl", "qrels/test.tsv"};
  write_qrels(out / "qrels/test.tsv", test_qrels);
  if (split) {
    write_qrels(out / "qrels/train.tsv", train_qrels);
    outputs.emplace_back("qrels/train.tsv");
  } else {
    remove_stale(out / "qrels/train.tsv");  // from an earlier run with a split
  }

  Manifest m = make_manifest("dataset", options.to_json());
  m.config["source"] = "korquad";
  m.inputs.push_back(describe_file(in));
  add_outputs(m, out, outputs);
  m.stats = stats.to_json();
  write_manifest(out, m);
  return stats;
}

DatasetStats convert_csv_corpus(const CsvCorpusOptions& options) {
  options.validate();
  CsvReader reader(options.input, CsvOptions{options.delimiter, true});
  const std::size_t text_i = reader.column(options.text_col);
  auto optional_col = [&](const std::string& name) -> std::optional<std::size_t> {
    if (name.empty()) return std::nullopt;
    return reader.column(name);
  };
  const auto id_i = optional_col(options.id_col);
  const auto title_i = optional_col(options.title_col);
  const auto date_i = optional_col(options.date_col);
  std::vector<std::pair<std::string, std::size_t>> meta;
  for (const auto& name : options.meta_cols) meta.emplace_back(name, reader.column(name));

  DatasetStats stats;
  JsonlWriter corpus(options.out_dir / "corpus.jsonl");
  std::unordered_map<std::string, std::size_t> line_of_id;
  std::vector<std::string> row;
  Progress progress("csv rows", 0);
  while (reader.next(row)) {
    Document doc;
    if (id_i) {
      doc.id = row[*id_i];
      if (doc.id.empty()) {
        throw DataError(fmt::format("{}: empty id in column \"{}\"",
                                    where(options.input, reader.line_no()), options.id_col));
      }
    } else {
      doc.id = fmt::format("d{:06}", reader.records());
    }
    auto [prev, fresh] = line_of_id.emplace(doc.id, reader.line_no());
    if (!fresh) {
      throw DataError(fmt::format("{}: duplicate id \"{}\" (first at line {})",
                                  where(options.input, reader.line_no()), doc.id, prev->second));
    }
    doc.text = row[text_i];
    if (doc.text.empty()) ++stats.empty_text;
    if (title_i) doc.title = row[*title_i];
    nlohmann::json md = nlohmann::json::object();
    if (date_i) md["date"] = row[*date_i];
    for (const auto& [name, i] : meta) md[name] = row[i];
    if (!md.empty()) doc.metadata = std::move(md);
    corpus.write(doc);
    progress.advance();
  }
  progress.finish();
  corpus.close();
  stats.passages = corpus.count();
  if (stats.passages == 0) {
    throw DataError(fmt::format("{}: no data rows after the header", options.input.string()));
  }
  if (stats.empty_text > 0) {
    spdlog::warn("{}: {} row(s) have an empty \"{}\" column (kept)", options.input.string(),
                 stats.empty_text, options.text_col);
  }

  Manifest m = make_manifest("dataset", options.to_json());
  m.config["source"] = "csv";
  m.inputs.push_back(describe_file(options.input));
  add_outputs(m, options.out_dir, {"corpus.jsonl"});
  m.stats = stats.to_json();
  write_manifest(options.out_dir, m);
  return stats;
}

}  // namespace ksparse
