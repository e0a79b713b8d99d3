#include "ksparse/core/io.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <unordered_map>

#include "ksparse/core/error.h"
#include "ksparse/core/utf8.h"

namespace ksparse {
namespace fs = std::filesystem;

namespace {

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// nlohmann's what() reads "[json.exception.parse_error.101] parse error at line 1, column 7: ...".
// Each JSONL record is parsed on its own, so "line 1" is noise: keep "column 7: ...".
std::string json_parse_detail(const nlohmann::json::parse_error& e) {
  std::string msg = e.what();
  if (auto p = msg.find("] "); p != std::string::npos) msg.erase(0, p + 2);
  const std::string_view noise = "parse error at line 1, ";
  if (msg.compare(0, noise.size(), noise) == 0) msg.erase(0, noise.size());
  return msg;
}

std::string quote_id(std::string_view s) { return fmt::format("\"{}\"", s); }

std::ofstream open_for_write(const fs::path& path) {
  if (path.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) {
      throw IoError(fmt::format("{}: cannot create directory: {}", path.parent_path().string(),
                                ec.message()));
    }
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw IoError(
        fmt::format("{}: cannot open for writing (check the directory exists and is "
                    "writable)",
                    path.string()));
  }
  return out;
}

void finish_write(std::ofstream& out, const fs::path& path) {
  out.flush();
  if (!out) throw IoError(fmt::format("{}: write failed (disk full?)", path.string()));
  out.close();
}

// Shared by CorpusReader and QueryReader: one JSON object per line with a unique, non-empty string
// `_id` and a string `text`.
class JsonlRecordReader {
 public:
  explicit JsonlRecordReader(fs::path path) : lines_(std::move(path)) {}

  // Next validated record; false at end of file.
  bool next(nlohmann::json& obj, std::string& id, std::string& text) {
    std::string line;
    while (lines_.next(line)) {
      if (is_blank(line)) continue;
      const std::size_t line_no = lines_.line_no();
      std::size_t bad = 0;
      if (!utf8_valid(line, &bad)) {
        fail(fmt::format("invalid UTF-8 at byte offset {} of the line; re-encode the file as UTF-8",
                         bad));
      }
      try {
        obj = nlohmann::json::parse(line);
      } catch (const nlohmann::json::parse_error& e) {
        fail(fmt::format("malformed JSON at {}", json_parse_detail(e)));
      }
      if (!obj.is_object()) {
        fail(fmt::format("expected a JSON object, got {}", obj.type_name()));
      }
      id = required_string(obj, "_id");
      if (id.empty()) fail("`_id` is empty; every record needs a non-empty id");
      text = required_string(obj, "text");
      if (auto it = obj.find("metadata"); it != obj.end() && !it->is_null() && !it->is_object()) {
        fail(fmt::format("`metadata` must be an object, got {}", it->type_name()));
      }
      auto [pos, inserted] = seen_.emplace(id, line_no);
      if (!inserted) {
        fail(fmt::format("duplicate id {} (first at line {}); ids must be unique", quote_id(id),
                         pos->second));
      }
      return true;
    }
    return false;
  }

  // Optional string field: "" when absent or null, DataError when another type.
  std::string optional_string(const nlohmann::json& obj, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return {};
    if (!it->is_string()) {
      fail(fmt::format("`{}` must be a string, got {}", key, it->type_name()));
    }
    return it->get<std::string>();
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw DataError(fmt::format("{}: {}", where(lines_.path(), lines_.line_no()), what));
  }

  std::size_t line_no() const { return lines_.line_no(); }

 private:
  std::string required_string(const nlohmann::json& obj, const char* key) const {
    auto it = obj.find(key);
    if (it == obj.end()) fail(fmt::format("missing `{}`", key));
    if (!it->is_string()) {
      fail(fmt::format("`{}` must be a string, got {}", key, it->type_name()));
    }
    return it->get<std::string>();
  }

  LineReader lines_;
  std::unordered_map<std::string, std::size_t> seen_;  // id -> line of first occurrence
};

nlohmann::json take_metadata(nlohmann::json& obj) {
  auto it = obj.find("metadata");
  if (it == obj.end()) return nullptr;
  return std::move(*it);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T& value) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  return ec == std::errc() && ptr == end && !s.empty();
}

// Streams qrels lines, validating each; calls fn(query_id, doc_id, score, line_no).
template <typename Fn>
void for_each_qrels_line(const fs::path& path, Fn&& fn) {
  LineReader lines(path);
  std::string line;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    const auto at = where(path, lines.line_no());
    auto cols = split(line, '\t');
    if (lines.line_no() == 1 && cols.size() == 3 && cols[0] == "query-id" &&
        cols[1] == "corpus-id" && cols[2] == "score") {
      continue;
    }
    if (cols.size() != 3) {
      throw DataError(
          fmt::format("{}: expected 3 tab-separated columns (query-id, corpus-id, score), got {}",
                      at, cols.size()));
    }
    if (cols[0].empty() || cols[1].empty()) {
      throw DataError(fmt::format("{}: empty {} id", at, cols[0].empty() ? "query" : "corpus"));
    }
    int score = 0;
    if (!parse_number(cols[2], score)) {
      throw DataError(fmt::format("{}: score {} is not an integer (relevance grades are integers)",
                                  at, quote_id(cols[2])));
    }
    fn(cols[0], cols[1], score, lines.line_no());
  }
}

}  // namespace

// ---- LineReader ----

LineReader::LineReader(fs::path path) : path_(std::move(path)), in_(path_, std::ios::binary) {
  if (!in_) throw IoError(fmt::format("{}: cannot open for reading", path_.string()));
}

bool LineReader::next(std::string& line) {
  if (!std::getline(in_, line)) {
    if (in_.bad()) throw IoError(fmt::format("{}: read error", where(path_, line_no_ + 1)));
    return false;
  }
  ++line_no_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

// ---- CorpusReader / QueryReader ----

struct CorpusReader::Impl {
  explicit Impl(fs::path path) : reader(std::move(path)) {}
  JsonlRecordReader reader;
  nlohmann::json obj;
};

CorpusReader::CorpusReader(fs::path path) : impl_(std::make_unique<Impl>(std::move(path))) {}
CorpusReader::~CorpusReader() = default;

bool CorpusReader::next(Document& doc) {
  if (!impl_->reader.next(impl_->obj, doc.id, doc.text)) return false;
  doc.title = impl_->reader.optional_string(impl_->obj, "title");
  doc.metadata = take_metadata(impl_->obj);
  return true;
}

std::size_t CorpusReader::line_no() const { return impl_->reader.line_no(); }

struct QueryReader::Impl {
  explicit Impl(fs::path path) : reader(std::move(path)) {}
  JsonlRecordReader reader;
  nlohmann::json obj;
};

QueryReader::QueryReader(fs::path path) : impl_(std::make_unique<Impl>(std::move(path))) {}
QueryReader::~QueryReader() = default;

bool QueryReader::next(Query& query) {
  if (!impl_->reader.next(impl_->obj, query.id, query.text)) return false;
  query.metadata = take_metadata(impl_->obj);
  return true;
}

std::size_t QueryReader::line_no() const { return impl_->reader.line_no(); }

std::vector<Document> read_corpus(const fs::path& path) {
  CorpusReader reader(path);
  std::vector<Document> docs;
  Document doc;
  while (reader.next(doc)) docs.push_back(std::move(doc));
  if (docs.empty()) {
    throw DataError(
        fmt::format("{}: empty corpus (no documents); check the path and the conversion "
                    "step that wrote it",
                    path.string()));
  }
  return docs;
}

std::vector<Query> read_queries(const fs::path& path) {
  QueryReader reader(path);
  std::vector<Query> queries;
  Query q;
  while (reader.next(q)) queries.push_back(std::move(q));
  return queries;
}

// ---- qrels ----

Qrels read_qrels(const fs::path& path) {
  Qrels qrels;
  // (query, doc) -> line, only to name both lines of a duplicate judgement.
  std::map<std::pair<std::string, std::string>, std::size_t> lines_of;
  for_each_qrels_line(path, [&](std::string_view q, std::string_view d, int score, std::size_t ln) {
    auto [pos, inserted] = lines_of.emplace(std::pair{std::string(q), std::string(d)}, ln);
    if (!inserted) {
      throw DataError(
          fmt::format("{}: duplicate judgement for query {} and doc {} (first at line "
                      "{}); keep one line per pair",
                      where(path, ln), quote_id(q), quote_id(d), pos->second));
    }
    qrels[std::string(q)][std::string(d)] = score;
  });
  return qrels;
}

void write_qrels(const fs::path& path, const Qrels& qrels) {
  auto out = open_for_write(path);
  out << "query-id\tcorpus-id\tscore\n";
  for (const auto& [qid, docs] : qrels) {
    for (const auto& [did, score] : docs) out << qid << '\t' << did << '\t' << score << '\n';
  }
  finish_write(out, path);
}

std::vector<QrelsIdProblem> find_unknown_qrels_ids(const fs::path& qrels_path,
                                                   const std::unordered_set<std::string>& query_ids,
                                                   const std::unordered_set<std::string>& doc_ids) {
  std::vector<QrelsIdProblem> problems;
  std::string key;
  for_each_qrels_line(qrels_path, [&](std::string_view q, std::string_view d, int, std::size_t ln) {
    key.assign(q);
    if (!query_ids.count(key)) problems.push_back({ln, true, key});
    key.assign(d);
    if (!doc_ids.count(key)) problems.push_back({ln, false, key});
  });
  return problems;
}

void check_qrels_ids(const fs::path& qrels_path, const std::unordered_set<std::string>& query_ids,
                     const std::unordered_set<std::string>& doc_ids) {
  auto problems = find_unknown_qrels_ids(qrels_path, query_ids, doc_ids);
  if (problems.empty()) return;
  constexpr std::size_t kShown = 5;
  std::string msg =
      fmt::format("{}: {} unknown id(s); check that these qrels belong to this corpus and queries:",
                  qrels_path.string(), problems.size());
  for (std::size_t i = 0; i < problems.size() && i < kShown; ++i) {
    const auto& p = problems[i];
    msg += fmt::format("\n  {}: unknown {} id {}", where(qrels_path, p.line),
                       p.is_query ? "query" : "doc", quote_id(p.id));
  }
  if (problems.size() > kShown) msg += fmt::format("\n  ... and {} more", problems.size() - kShown);
  throw DataError(msg);
}

// ---- TREC runs ----

Run read_trec_run(const fs::path& path) {
  LineReader lines(path);
  Run run;
  // (query, doc) -> line, to name both lines of a duplicate.
  std::map<std::pair<std::string, std::string>, std::size_t> lines_of;
  std::string line;
  while (lines.next(line)) {
    if (is_blank(line)) continue;
    const auto at = where(path, lines.line_no());
    auto cols = split_whitespace(line);
    if (cols.size() != 6) {
      throw DataError(fmt::format(
          "{}: expected 6 whitespace-separated columns (qid Q0 docid rank score tag), got {}", at,
          cols.size()));
    }
    long long rank = 0;
    if (!parse_number(cols[3], rank)) {
      throw DataError(fmt::format("{}: rank {} is not an integer", at, quote_id(cols[3])));
    }
    double score = 0.0;
    if (!parse_number(cols[4], score)) {
      throw DataError(fmt::format("{}: score {} is not a number", at, quote_id(cols[4])));
    }
    auto [pos, inserted] =
        lines_of.emplace(std::pair{std::string(cols[0]), std::string(cols[2])}, lines.line_no());
    if (!inserted) {
      throw DataError(fmt::format("{}: document {} appears twice for query {} (first at line {})",
                                  at, quote_id(cols[2]), quote_id(cols[0]), pos->second));
    }
    run[std::string(cols[0])].push_back({std::string(cols[2]), score});
  }
  for (auto& [qid, docs] : run) {
    // trec_eval ignores the rank column and re-sorts: score descending, then docno descending.
    std::sort(docs.begin(), docs.end(), [](const ScoredDoc& a, const ScoredDoc& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.doc_id > b.doc_id;
    });
  }
  return run;
}

void write_trec_run(const fs::path& path, const Run& run, std::string_view tag) {
  if (tag.empty() || tag.find_first_of(" \t\n") != std::string_view::npos) {
    throw ConfigError(
        fmt::format("run tag {} must be non-empty and contain no whitespace", quote_id(tag)));
  }
  auto out = open_for_write(path);
  std::string buf;
  for (const auto& [qid, docs] : run) {
    std::size_t rank = 1;
    for (const auto& d : docs) {
      buf.clear();
      // "{}" prints the shortest representation that reads back to the same double.
      fmt::format_to(std::back_inserter(buf), "{} Q0 {} {} {} {}\n", qid, d.doc_id, rank++, d.score,
                     tag);
      out << buf;
    }
  }
  finish_write(out, path);
}

// ---- JsonlWriter ----

JsonlWriter::JsonlWriter(fs::path path) : path_(std::move(path)), out_(open_for_write(path_)) {}

void JsonlWriter::write(const nlohmann::json& obj) {
  std::string line;
  try {
    line = obj.dump();
  } catch (const nlohmann::json::type_error& e) {
    throw DataError(
        fmt::format("{}: cannot write record {}: {}", path_.string(), count_ + 1, e.what()));
  }
  line += '\n';
  out_.write(line.data(), static_cast<std::streamsize>(line.size()));
  if (!out_) throw IoError(fmt::format("{}: write failed (disk full?)", path_.string()));
  ++count_;
}

void JsonlWriter::write(const Document& doc) {
  nlohmann::json obj = {{"_id", doc.id}, {"title", doc.title}, {"text", doc.text}};
  if (!doc.metadata.is_null()) obj["metadata"] = doc.metadata;
  write(obj);
}

void JsonlWriter::write(const Query& query) {
  nlohmann::json obj = {{"_id", query.id}, {"text", query.text}};
  if (!query.metadata.is_null()) obj["metadata"] = query.metadata;
  write(obj);
}

void JsonlWriter::close() {
  if (out_.is_open()) finish_write(out_, path_);
}

}  // namespace ksparse
