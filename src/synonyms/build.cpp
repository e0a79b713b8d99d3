#include "ksparse/synonyms/build.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <unordered_map>

#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/core/progress.h"
#include "ksparse/synonyms/export.h"
#include "ksparse/synonyms/lexicon.h"
#include "ksparse/synonyms/terms.h"
#include "ksparse/synonyms/trends.h"

namespace ksparse::synonyms {

void BuildOptions::validate() const {
  if (corpora.empty() && seeds.empty())
    throw ConfigError("synonyms build needs at least one --corpus or --seed");
  patterns.validate();
  transliteration.validate();
  if (!(min_loanword_probability >= 0.0 && min_loanword_probability <= 1.0))
    throw ConfigError("min_loanword_probability must be in [0, 1]");
  if (!(verify_threshold >= 0.0 && verify_threshold <= 1.0))
    throw ConfigError("verify_threshold must be in [0, 1]");
  if (verify_batch == 0) throw ConfigError("verify_batch must be >= 1");
  embedding.validate();
  if (!(min_embedding_cosine >= -1.0 && min_embedding_cosine <= 1.0))
    throw ConfigError("min_embedding_cosine must be in [-1, 1]");
}

nlohmann::json BuildOptions::to_json() const {
  auto paths = [](const std::vector<std::filesystem::path>& ps) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& p : ps) a.push_back(p.string());
    return a;
  };
  return {{"corpora", paths(corpora)},
          {"seeds", paths(seeds)},
          {"en_vocab", paths(en_vocab)},
          {"use_patterns", use_patterns},
          {"use_transliteration", use_transliteration},
          {"patterns",
           {{"max_gloss_chars", patterns.max_gloss_chars},
            {"max_en_words", patterns.max_en_words},
            {"max_ko_words", patterns.max_ko_words},
            {"min_ko_syllables", patterns.min_ko_syllables},
            {"min_en_letters", patterns.min_en_letters},
            {"keep_acronyms", patterns.keep_acronyms},
            {"min_count", patterns.min_count}}},
          {"transliteration",
           {{"min_score", transliteration.min_score},
            {"prior_bonus", transliteration.prior_bonus},
            {"prior_saturation", transliteration.prior_saturation},
            {"top_k", transliteration.top_k},
            {"blocking", transliteration.blocking}}},
          {"min_term_count", min_term_count},
          {"min_loanword_probability", min_loanword_probability},
          {"min_pattern_score", min_pattern_score},
          {"verify_threshold", verify_threshold},
          {"verify_batch", verify_batch},
          {"embedding",
           {{"top_k", embedding.top_k},
            {"csls_k", embedding.csls_k},
            {"min_cosine", embedding.min_cosine},
            {"center", embedding.center},
            {"mutual", embedding.mutual},
            {"ko_template", embedding.ko_template},
            {"en_template", embedding.en_template}}},
          {"embed_max_ko", embed_max_ko},
          {"embed_max_en", embed_max_en},
          {"min_embedding_cosine", min_embedding_cosine},
          {"verify_max", verify_max},
          {"discover_max_terms", discover_max_terms},
          {"discover_trend_top", discover_trend_top}};
}

nlohmann::json BuildStats::to_json() const {
  return {{"documents", documents},
          {"seed_pairs", seed_pairs},
          {"pattern_matches", pattern_matches},
          {"pattern_pairs", pattern_pairs},
          {"pattern_rejected", pattern_rejected},
          {"pattern_dropped", pattern_dropped},
          {"hanja_glosses", hanja_glosses},
          {"ko_terms", ko_terms},
          {"ko_terms_tried", ko_terms_tried},
          {"en_vocabulary", en_vocabulary},
          {"loanword_train_loan", loanword_train_loan},
          {"loanword_train_native", loanword_train_native},
          {"transliteration_pairs", transliteration_pairs},
          {"embedding_ko_terms", embedding_ko_terms},
          {"embedding_en_terms", embedding_en_terms},
          {"embedding_pairs", embedding_pairs},
          {"embedding_seconds", embedding_seconds},
          {"discovery_terms", discovery_terms},
          {"discovery_pairs", discovery_pairs},
          {"discovery_seconds", discovery_seconds},
          {"candidates_verified", candidates_verified},
          {"candidates_rejected", candidates_rejected},
          {"candidates_unverified", candidates_unverified},
          {"verify_seconds", verify_seconds},
          {"verify_pairs_per_s",
           verify_seconds > 0.0 ? static_cast<double>(candidates_verified) / verify_seconds : 0.0},
          {"verifier", verifier},
          {"seconds", seconds}};
}

BuildResult build_dictionary(const BuildOptions& options, CandidateVerifier* verifier) {
  BuildStages stages;
  stages.verifier = verifier;
  return build_dictionary(options, stages);
}

BuildResult build_dictionary(const BuildOptions& options, const BuildStages& stages) {
  options.validate();
  CandidateVerifier* verifier = stages.verifier;
  const auto t0 = std::chrono::steady_clock::now();
  BuildResult result;
  BuildStats& stats = result.stats;
  Dictionary& dict = result.dictionary;

  // 1. Seeds: kept as given.
  std::vector<std::pair<std::string, std::string>> seed_pairs;
  std::vector<std::string> en_vocab;
  for (const auto& path : options.seeds) {
    for (const LexiconPair& p : read_pair_file(path)) {
      Provenance prov;
      prov.source = Source::kSeed;
      prov.score = 1.0;
      prov.count = 1;
      prov.note = path.filename().string() + ":" + std::to_string(p.line);
      dict.add(p.ko, p.en, std::move(prov), 1);
      seed_pairs.emplace_back(p.ko, p.en);
      en_vocab.push_back(p.en);
      ++stats.seed_pairs;
    }
  }
  for (const auto& path : options.en_vocab) {
    for (const LexiconPair& p : read_lexicon(path)) en_vocab.push_back(p.en);
  }

  // 2. Corpora: parentheticals and word counts.
  Dictionary candidates;
  PatternAggregator patterns(options.patterns);
  std::unordered_map<std::string, std::size_t> ko_counts;
  for (const auto& path : options.corpora) {
    CorpusReader reader(path);
    Document doc;
    Progress progress("synonyms: reading " + path.filename().string(), 0);
    while (reader.next(doc)) {
      ++stats.documents;
      const std::string text = doc.title.empty() ? doc.text : doc.title + "\n" + doc.text;
      if (options.use_patterns) patterns.add_document(doc.id, text);
      for (std::string& w : extract_words(text)) {
        if (has_hangul(w)) {
          ++ko_counts[w];
        } else {
          en_vocab.push_back(std::move(w));
        }
      }
      progress.advance();
    }
  }
  if (options.use_patterns) {
    const Dictionary found = patterns.to_dictionary();
    candidates.merge(found, options.patterns.max_evidence);
    stats.pattern_matches = patterns.matches();
    stats.pattern_pairs = found.size();
    stats.pattern_rejected = patterns.rejected();
    for (const auto& [key, n] : patterns.hanja())
      result.hanja.emplace_back(key.first, key.second, n);
    stats.hanja_glosses = result.hanja.size();
  }
  stats.ko_terms = ko_counts.size();

  // 3. Transliteration of Korean words that look like loanwords.
  if (options.use_transliteration) {
    for (const Entry* e : candidates.entries()) en_vocab.push_back(e->en);
    TransliterationMatcher matcher(en_vocab, options.transliteration);
    stats.en_vocabulary = matcher.vocabulary_size();
    LoanwordClassifier gate;
    const auto [loan, native] = gate.train_from_pairs(seed_pairs);
    stats.loanword_train_loan = loan;
    stats.loanword_train_native = native;
    std::set<std::string> terms;
    for (const auto& [w, n] : ko_counts) {
      if (n >= options.min_term_count) terms.insert(w);
    }
    for (const Entry* e : candidates.entries()) {
      if (is_hangul_word(e->ko)) terms.insert(e->ko);
    }
    for (const std::string& ko : terms) {
      const double p_loan = gate.trained() ? gate.probability(ko) : 1.0;
      if (p_loan < options.min_loanword_probability) continue;
      ++stats.ko_terms_tried;
      for (const TransliterationMatch& m : matcher.match(ko)) {
        Provenance prov;
        prov.source = Source::kTransliteration;
        prov.score = m.score;
        auto it = ko_counts.find(ko);
        prov.count = it == ko_counts.end() ? 0 : it->second;
        char buf[64];
        std::snprintf(buf, sizeof buf, "p_loanword=%.3f", p_loan);
        prov.note = buf;
        candidates.add(ko, m.en, std::move(prov));
        ++stats.transliteration_pairs;
      }
    }
  }

  // 4. Embedding proposals for frequent Korean words that nothing proposed for yet.
  auto has_entry = [&](const std::string& ko) {
    return !dict.by_ko(ko).empty() || !candidates.by_ko(ko).empty();
  };
  std::vector<std::pair<std::string, std::size_t>> frequent;  // (word, count), most frequent first
  for (const auto& [w, n] : ko_counts) {
    if (n >= options.min_term_count && is_hangul_word(w)) frequent.emplace_back(w, n);
  }
  std::sort(frequent.begin(), frequent.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (stages.embed) {
    const auto te = std::chrono::steady_clock::now();
    std::vector<std::string> ko_terms;
    for (const auto& [w, n] : frequent) {
      if (ko_terms.size() >= options.embed_max_ko) break;
      if (!has_entry(w)) ko_terms.push_back(w);
    }
    std::unordered_map<std::string, std::size_t> en_counts;
    for (const std::string& w : en_vocab) {
      const bool letters = w.size() >= 3 && std::all_of(w.begin(), w.end(), [](char c) {
                             return c >= 'a' && c <= 'z';
                           });
      if (letters) ++en_counts[w];
    }
    std::vector<std::pair<std::string, std::size_t>> en_sorted(en_counts.begin(), en_counts.end());
    std::sort(en_sorted.begin(), en_sorted.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    std::vector<std::string> en_terms;
    for (const auto& [w, n] : en_sorted) {
      if (en_terms.size() >= options.embed_max_en) break;
      en_terms.push_back(w);
    }
    EmbeddingOptions eo = options.embedding;
    if (verifier == nullptr) {
      eo.top_k = 1;
      eo.min_cosine = std::max(eo.min_cosine, options.min_embedding_cosine);
    }
    spdlog::info("synonyms: embedding {} Korean x {} English terms", ko_terms.size(),
                 en_terms.size());
    for (const CandidatePair& c : embedding_candidates(ko_terms, en_terms, stages.embed, eo)) {
      Provenance prov;
      prov.source = Source::kEmbedding;
      prov.score = c.score;
      prov.count = static_cast<std::uint64_t>(ko_counts[c.ko]);
      prov.note = c.context;
      candidates.add(c.ko, c.en, std::move(prov));
      ++stats.embedding_pairs;
    }
    stats.embedding_ko_terms = ko_terms.size();
    stats.embedding_en_terms = en_terms.size();
    stats.embedding_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();
  }

  // 5. LLM discovery for trending, then frequent, Korean words still without any proposal.
  if (stages.discover && verifier != nullptr && options.discover_max_terms > 0) {
    const auto td = std::chrono::steady_clock::now();
    std::vector<std::string> terms;
    std::set<std::string> chosen;
    auto consider = [&](const std::string& w) {
      if (terms.size() >= options.discover_max_terms || !is_hangul_word(w)) return;
      if (has_entry(w) || !chosen.insert(w).second) return;
      terms.push_back(w);
    };
    TrendOptions to;
    to.top = options.discover_trend_top;
    for (const auto& path : options.corpora) {
      TrendReport report;
      try {
        report = find_trends(path, to);
      } catch (const DataError& e) {
        // The corpus was read above, so this is "no dated documents": frequency only.
        spdlog::debug("synonyms: no trends for {}: {}", path.string(), e.what());
        continue;
      }
      for (const TrendPeriod& period : report.periods) {
        for (const TrendTerm& t : period.terms) consider(t.term);
      }
    }
    for (const auto& [w, n] : frequent) consider(w);
    spdlog::info("synonyms: asking the LLM for English equivalents of {} Korean terms",
                 terms.size());
    for (const CandidatePair& c : stages.discover(terms)) {
      Provenance prov;
      prov.source = Source::kDiscovery;
      prov.score = 0.0;
      prov.count = 1;
      prov.note = c.context;
      candidates.add(c.ko, c.en, std::move(prov));
      ++stats.discovery_pairs;
    }
    stats.discovery_terms = terms.size();
    stats.discovery_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - td).count();
  }

  // 6. Verification (optional), then merge into the dictionary.
  if (verifier != nullptr) {
    stats.verifier = verifier->name();
    const std::vector<const Entry*> all = candidates.entries();
    std::vector<CandidatePair> batch;
    std::vector<const Entry*> batch_entries;
    std::size_t to_verify = 0;
    auto flush = [&] {
      if (batch.empty()) return;
      const auto tv = std::chrono::steady_clock::now();
      const std::vector<Verdict> verdicts = verifier->verify(batch);
      stats.verify_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - tv).count();
      if (verdicts.size() != batch.size()) {
        throw ModelError("verifier " + verifier->name() + " returned " +
                         std::to_string(verdicts.size()) + " verdicts for " +
                         std::to_string(batch.size()) + " pairs");
      }
      for (std::size_t i = 0; i < batch.size(); ++i) {
        ++stats.candidates_verified;
        const Verdict& v = verdicts[i];
        BuildResult::Verified rec{batch[i], {}, v};
        for (const Provenance& p : batch_entries[i]->provenance)
          rec.sources.emplace_back(source_name(p.source));
        result.verified.push_back(std::move(rec));
        if (!v.accepted || v.confidence < options.verify_threshold) {
          ++stats.candidates_rejected;
          continue;
        }
        const Entry* e = batch_entries[i];
        for (const Provenance& p : e->provenance) dict.add(e->ko, e->en, p);
        Provenance llm;
        llm.source = Source::kLlm;
        llm.score = v.confidence;
        llm.count = 1;
        llm.note = v.reason;
        dict.add(e->ko, e->en, std::move(llm));
      }
      spdlog::info(
          "synonyms: verified {}/{} candidates, {} rejected ({:.1f} pairs/s)",
          stats.candidates_verified, to_verify, stats.candidates_rejected,
          static_cast<double>(stats.candidates_verified) / std::max(stats.verify_seconds, 1e-9));
      batch.clear();
      batch_entries.clear();
    };
    // A verification budget takes an even stride through the (ko, en)-sorted candidates, so every
    // source keeps its share; the candidates skipped are dropped like rejected ones.
    const std::size_t stride = options.verify_max == 0 || all.size() <= options.verify_max
                                   ? 1
                                   : (all.size() + options.verify_max - 1) / options.verify_max;
    to_verify = (all.size() + stride - 1) / stride;
    stats.candidates_unverified = all.size() - to_verify;
    for (std::size_t k = 0; k < all.size(); k += stride) {
      const Entry* e = all[k];
      const Provenance& best = *std::max_element(
          e->provenance.begin(), e->provenance.end(),
          [](const Provenance& a, const Provenance& b) { return a.score < b.score; });
      CandidatePair c{e->ko, e->en, best.source, best.score,
                      best.evidence.empty() ? std::string() : best.evidence.front().text};
      batch.push_back(std::move(c));
      batch_entries.push_back(e);
      if (batch.size() >= options.verify_batch) flush();
    }
    flush();
  } else {
    for (const Entry* e : candidates.entries()) {
      if (e->provenance.size() == 1 && e->has_source(Source::kDiscovery)) continue;
      const Provenance* pat = e->find(Source::kPattern);
      if (pat != nullptr && e->provenance.size() == 1 && pat->score < options.min_pattern_score) {
        ++stats.pattern_dropped;
        continue;
      }
      for (const Provenance& p : e->provenance) dict.add(e->ko, e->en, p);
    }
  }
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return result;
}

void save_build(const BuildOptions& options, const BuildResult& result) {
  if (options.out_dir.empty()) throw ConfigError("synonyms build needs --out");
  std::filesystem::create_directories(options.out_dir);
  const auto solr = options.out_dir / "synonyms.txt";
  write_solr_synonyms(solr, result.dictionary);
  const SynonymValidation v = validate_solr_synonyms_file(solr);
  if (!v.ok()) {
    const SynonymIssue& first = *std::find_if(v.issues.begin(), v.issues.end(),
                                              [](const SynonymIssue& i) { return i.error; });
    throw DataError(where(solr, first.line) + ": exported synonym file is invalid: " +
                    first.message + " (a bug in the exporter; please report it)");
  }
  const std::size_t nori =
      write_nori_user_dictionary(options.out_dir / "nori_userdict.txt", result.dictionary);
  {
    const auto path = options.out_dir / "hanja_glosses.tsv";
    std::ofstream out(path, std::ios::binary);
    if (!out) throw IoError("cannot write " + path.string());
    out << "ko\thanja\tcount\n";
    for (const auto& [ko, hanja, n] : result.hanja) out << ko << '\t' << hanja << '\t' << n << '\n';
  }
  {
    JsonlWriter out(options.out_dir / "verdicts.jsonl");
    for (const BuildResult::Verified& v : result.verified) {
      out.write(nlohmann::json{{"ko", v.pair.ko},
                               {"en", v.pair.en},
                               {"source", source_name(v.pair.source)},
                               {"sources", v.sources},
                               {"score", v.pair.score},
                               {"accepted", v.verdict.accepted},
                               {"confidence", v.verdict.confidence},
                               {"reason", v.verdict.reason}});
    }
    out.close();
  }
  std::vector<std::filesystem::path> inputs = options.corpora;
  inputs.insert(inputs.end(), options.seeds.begin(), options.seeds.end());
  inputs.insert(inputs.end(), options.en_vocab.begin(), options.en_vocab.end());
  nlohmann::json extra = result.stats.to_json();
  extra["solr_groups"] = v.equivalence_rules + v.explicit_rules;
  extra["nori_terms"] = nori;
  save_dictionary(options.out_dir, result.dictionary, options.to_json(), inputs,
                  {"synonyms.txt", "nori_userdict.txt", "hanja_glosses.tsv", "verdicts.jsonl"},
                  extra);
}

}  // namespace ksparse::synonyms
