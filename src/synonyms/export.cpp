#include "ksparse/synonyms/export.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "ksparse/core/error.h"
#include "ksparse/core/text.h"
#include "ksparse/core/utf8.h"
#include "ksparse/synonyms/terms.h"
#include "ksparse/synonyms/transliteration.h"

namespace ksparse::synonyms {

namespace {

void write_text(const std::filesystem::path& path, const std::string& text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError("cannot write " + path.string());
  out << text;
  out.close();
  if (!out) throw IoError("error writing " + path.string() + " (disk full?)");
}

std::string join_terms(const std::vector<std::string>& terms) {
  std::string out;
  for (const std::string& t : terms) {
    if (!out.empty()) out += ", ";
    out += solr_escape(t);
  }
  return out;
}

// Splits on an unescaped separator, keeping escapes (as Lucene's SolrSynonymParser.split does).
std::vector<std::string> split_escaped(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  std::string cur;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == '\\') {
      cur += s[i++];
      if (i < s.size()) cur += s[i++];
      continue;
    }
    if (s.compare(i, sep.size(), sep) == 0) {
      out.push_back(cur);
      cur.clear();
      i += sep.size();
      continue;
    }
    cur += s[i++];
  }
  out.push_back(cur);
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out += s[++i];
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string solr_escape(std::string_view term) {
  std::string out;
  for (std::size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (c == '\n' || c == '\r') {
      out += ' ';
      continue;
    }
    if (c == '\\' || c == ',' || c == '=' || (i == 0 && c == '#')) out += '\\';
    out += c;
  }
  return out;
}

std::string to_solr_synonyms(const Dictionary& dict, const SolrExportOptions& options) {
  const std::vector<Group> groups = group_by_english(dict, options.min_score);
  std::ostringstream out;
  if (options.header) {
    out << "# ksparse Korean-English synonyms (Solr/OpenSearch synonym_graph format)\n";
    out << "# " << groups.size() << " groups over " << dict.size() << " pairs";
    if (options.min_score > 0) out << " with score >= " << options.min_score;
    out << "\n";
  }
  for (const Group& g : groups) {
    if (options.style == SolrExportOptions::Style::kEquivalence) {
      std::vector<std::string> terms = {g.en};
      terms.insert(terms.end(), g.ko.begin(), g.ko.end());
      out << join_terms(terms) << '\n';
    } else {
      out << join_terms(g.ko) << " => " << solr_escape(g.en) << '\n';
    }
  }
  return out.str();
}

std::size_t write_solr_synonyms(const std::filesystem::path& path, const Dictionary& dict,
                                const SolrExportOptions& options) {
  write_text(path, to_solr_synonyms(dict, options));
  return group_by_english(dict, options.min_score).size();
}

std::size_t SynonymValidation::errors() const {
  return static_cast<std::size_t>(
      std::count_if(issues.begin(), issues.end(), [](const SynonymIssue& i) { return i.error; }));
}

SynonymValidation validate_solr_synonyms(std::string_view text) {
  SynonymValidation v;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(start, nl - start);
    start = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto add = [&](bool error, std::string msg) {
      v.issues.push_back({line_no, error, std::move(msg)});
    };
    std::size_t bad = 0;
    if (!utf8_valid(line, &bad)) {
      add(true, "invalid UTF-8 at byte " + std::to_string(bad + 1));
      continue;
    }
    if (line.empty() || line.front() == '#') continue;
    ++v.rules;
    if (trim_ascii(line).empty()) {
      add(true, "whitespace-only line: Solr reads it as an empty term (delete the line)");
      continue;
    }
    {
      // A lone backslash at the end escapes nothing and is kept literally.
      std::size_t n = 0;
      for (auto it = line.rbegin(); it != line.rend() && *it == '\\'; ++it) ++n;
      if (n % 2 == 1) add(false, "trailing backslash escapes nothing (kept as a literal '\\')");
    }
    const std::vector<std::string> sides = split_escaped(line, "=>");
    if (sides.size() > 2) {
      add(true, "more than one '=>' on the line (escape a literal one as '\\=>')");
      continue;
    }
    const bool is_explicit = sides.size() == 2;
    bool line_ok = true;
    std::set<std::string> seen;
    for (std::size_t s = 0; s < sides.size(); ++s) {
      const char* side_name = !is_explicit ? "group" : (s == 0 ? "left side" : "right side");
      if (trim_ascii(unescape(sides[s])).empty() && is_explicit) {
        add(true, std::string("empty ") + side_name + " of '=>'");
        line_ok = false;
        continue;
      }
      const std::vector<std::string> terms = split_escaped(sides[s], ",");
      for (std::size_t t = 0; t < terms.size(); ++t) {
        const std::string term(trim_ascii(unescape(terms[t])));
        if (term.empty()) {
          add(true, std::string("empty term #") + std::to_string(t + 1) + " in the " + side_name +
                        " (remove the extra ',' or escape a literal one as '\\,')");
          line_ok = false;
          continue;
        }
        ++v.terms;
        if (term.find(' ') != std::string::npos || term.find('\t') != std::string::npos)
          ++v.multiword_terms;
        if (!seen.insert(term).second && !is_explicit)
          add(false, "term '" + term + "' appears twice in the group");
      }
      if (!is_explicit && terms.size() == 1 && line_ok)
        add(false, "group with a single term has no effect");
    }
    if (line_ok) ++(is_explicit ? v.explicit_rules : v.equivalence_rules);
  }
  return v;
}

SynonymValidation validate_solr_synonyms_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open synonym file " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return validate_solr_synonyms(ss.str());
}

std::vector<std::string> nori_user_terms(const Dictionary& dict, const NoriExportOptions& options) {
  std::set<std::string> terms;
  for (const Entry* e : dict.entries()) {
    if (e->score() < options.min_score || !is_hangul_word(e->ko)) continue;
    if (e->has_source(Source::kTransliteration) ||
        transliteration_score(e->ko, e->en) >= options.min_transliteration_score) {
      terms.insert(e->ko);
    }
  }
  return {terms.begin(), terms.end()};
}

std::size_t write_nori_user_dictionary(const std::filesystem::path& path, const Dictionary& dict,
                                       const NoriExportOptions& options) {
  const std::vector<std::string> terms = nori_user_terms(dict, options);
  std::string text = "# ksparse: Korean loanwords for the nori_tokenizer user_dictionary\n";
  for (const std::string& t : terms) text += t + "\n";
  write_text(path, text);
  return terms.size();
}

}  // namespace ksparse::synonyms
