#include "ksparse/synth/filters.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "ksparse/core/utf8.h"

namespace ksparse::synth {

namespace {

std::string fmt2(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

void check_share(double v, const char* setting) {
  if (!(v >= 0.0 && v <= 1.0)) {
    throw ConfigError(std::string(setting) + " must be in [0, 1], got " + fmt2(v));
  }
}

}  // namespace

QueryLanguage parse_query_language(const std::string& text) {
  if (text == "ko") return QueryLanguage::kKorean;
  if (text == "en") return QueryLanguage::kEnglish;
  if (text == "mixed") return QueryLanguage::kMixed;
  throw ConfigError("query language must be \"ko\", \"en\" or \"mixed\", got \"" + text + "\"");
}

const char* query_language_name(QueryLanguage language) {
  switch (language) {
    case QueryLanguage::kKorean:
      return "ko";
    case QueryLanguage::kEnglish:
      return "en";
    case QueryLanguage::kMixed:
      return "mixed";
  }
  return "?";
}

std::optional<std::string> Filter::apply(const Candidate& c) {
  std::optional<std::string> reason = check(c);
  if (reason) {
    ++rejected_;
  } else {
    ++passed_;
  }
  return reason;
}

// --- length ---

void LengthFilterOptions::validate() const {
  analyzer.validate();
  if (max_chars != 0 && min_chars > max_chars) {
    throw ConfigError("synth.filters.length: min_chars > max_chars");
  }
  if (max_tokens != 0 && min_tokens > max_tokens) {
    throw ConfigError("synth.filters.length: min_tokens > max_tokens");
  }
}

LengthFilter::LengthFilter(LengthFilterOptions options)
    : options_((options.validate(), std::move(options))), analyzer_(options_.analyzer) {}

std::optional<std::string> LengthFilter::check(const Candidate& c) {
  const std::string norm = normalize_for_dedup(c.query);
  const std::size_t chars = utf8_length(norm);
  if (chars < options_.min_chars) {
    return std::to_string(chars) + " characters, fewer than " + std::to_string(options_.min_chars);
  }
  if (options_.max_chars != 0 && chars > options_.max_chars) {
    return std::to_string(chars) + " characters, more than " + std::to_string(options_.max_chars);
  }
  const std::size_t tokens = analyzer_.analyze(c.query).size();
  if (tokens < options_.min_tokens) {
    return std::to_string(tokens) + " tokens, fewer than " + std::to_string(options_.min_tokens);
  }
  if (options_.max_tokens != 0 && tokens > options_.max_tokens) {
    return std::to_string(tokens) + " tokens, more than " + std::to_string(options_.max_tokens);
  }
  return std::nullopt;
}

// --- exact duplicates ---

std::optional<std::string> ExactDuplicateFilter::check(const Candidate& c) {
  auto it = kept_.find(normalize_for_dedup(c.query));
  if (it == kept_.end()) return std::nullopt;
  if (it->second == c.doc_id) return "same normalised text as a kept query of the same document";
  return "same normalised text as a kept query of document " + it->second;
}

void ExactDuplicateFilter::keep(const Candidate& c) {
  kept_.emplace(normalize_for_dedup(c.query), c.doc_id);
}

// --- near duplicates ---

void NearDuplicateFilterOptions::validate() const {
  if (ngram == 0) throw ConfigError("synth.filters.near_duplicate.ngram must be >= 1");
  if (!(per_doc_threshold > 0.0) || !(global_threshold > 0.0)) {
    throw ConfigError("synth.filters.near_duplicate thresholds must be > 0 (> 1 disables)");
  }
  if (num_hashes == 0 || bands == 0 || num_hashes % bands != 0) {
    throw ConfigError(
        "synth.filters.near_duplicate: num_hashes must be a positive multiple of bands");
  }
}

NearDuplicateFilter::NearDuplicateFilter(NearDuplicateFilterOptions options)
    : options_((options.validate(), options)),
      hasher_(options_.num_hashes, options_.seed),
      lsh_(options_.bands) {}

std::optional<std::string> NearDuplicateFilter::check(const Candidate& c) {
  const auto shingles = char_shingles(normalize_for_dedup(c.query), options_.ngram);
  if (auto it = kept_by_doc_.find(c.doc_id); it != kept_by_doc_.end()) {
    for (std::size_t id : it->second) {
      const double j = jaccard(shingles, kept_shingles_[id]);
      if (j >= options_.per_doc_threshold) {
        return "Jaccard " + fmt2(j) + " >= " + fmt2(options_.per_doc_threshold) +
               " with kept query \"" + kept_queries_[id] + "\" of the same document";
      }
    }
  }
  if (options_.global_threshold <= 1.0) {
    // LSH proposes candidates; the exact Jaccard decides, so a hash collision never rejects.
    for (std::size_t id : lsh_.candidates(hasher_.signature(shingles))) {
      const double j = jaccard(shingles, kept_shingles_[id]);
      if (j >= options_.global_threshold) {
        return "Jaccard " + fmt2(j) + " >= " + fmt2(options_.global_threshold) +
               " with kept query \"" + kept_queries_[id] + "\"";
      }
    }
  }
  return std::nullopt;
}

void NearDuplicateFilter::keep(const Candidate& c) {
  const std::size_t id = kept_shingles_.size();
  kept_shingles_.push_back(char_shingles(normalize_for_dedup(c.query), options_.ngram));
  kept_queries_.push_back(c.query);
  kept_by_doc_[c.doc_id].push_back(id);
  lsh_.add(id, hasher_.signature(kept_shingles_.back()));
}

// --- verbatim copy ---

void CopyFilterOptions::validate() const {
  if (ngram == 0) throw ConfigError("synth.filters.copy.ngram must be >= 1");
  check_share(max_containment, "synth.filters.copy.max_containment");
}

CopyFilter::CopyFilter(CopyFilterOptions options) : options_((options.validate(), options)) {}

std::optional<std::string> CopyFilter::check(const Candidate& c) {
  const std::string q = normalize_for_dedup(c.query);
  const std::string d = normalize_for_dedup(c.doc_text);
  if (q.empty()) return std::nullopt;
  if (d.find(q) != std::string::npos) return "the query is a verbatim substring of the document";
  const auto qs = char_shingles(q, options_.ngram);
  if (qs.size() < options_.min_ngrams) return std::nullopt;
  const double share = containment(qs, char_shingles(d, options_.ngram));
  if (share >= options_.max_containment) {
    return fmt2(share) + " of the query's character " + std::to_string(options_.ngram) +
           "-grams occur in the document (>= " + fmt2(options_.max_containment) + ")";
  }
  return std::nullopt;
}

// --- repetition ---

void RepetitionFilterOptions::validate() const {
  check_share(min_distinct_bigrams, "synth.filters.repetition.min_distinct_bigrams");
}

RepetitionFilter::RepetitionFilter(RepetitionFilterOptions options)
    : options_((options.validate(), options)) {}

std::optional<std::string> RepetitionFilter::check(const Candidate& c) {
  const std::string norm = normalize_for_dedup(c.query);
  if (options_.max_word_repeats > 0) {
    std::unordered_map<std::string_view, std::size_t> words;
    std::string_view rest(norm);
    while (!rest.empty()) {
      const std::size_t sp = rest.find(' ');
      const std::string_view w = rest.substr(0, sp);
      // Words only: a separator like "-" or "/" may recur in an ordinary keyword list.
      const bool word = std::any_of(w.begin(), w.end(), [](char ch) {
        const auto b = static_cast<unsigned char>(ch);
        return b >= 0x80 || std::isalnum(b) != 0;
      });
      if (word && ++words[w] > options_.max_word_repeats) {
        return "the word \"" + std::string(w) + "\" occurs " + std::to_string(words[w]) +
               " times (at most " + std::to_string(options_.max_word_repeats) + ")";
      }
      rest = sp == rest.npos ? std::string_view() : rest.substr(sp + 1);
    }
  }
  std::vector<char32_t> cps;
  for (std::size_t pos = 0; pos < norm.size();) {
    const char32_t cp = utf8_next(norm, pos);
    if (cp != U' ') cps.push_back(cp);
  }
  if (cps.size() < 2 || cps.size() - 1 < options_.min_bigrams) return std::nullopt;
  std::unordered_set<std::uint64_t> distinct;
  for (std::size_t i = 0; i + 1 < cps.size(); ++i) {
    distinct.insert((static_cast<std::uint64_t>(cps[i]) << 32) | cps[i + 1]);
  }
  const double share = static_cast<double>(distinct.size()) / static_cast<double>(cps.size() - 1);
  if (share < options_.min_distinct_bigrams) {
    return std::to_string(distinct.size()) + " distinct character bigrams of " +
           std::to_string(cps.size() - 1) + " (" + fmt2(share) + " < " +
           fmt2(options_.min_distinct_bigrams) + ")";
  }
  return std::nullopt;
}

// --- script ---

void ScriptFilterOptions::validate() const {
  check_share(korean_min_hangul, "synth.filters.script.korean_min_hangul");
  check_share(english_min_latin, "synth.filters.script.english_min_latin");
  check_share(mixed_min_hangul, "synth.filters.script.mixed_min_hangul");
  check_share(mixed_min_latin, "synth.filters.script.mixed_min_latin");
}

ScriptFilter::ScriptFilter(ScriptFilterOptions options) : options_((options.validate(), options)) {}

std::optional<std::string> ScriptFilter::check(const Candidate& c) {
  std::size_t hangul = 0, latin = 0, letters = 0;
  const std::string text = nfkc(c.query);
  std::size_t pos = 0;
  while (pos < text.size()) {
    const ScriptClass cls = script_class(utf8_next(text, pos));
    switch (cls) {
      case ScriptClass::kHangulSyllable:
      case ScriptClass::kHangulJamo:
        ++hangul;
        ++letters;
        break;
      case ScriptClass::kLatin:
        ++latin;
        ++letters;
        break;
      case ScriptClass::kHan:
      case ScriptClass::kKana:
      case ScriptClass::kOther:
        ++letters;
        break;
      default:
        break;
    }
  }
  if (letters == 0) return "no letters";
  const double h = static_cast<double>(hangul) / static_cast<double>(letters);
  const double l = static_cast<double>(latin) / static_cast<double>(letters);
  const std::string shares = " (Hangul " + fmt2(h) + ", Latin " + fmt2(l) + " of letters)";
  switch (c.language) {
    case QueryLanguage::kKorean:
      if (h < options_.korean_min_hangul) {
        return "Korean query with too little Hangul, need " + fmt2(options_.korean_min_hangul) +
               shares;
      }
      break;
    case QueryLanguage::kEnglish:
      if (l < options_.english_min_latin) {
        return "English query with too few Latin letters, need " +
               fmt2(options_.english_min_latin) + shares;
      }
      break;
    case QueryLanguage::kMixed:
      if (h < options_.mixed_min_hangul || l < options_.mixed_min_latin) {
        return "mixed query needs Hangul >= " + fmt2(options_.mixed_min_hangul) +
               " and Latin >= " + fmt2(options_.mixed_min_latin) + shares;
      }
      break;
  }
  return std::nullopt;
}

// --- structure ---

std::optional<std::string> StructureFilter::check(const Candidate& c) {
  if (c.parsed) return std::nullopt;
  return c.parse_error.empty() ? "the output did not parse" : c.parse_error;
}

// --- log-probability ---

void LogprobFilterOptions::validate() const {
  if (std::isnan(min_mean_logprob) || min_mean_logprob > 0.0) {
    throw ConfigError("synth.filters.logprob.min_mean_logprob must be <= 0 (-inf disables)");
  }
}

LogprobFilter::LogprobFilter(LogprobFilterOptions options)
    : options_((options.validate(), options)) {}

std::optional<std::string> LogprobFilter::check(const Candidate& c) {
  if (!c.mean_logprob) {
    if (options_.reject_missing) return "no log-probability from the backend";
    return std::nullopt;
  }
  if (*c.mean_logprob < options_.min_mean_logprob) {
    return "mean token log-probability " + fmt2(*c.mean_logprob) + " < " +
           fmt2(options_.min_mean_logprob);
  }
  return std::nullopt;
}

// --- round trip ---

void RoundTripFilterOptions::validate() const {
  if (k == 0) throw ConfigError("synth.filters.round_trip.k must be >= 1");
}

RoundTripFilter::RoundTripFilter(Retriever& retriever, RoundTripFilterOptions options)
    : retriever_(&retriever), options_((options.validate(), options)) {}

std::optional<std::string> RoundTripFilter::check(const Candidate& c) {
  const auto results = retriever_->retrieve({c.query}, options_.k);
  const std::vector<ScoredDoc>& hits = results.at(0);
  for (const ScoredDoc& hit : hits) {
    if (hit.doc_id == c.doc_id) return std::nullopt;
  }
  std::string reason =
      "source document not in " + retriever_->name() + " top-" + std::to_string(options_.k);
  if (hits.empty()) {
    reason += " (nothing retrieved)";
  } else {
    reason += " (top-1: " + hits.front().doc_id + ")";
  }
  return reason;
}

// --- funnel ---

void FilterOptions::validate() const {
  length.validate();
  near_duplicate.validate();
  copy.validate();
  script.validate();
  repetition.validate();
  logprob.validate();
  round_trip.validate();
}

nlohmann::json FilterOptions::to_json() const {
  auto finite_or_null = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  return {
      {"length",
       {{"min_chars", length.min_chars},
        {"max_chars", length.max_chars},
        {"min_tokens", length.min_tokens},
        {"max_tokens", length.max_tokens},
        {"analyzer", length.analyzer.kind}}},
      {"near_duplicate",
       {{"ngram", near_duplicate.ngram},
        {"per_doc_threshold", near_duplicate.per_doc_threshold},
        {"global_threshold", near_duplicate.global_threshold},
        {"num_hashes", near_duplicate.num_hashes},
        {"bands", near_duplicate.bands},
        {"seed", near_duplicate.seed}}},
      {"copy",
       {{"ngram", copy.ngram},
        {"max_containment", copy.max_containment},
        {"min_ngrams", copy.min_ngrams}}},
      {"script",
       {{"korean_min_hangul", script.korean_min_hangul},
        {"english_min_latin", script.english_min_latin},
        {"mixed_min_hangul", script.mixed_min_hangul},
        {"mixed_min_latin", script.mixed_min_latin}}},
      {"repetition",
       {{"max_word_repeats", repetition.max_word_repeats},
        {"min_distinct_bigrams", repetition.min_distinct_bigrams},
        {"min_bigrams", repetition.min_bigrams}}},
      {"logprob",
       {{"min_mean_logprob", finite_or_null(logprob.min_mean_logprob)},
        {"reject_missing", logprob.reject_missing}}},
      {"round_trip", {{"enabled", round_trip_enabled}, {"k", round_trip.k}}},
  };
}

std::map<std::string, std::string> FunnelResult::verdicts(std::size_t index) const {
  std::map<std::string, std::string> out;
  // Rejections are in candidate order, at most one per candidate.
  auto it = std::lower_bound(rejections.begin(), rejections.end(), index,
                             [](const Rejection& r, std::size_t i) { return r.index < i; });
  const Rejection* rejection = (it != rejections.end() && it->index == index) ? &*it : nullptr;
  for (const std::string& name : order) {
    if (rejection && rejection->filter == name) {
      out[name] = rejection->reason;
      break;
    }
    out[name] = "pass";
  }
  return out;
}

nlohmann::json FunnelResult::to_json() const {
  return {{"input", input}, {"passed", kept.size()}, {"by_filter", rejected_by}, {"order", order}};
}

void Funnel::add(std::unique_ptr<Filter> filter) { filters_.push_back(std::move(filter)); }

FunnelResult Funnel::run(const std::vector<Candidate>& candidates) {
  FunnelResult result;
  result.input = candidates.size();
  for (const auto& f : filters_) {
    result.order.push_back(f->name());
    result.rejected_by[f->name()] = 0;
  }
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    bool ok = true;
    for (const auto& f : filters_) {
      if (auto reason = f->apply(candidates[i])) {
        result.rejections.push_back({i, f->name(), std::move(*reason)});
        ++result.rejected_by[f->name()];
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    for (const auto& f : filters_) f->keep(candidates[i]);
    result.kept.push_back(i);
  }
  return result;
}

void add_text_filters(Funnel& funnel, const FilterOptions& options) {
  funnel.add(std::make_unique<StructureFilter>());
  funnel.add(std::make_unique<LengthFilter>(options.length));
  funnel.add(std::make_unique<ScriptFilter>(options.script));
  funnel.add(std::make_unique<RepetitionFilter>(options.repetition));
  funnel.add(std::make_unique<CopyFilter>(options.copy));
  funnel.add(std::make_unique<LogprobFilter>(options.logprob));
  funnel.add(std::make_unique<ExactDuplicateFilter>());
  funnel.add(std::make_unique<NearDuplicateFilter>(options.near_duplicate));
}

Funnel make_default_funnel(const FilterOptions& options, Retriever* retriever) {
  options.validate();
  if (options.round_trip_enabled && retriever == nullptr) {
    throw ConfigError("the round-trip filter is enabled but no retriever was given");
  }
  Funnel funnel;
  add_text_filters(funnel, options);
  if (options.round_trip_enabled) {
    funnel.add(std::make_unique<RoundTripFilter>(*retriever, options.round_trip));
  }
  return funnel;
}

}  // namespace ksparse::synth
