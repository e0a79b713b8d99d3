#include "ksparse/synonyms/trends.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/synonyms/terms.h"

namespace ksparse::synonyms {

namespace {

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "2011-03-05T..." -> "2011" or "2011-03"; "" when the date does not start with YYYY[-MM].
std::string period_of(std::string_view date, const std::string& window) {
  if (date.size() < 4 || !digits(date.substr(0, 4))) return {};
  if (window == "year") return std::string(date.substr(0, 4));
  if (date.size() < 7 || date[4] != '-' || !digits(date.substr(5, 2))) return {};
  return std::string(date.substr(0, 7));
}

double xlogx_ratio(double o, double e) { return o > 0 ? o * std::log(o / e) : 0.0; }

}  // namespace

void TrendOptions::validate() const {
  if (window != "year" && window != "month")
    throw ConfigError("trends window must be 'year' or 'month', got '" + window + "'");
  if (date_field.empty()) throw ConfigError("trends date_field must not be empty");
  if (min_count == 0) throw ConfigError("trends min_count must be >= 1");
  if (min_g2 < 0) throw ConfigError("trends min_g2 must be >= 0");
}

double log_likelihood_g2(double a, double b, double c, double d) {
  const double n = a + b + c + d;
  if (n <= 0) return 0.0;
  const double r1 = a + b, r2 = c + d, c1 = a + c, c2 = b + d;
  return 2.0 * (xlogx_ratio(a, r1 * c1 / n) + xlogx_ratio(b, r1 * c2 / n) +
                xlogx_ratio(c, r2 * c1 / n) + xlogx_ratio(d, r2 * c2 / n));
}

TrendReport find_trends(const std::vector<DatedText>& docs, const TrendOptions& options) {
  options.validate();
  struct PeriodCounts {
    std::size_t documents = 0;
    std::size_t tokens = 0;
    std::unordered_map<std::string, std::size_t> tf;
    std::unordered_map<std::string, std::size_t> df;
  };
  std::map<std::string, PeriodCounts> periods;
  std::unordered_map<std::string, std::size_t> total_tf;
  std::size_t total_tokens = 0;
  TrendReport report;
  for (const DatedText& d : docs) {
    ++report.documents;
    const std::string key = period_of(d.date, options.window);
    if (key.empty()) {
      ++report.undated;
      continue;
    }
    PeriodCounts& p = periods[key];
    ++p.documents;
    std::unordered_set<std::string> seen;
    for (std::string& w : extract_words(d.text)) {
      ++p.tokens;
      ++total_tokens;
      ++total_tf[w];
      ++p.tf[w];
      if (seen.insert(w).second) ++p.df[w];
    }
  }
  for (auto& [key, p] : periods) {
    TrendPeriod out;
    out.period = key;
    out.documents = p.documents;
    out.tokens = p.tokens;
    const double in_n = static_cast<double>(p.tokens);
    const double out_n = static_cast<double>(total_tokens - p.tokens);
    for (const auto& [term, count] : p.tf) {
      if (count < options.min_count || p.df[term] < options.min_docs) continue;
      const double a = static_cast<double>(count);
      const double b = static_cast<double>(total_tf[term] - count);
      // Only rises: the relative frequency in the period must exceed the one elsewhere.
      if (out_n > 0 && a / in_n <= b / out_n) continue;
      const double g2 = log_likelihood_g2(a, b, in_n - a, out_n - b);
      if (g2 < options.min_g2) continue;
      TrendTerm t;
      t.term = term;
      t.g2 = g2;
      t.count = count;
      t.docs = p.df[term];
      t.background = total_tf[term] - count;
      t.ratio = ((a + 0.5) / (in_n + 1.0)) / ((b + 0.5) / (out_n + 1.0));
      out.terms.push_back(std::move(t));
    }
    std::sort(out.terms.begin(), out.terms.end(), [](const TrendTerm& x, const TrendTerm& y) {
      return x.g2 != y.g2 ? x.g2 > y.g2 : x.term < y.term;
    });
    if (options.top > 0 && out.terms.size() > options.top) out.terms.resize(options.top);
    report.periods.push_back(std::move(out));
  }
  return report;
}

TrendReport find_trends(const std::filesystem::path& corpus, const TrendOptions& options) {
  options.validate();
  CorpusReader reader(corpus);
  std::vector<DatedText> docs;
  Document doc;
  while (reader.next(doc)) {
    DatedText d;
    if (doc.metadata.is_object() && doc.metadata.contains(options.date_field) &&
        doc.metadata[options.date_field].is_string()) {
      d.date = doc.metadata[options.date_field].get<std::string>();
    }
    d.text = doc.title.empty() ? doc.text : doc.title + "\n" + doc.text;
    docs.push_back(std::move(d));
  }
  TrendReport report = find_trends(docs, options);
  if (report.undated == report.documents) {
    throw DataError(corpus.string() + ": no document has a date in metadata." + options.date_field +
                    " (convert with `ksparse data csv --date-col ...` or pass --date-field)");
  }
  return report;
}

nlohmann::json TrendReport::to_json() const {
  nlohmann::json ps = nlohmann::json::array();
  for (const TrendPeriod& p : periods) {
    nlohmann::json terms = nlohmann::json::array();
    for (const TrendTerm& t : p.terms) {
      terms.push_back({{"term", t.term},
                       {"g2", t.g2},
                       {"count", t.count},
                       {"docs", t.docs},
                       {"background", t.background},
                       {"ratio", t.ratio}});
    }
    ps.push_back({{"period", p.period},
                  {"documents", p.documents},
                  {"tokens", p.tokens},
                  {"terms", std::move(terms)}});
  }
  return {{"documents", documents}, {"undated", undated}, {"periods", std::move(ps)}};
}

}  // namespace ksparse::synonyms
