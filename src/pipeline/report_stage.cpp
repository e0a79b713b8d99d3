// Stage `report`: one self-contained HTML file (inline SVG, no scripts, no external resources)
// and a Markdown summary, filled only from the artifacts of the other stages.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "ksparse/core/error.h"
#include "ksparse/core/io.h"
#include "ksparse/core/utf8.h"
#include "ksparse/core/version.h"
#include "ksparse/pipeline/stages.h"
#include "ksparse/synonyms/dictionary.h"
#include "ksparse/synth/triples.h"
#include "stage_util.h"

namespace ksparse::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string esc(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string md_esc(std::string_view s) {
  std::string o;
  for (char c : s) {
    if (c == '|')
      o += "\\|";
    else if (c == '\n')
      o += ' ';
    else
      o += c;
  }
  return o;
}

std::string fmt(double v, int digits = 4) {
  std::ostringstream ss;
  ss.setf(std::ios::fixed);
  ss.precision(digits);
  ss << v;
  return ss.str();
}

// Code points of `s`, cut to `n` with an ellipsis.
std::string cut(const std::string& s, std::size_t n) {
  std::size_t cps = 0, i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
    if (cps == n) return s.substr(0, i) + "…";
    i += len;
    ++cps;
  }
  return s;
}

std::size_t code_points(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

const char* kColors[] = {"#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2"};

// Horizontal bar chart: one bar per (label, value); `unit` after each value.
std::string svg_hbars(const std::vector<std::pair<std::string, double>>& rows,
                      const std::string& unit, int digits, const std::string& color = "#4C78A8") {
  const int bar_h = 22, gap = 6, label_w = 190, chart_w = 420, top = 8;
  double maxv = 0;
  for (const auto& r : rows) maxv = std::max(maxv, r.second);
  if (maxv <= 0) maxv = 1;
  const int h = top * 2 + static_cast<int>(rows.size()) * (bar_h + gap);
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_w + chart_w + 110
    << "\" height=\"" << h << "\" role=\"img\">";
  int y = top;
  for (const auto& [label, v] : rows) {
    const int w = static_cast<int>(std::round(chart_w * v / maxv));
    s << "<text x=\"" << label_w - 6 << "\" y=\"" << y + bar_h - 6
      << "\" text-anchor=\"end\" font-size=\"13\">" << esc(label) << "</text>";
    s << "<rect x=\"" << label_w << "\" y=\"" << y << "\" width=\"" << std::max(w, 1)
      << "\" height=\"" << bar_h << "\" fill=\"" << color << "\"/>";
    s << "<text x=\"" << label_w + std::max(w, 1) + 5 << "\" y=\"" << y + bar_h - 6
      << "\" font-size=\"12\">" << fmt(v, digits) << esc(unit) << "</text>";
    y += bar_h + gap;
  }
  s << "</svg>";
  return s.str();
}

// Grouped vertical bars: groups (metrics) x series (systems).
std::string svg_grouped(const std::vector<std::string>& groups,
                        const std::vector<std::string>& series,
                        const std::vector<std::vector<double>>& values /* [series][group] */) {
  const int plot_h = 220, top = 10, bottom = 40, left = 40, bar_w = 26, group_gap = 30;
  const int group_w = static_cast<int>(series.size()) * bar_w + group_gap;
  const int w = left + static_cast<int>(groups.size()) * group_w + 20;
  const int legend_h = 20 * static_cast<int>(series.size());
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << std::max(w, 420) << "\" height=\""
    << top + plot_h + bottom + legend_h << "\" role=\"img\">";
  for (int t = 0; t <= 4; ++t) {
    const double v = t / 4.0;
    const int y = top + plot_h - static_cast<int>(plot_h * v);
    s << "<line x1=\"" << left << "\" x2=\"" << w - 10 << "\" y1=\"" << y << "\" y2=\"" << y
      << "\" stroke=\"#ddd\"/><text x=\"" << left - 4 << "\" y=\"" << y + 4
      << "\" font-size=\"11\" text-anchor=\"end\">" << fmt(v, 2) << "</text>";
  }
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const int x0 = left + 10 + static_cast<int>(g) * group_w;
    for (std::size_t k = 0; k < series.size(); ++k) {
      const double v = std::clamp(values[k][g], 0.0, 1.0);
      const int bh = static_cast<int>(plot_h * v);
      const int x = x0 + static_cast<int>(k) * bar_w;
      s << "<rect x=\"" << x << "\" y=\"" << top + plot_h - bh << "\" width=\"" << bar_w - 3
        << "\" height=\"" << bh << "\" fill=\"" << kColors[k % 6] << "\"><title>" << esc(series[k])
        << " " << esc(groups[g]) << " " << fmt(values[k][g]) << "</title></rect>";
    }
    s << "<text x=\"" << x0 + (group_w - group_gap) / 2 << "\" y=\"" << top + plot_h + 16
      << "\" font-size=\"12\" text-anchor=\"middle\">" << esc(groups[g]) << "</text>";
  }
  for (std::size_t k = 0; k < series.size(); ++k) {
    const int y = top + plot_h + bottom + static_cast<int>(k) * 20;
    s << "<rect x=\"" << left << "\" y=\"" << y - 10 << "\" width=\"12\" height=\"12\" fill=\""
      << kColors[k % 6] << "\"/><text x=\"" << left + 18 << "\" y=\"" << y << "\" font-size=\"12\">"
      << esc(series[k]) << "</text>";
  }
  s << "</svg>";
  return s.str();
}

// Overlaid histograms (fractions per bin) of several samples.
std::string svg_histogram(const std::vector<std::string>& names,
                          const std::vector<std::vector<double>>& samples, double bin,
                          const std::string& xlabel) {
  double maxx = 0;
  for (const auto& s : samples) {
    for (double v : s) maxx = std::max(maxx, v);
  }
  const int bins = std::max(1, static_cast<int>(std::ceil((maxx + 1) / bin)));
  std::vector<std::vector<double>> frac(samples.size(), std::vector<double>(bins, 0.0));
  double maxf = 0;
  for (std::size_t k = 0; k < samples.size(); ++k) {
    for (double v : samples[k]) frac[k][std::min(bins - 1, static_cast<int>(v / bin))] += 1;
    for (auto& f : frac[k]) {
      f /= std::max<std::size_t>(samples[k].size(), 1);
      maxf = std::max(maxf, f);
    }
  }
  if (maxf <= 0) maxf = 1;
  const int plot_w = 600, plot_h = 180, left = 40, top = 10, bottom = 36;
  const double bw = static_cast<double>(plot_w) / bins;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + plot_w + 20 << "\" height=\""
    << top + plot_h + bottom + 20 * static_cast<int>(names.size()) << "\" role=\"img\">";
  for (std::size_t k = 0; k < samples.size(); ++k) {
    for (int b = 0; b < bins; ++b) {
      const int h = static_cast<int>(plot_h * frac[k][b] / maxf);
      s << "<rect x=\"" << fmt(left + b * bw, 1) << "\" y=\"" << top + plot_h - h << "\" width=\""
        << fmt(std::max(bw - 1, 1.0), 1) << "\" height=\"" << h << "\" fill=\"" << kColors[k % 6]
        << "\" fill-opacity=\"0.55\"/>";
    }
  }
  s << "<line x1=\"" << left << "\" x2=\"" << left + plot_w << "\" y1=\"" << top + plot_h
    << "\" y2=\"" << top + plot_h << "\" stroke=\"#333\"/>";
  for (int b = 0; b <= bins; b += std::max(1, bins / 10)) {
    s << "<text x=\"" << fmt(left + b * bw, 1) << "\" y=\"" << top + plot_h + 14
      << "\" font-size=\"11\" text-anchor=\"middle\">" << fmt(b * bin, 0) << "</text>";
  }
  s << "<text x=\"" << left + plot_w / 2 << "\" y=\"" << top + plot_h + 30
    << "\" font-size=\"12\" text-anchor=\"middle\">" << esc(xlabel) << "</text>";
  for (std::size_t k = 0; k < names.size(); ++k) {
    const int y = top + plot_h + bottom + 14 + static_cast<int>(k) * 20;
    s << "<rect x=\"" << left << "\" y=\"" << y - 10 << "\" width=\"12\" height=\"12\" fill=\""
      << kColors[k % 6] << "\"/><text x=\"" << left + 18 << "\" y=\"" << y << "\" font-size=\"12\">"
      << esc(names[k]) << " (n=" << samples[k].size() << ")</text>";
  }
  s << "</svg>";
  return s.str();
}

// Line chart: one polyline per series of (x, y) points, shared axes.
std::string svg_lines(const std::vector<std::string>& names,
                      const std::vector<std::vector<std::pair<double, double>>>& series,
                      const std::string& xlabel, const std::string& ylabel) {
  double minx = 0, maxx = 1, miny = 0, maxy = 1;
  bool any = false;
  for (const auto& pts : series) {
    for (const auto& [x, y] : pts) {
      if (!any) {
        minx = maxx = x;
        miny = maxy = y;
        any = true;
      }
      minx = std::min(minx, x);
      maxx = std::max(maxx, x);
      miny = std::min(miny, y);
      maxy = std::max(maxy, y);
    }
  }
  if (maxx <= minx) maxx = minx + 1;
  if (maxy <= miny) maxy = miny + 1;
  miny = std::min(miny, 0.0);
  const int plot_w = 600, plot_h = 200, left = 50, top = 10, bottom = 40;
  auto px = [&](double x) { return left + plot_w * (x - minx) / (maxx - minx); };
  auto py = [&](double y) { return top + plot_h - plot_h * (y - miny) / (maxy - miny); };
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + plot_w + 20 << "\" height=\""
    << top + plot_h + bottom + 20 * static_cast<int>(names.size()) << "\" role=\"img\">";
  for (int t = 0; t <= 4; ++t) {
    const double v = miny + (maxy - miny) * t / 4.0;
    s << "<line x1=\"" << left << "\" x2=\"" << left + plot_w << "\" y1=\"" << fmt(py(v), 1)
      << "\" y2=\"" << fmt(py(v), 1) << "\" stroke=\"#ddd\"/><text x=\"" << left - 4 << "\" y=\""
      << fmt(py(v) + 4, 1) << "\" font-size=\"11\" text-anchor=\"end\">" << fmt(v, 2) << "</text>";
  }
  for (int t = 0; t <= 4; ++t) {
    const double v = minx + (maxx - minx) * t / 4.0;
    s << "<text x=\"" << fmt(px(v), 1) << "\" y=\"" << top + plot_h + 14
      << "\" font-size=\"11\" text-anchor=\"middle\">" << fmt(v, 0) << "</text>";
  }
  s << "<text x=\"" << left + plot_w / 2 << "\" y=\"" << top + plot_h + 30
    << "\" font-size=\"12\" text-anchor=\"middle\">" << esc(xlabel) << " / " << esc(ylabel)
    << "</text>";
  for (std::size_t k = 0; k < series.size(); ++k) {
    s << "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" << kColors[k % 6] << "\" points=\"";
    for (const auto& [x, y] : series[k]) s << fmt(px(x), 1) << "," << fmt(py(y), 1) << " ";
    s << "\"/>";
    const int y = top + plot_h + bottom + 14 + static_cast<int>(k) * 20;
    s << "<rect x=\"" << left << "\" y=\"" << y - 10 << "\" width=\"12\" height=\"12\" fill=\""
      << kColors[k % 6] << "\"/><text x=\"" << left + 18 << "\" y=\"" << y << "\" font-size=\"12\">"
      << esc(names[k]) << " (" << series[k].size() << " points)</text>";
  }
  s << "</svg>";
  return s.str();
}

struct Report {
  std::ostringstream html, md;
  void section(const std::string& title) {
    html << "<h2>" << esc(title) << "</h2>\n";
    md << "\n## " << title << "\n\n";
  }
  void para(const std::string& text) {
    html << "<p>" << esc(text) << "</p>\n";
    md << text << "\n\n";
  }
  void missing(const std::string& what) {
    html << "<p class=\"missing\">" << esc(what) << "</p>\n";
    md << "_" << what << "_\n\n";
  }
  // A table; cells are plain text (escaped here).
  void table(const std::vector<std::string>& head,
             const std::vector<std::vector<std::string>>& rows) {
    html << "<table><tr>";
    for (const auto& h : head) html << "<th>" << esc(h) << "</th>";
    html << "</tr>\n";
    for (const auto& r : rows) {
      html << "<tr>";
      for (const auto& c : r) html << "<td>" << esc(c) << "</td>";
      html << "</tr>\n";
    }
    html << "</table>\n";
    md << "|";
    for (const auto& h : head) md << " " << md_esc(h) << " |";
    md << "\n|";
    for (std::size_t i = 0; i < head.size(); ++i) md << "---|";
    md << "\n";
    for (const auto& r : rows) {
      md << "|";
      for (const auto& c : r) md << " " << md_esc(c) << " |";
      md << "\n";
    }
    md << "\n";
  }
  void figure(const std::string& svg, const std::string& caption) {
    html << "<figure>" << svg << "<figcaption>" << esc(caption) << "</figcaption></figure>\n";
  }
};

std::optional<json> manifest_of(const StageContext& ctx, const std::string& stage) {
  if (!ctx.has_input(stage)) return std::nullopt;
  const fs::path p = ctx.input(stage) / "manifest.json";
  if (!fs::exists(p)) return std::nullopt;
  return detail::read_json(p);
}

void ablation_section(Report& r, const StageContext& ctx) {
  r.section("Retrieval on held-out questions");
  if (!ctx.has_input("ablations")) return r.missing("The ablations stage is disabled.");
  const json a = detail::read_json(ctx.input("ablations") / "ablations.json");
  std::vector<std::string> metrics;
  for (const auto& [k, v] : a["systems"][0]["metrics"].items()) metrics.push_back(k);
  // Keep the configured order.
  {
    std::vector<std::string> ordered;
    std::stringstream ss(a["metrics"].get<std::string>());
    std::string m;
    while (std::getline(ss, m, ',')) ordered.push_back(m);
    metrics = ordered;
  }
  std::vector<std::string> head = {"system", "queries"};
  for (const auto& m : metrics) head.push_back(m);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> series;
  std::vector<std::vector<double>> values;
  for (const auto& s : a["systems"]) {
    std::vector<std::string> row = {s["label"].get<std::string>(),
                                    std::to_string(s["queries"].get<std::size_t>())};
    std::vector<double> v;
    for (const auto& m : metrics) {
      row.push_back(fmt(s["metrics"][m].get<double>()));
      v.push_back(s["metrics"][m].get<double>());
    }
    rows.push_back(row);
    series.push_back(s["label"].get<std::string>());
    values.push_back(v);
  }
  r.table(head, rows);
  r.figure(svg_grouped(metrics, series, values), "Mean metric per system (held-out questions)");
  if (!a["comparisons"].empty()) {
    std::vector<std::vector<std::string>> crow;
    for (const auto& c : a["comparisons"]) {
      crow.push_back(
          {c["b"].get<std::string>() + " vs " + c["a"].get<std::string>(),
           c["metric"].get<std::string>(), fmt(c["mean_a"].get<double>()),
           fmt(c["mean_b"].get<double>()), fmt(c["mean_diff"].get<double>()),
           c["test"].get<std::string>(),
           c["p_value"].get<double>() < 1e-4 ? "<0.0001" : fmt(c["p_value"].get<double>())});
    }
    r.para("Paired significance tests (two-sided) over the same " +
           std::to_string(a["comparisons"][0]["n"].get<std::size_t>()) + " queries:");
    r.table({"comparison", "metric", "mean A", "mean B", "B - A", "test", "p"}, crow);
  }
  if (a.contains("not_run") && !a["not_run"].empty()) {
    std::vector<std::vector<std::string>> nrow;
    for (const auto& n : a["not_run"]) {
      nrow.push_back({n["comparison"].get<std::string>(), n["reason"].get<std::string>()});
    }
    r.para("Comparisons not run:");
    r.table({"comparison", "why"}, nrow);
  }
  std::vector<std::vector<std::string>> runs;
  for (const auto& s : a["systems"]) {
    runs.push_back({s["label"].get<std::string>(), s["run"].get<std::string>()});
  }
  r.para("Qrels: " + a["qrels"].get<std::string>() +
         ". Every number above is `ksparse eval --qrels QRELS --run RUN` of these run files "
         "(p-values: `ksparse eval --compare`):");
  r.table({"system", "run"}, runs);
}

void synth_section(Report& r, const StageContext& ctx) {
  r.section("Synthetic queries");
  auto m = manifest_of(ctx, "synth");
  if (!m) return r.missing("The synth stage is disabled in this run: no synthetic data.");
  const json& st = (*m)["stats"]["stage"];
  const json& funnel = st["funnel"];
  const json& gen = st["generation"];
  // An imported run names its model in the stats; a generating run in its config.
  const std::string model =
      st.contains("model") ? st["model"].get<std::string>()
                           : (*m)["config"].value("model", (*m)["config"]["llm"]["model"].dump());
  r.para("Model: " + model +
         (st.contains("imported_from")
              ? " (imported from " + st["imported_from"].get<std::string>() + ")"
              : std::string()) +
         "; " + std::to_string(st["documents"].get<std::size_t>()) + " passages, " +
         std::to_string(gen["requests"].get<std::size_t>()) + " generations (" +
         std::to_string(gen["cached"].get<std::size_t>()) + " from the cache), " +
         fmt(st["generated_tok_s"].get<double>(), 1) + " generated tokens/s; " +
         std::to_string(funnel["passed"].get<std::size_t>()) + " of " +
         std::to_string(funnel["input"].get<std::size_t>()) + " candidates passed every filter.");
  std::vector<std::pair<std::string, double>> rows;
  double remaining = funnel["input"].get<double>();
  rows.push_back({"generated", remaining});
  std::vector<std::vector<std::string>> trows;
  for (const auto& name : funnel["order"]) {
    const double rej = funnel["by_filter"].value(name.get<std::string>(), 0.0);
    remaining -= rej;
    rows.push_back({"after " + name.get<std::string>(), remaining});
    trows.push_back({name.get<std::string>(), fmt(rej, 0), fmt(remaining, 0)});
  }
  r.figure(svg_hbars(rows, "", 0), "Filter funnel: candidates left after each filter");
  r.table({"filter", "rejected", "left"}, trows);

  // Length histograms: synthetic (kept) vs real held-out questions.
  const fs::path triples = ctx.input("synth") / "queries" / "triples.jsonl";
  std::vector<synth::Triple> kept = synth::read_triples(triples);
  std::vector<double> syn_len, real_len;
  for (const auto& t : kept) syn_len.push_back(static_cast<double>(code_points(t.query)));
  for (const Query& q : read_queries(ctx.input("data") / "test_queries.jsonl")) {
    real_len.push_back(static_cast<double>(code_points(q.text)));
  }
  r.figure(svg_histogram({"synthetic (kept)", "real held-out questions"}, {syn_len, real_len}, 4,
                         "query length (characters)"),
           "Query length distribution (fraction per bin)");
  // Examples: 20 kept pairs chosen with a fixed seed.
  std::map<std::string, std::string> passages;
  for (const Document& d : read_corpus(ctx.input("data") / "train_corpus.jsonl")) {
    passages[d.id] = d.title + " — " + d.text;
  }
  std::mt19937_64 rng(7);
  std::shuffle(kept.begin(), kept.end(), rng);
  if (kept.size() > 20) kept.resize(20);
  std::vector<std::vector<std::string>> ex;
  for (const auto& t : kept) {
    const std::string style = t.provenance ? t.provenance->template_name : "";
    const std::string lp =
        t.provenance && t.provenance->logprob ? fmt(*t.provenance->logprob, 2) : "";
    ex.push_back({t.query, style, lp, cut(passages[t.positive_id], 90)});
  }
  if (ex.empty()) {
    r.missing("No synthetic pair passed every filter.");
  } else {
    r.para("Example synthetic pairs (random, seed 7):");
    r.table({"query", "template", "mean logprob", "passage"}, ex);
  }
}

void synonyms_section(Report& r, const StageContext& ctx) {
  r.section("Synonym dictionary");
  auto m = manifest_of(ctx, "synonyms");
  if (!m) return r.missing("The synonyms stage is disabled in this run.");
  const json& st = (*m)["stats"]["stage"];
  const json ev = detail::read_json(ctx.input("synonyms") / "eval.json");
  r.para(std::to_string(st["entries"].get<std::size_t>()) + " entries from " +
         std::to_string(st["seed_pairs"].get<std::size_t>()) +
         " seed pairs (half of the lexicon's headwords) and the corpora; verifier: " +
         st.value("verifier", std::string("none")) + ". Against the held-out half ∪ extra gold (" +
         std::to_string(ev["overall"]["scored_pairs"].get<std::size_t>()) +
         " scored pairs): precision " +
         (ev["overall"]["scored_pairs"].get<std::size_t>() == 0
              ? std::string("n/a")
              : fmt(ev["overall"]["precision"].get<double>())) +
         ", recall " + fmt(ev["overall"]["recall"].get<double>()) + ".");
  std::vector<std::vector<std::string>> rows;
  for (const auto& [src, s] : ev["by_source"].items()) {
    if (s["entries"].get<std::size_t>() == 0) continue;
    rows.push_back({src, std::to_string(s["entries"].get<std::size_t>()),
                    std::to_string(s["scored_pairs"].get<std::size_t>()),
                    fmt(s["precision"].get<double>()), fmt(s["recall"].get<double>())});
  }
  r.table({"source", "entries", "scored pairs", "precision", "recall"}, rows);
  if (st.contains("unverified")) {
    // The verification ablation: the same candidates, kept by thresholds vs by the LLM.
    const json& u = st["unverified"];
    const double seed = static_cast<double>(st["seed_pairs"].get<std::size_t>());
    const json vo = ev["overall"];
    const auto times = [&](std::size_t n) { return fmt(static_cast<double>(n) / seed, 2) + "×"; };
    // A dictionary with no scored pair (e.g. the seed alone) has no precision.
    const auto prec = [](const json& e) {
      return e["scored_pairs"].get<std::size_t>() == 0 ? std::string("n/a")
                                                       : fmt(e["precision"].get<double>());
    };
    r.para("LLM verification (" + st.value("verifier", std::string()) + ", threshold " +
           fmt(st.value("verify_threshold", 0.0), 2) +
           "): " + std::to_string(st.value("candidates_verified", std::size_t{0})) +
           " candidates judged, " +
           std::to_string(st.value("candidates_rejected", std::size_t{0})) + " rejected, " +
           fmt(st.value("verify_pairs_per_s", 0.0), 1) +
           " pairs/s. Without verification every candidate passing its source's thresholds is "
           "kept (the embedding-only arm):");
    r.table({"dictionary", "entries", "× seed", "scored pairs", "precision", "recall"},
            {{"unverified (embedding-only)", std::to_string(u["entries"].get<std::size_t>()),
              times(u["entries"].get<std::size_t>()),
              std::to_string(u["scored_pairs"].get<std::size_t>()), prec(u),
              fmt(u["recall"].get<double>())},
             {"LLM-verified", std::to_string(st["entries"].get<std::size_t>()),
              times(st["entries"].get<std::size_t>()),
              std::to_string(vo["scored_pairs"].get<std::size_t>()), prec(vo),
              fmt(vo["recall"].get<double>())}});
  }
  const synonyms::Dictionary dict = synonyms::load_dictionary(ctx.input("synonyms") / "dict");
  std::vector<const synonyms::Entry*> nonseed;
  for (const auto* e : dict.entries()) {
    if (!e->has_source(synonyms::Source::kSeed)) nonseed.push_back(e);
  }
  std::mt19937_64 rng(11);
  std::shuffle(nonseed.begin(), nonseed.end(), rng);
  if (nonseed.size() > 15) nonseed.resize(15);
  std::vector<std::vector<std::string>> ex;
  for (const auto* e : nonseed) {
    std::string sources;
    for (const auto& p : e->provenance) {
      {
        if (!sources.empty()) sources.append(", ");
        sources.append(std::string(synonyms::source_name(p.source)));
      }
    }
    ex.push_back({e->ko, e->en, sources, fmt(e->score(), 2)});
  }
  r.para("Example entries found in the corpora (random, seed 11):");
  r.table({"Korean", "English", "sources", "score"}, ex);
}

void trends_section(Report& r, const StageContext& ctx) {
  r.section("Trending terms");
  if (!ctx.has_input("trends")) return r.missing("The trends stage is disabled in this run.");
  const json t = detail::read_json(ctx.input("trends") / "trends.json");
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : t["periods"]) {
    std::string terms;
    std::size_t n = 0;
    for (const auto& term : p["terms"]) {
      if (n++ == 8) break;
      {
        if (!terms.empty()) terms.append(", ");
        terms.append(term["term"].get<std::string>() + " (" + fmt(term["g2"].get<double>(), 0) +
                     ")");
      }
    }
    rows.push_back(
        {p["period"].get<std::string>(), std::to_string(p["documents"].get<int>()), terms});
  }
  r.table({"period", "documents", "top terms (G²)"}, rows);
}

void resources_section(Report& r, const StageContext& ctx) {
  r.section("Time and memory per stage");
  std::vector<std::pair<std::string, double>> secs, rss;
  std::vector<std::vector<std::string>> rows;
  for (const std::string& s : ctx.spec().deps) {
    auto m = manifest_of(ctx, s);
    if (!m) continue;
    const json& stats = (*m)["stats"];
    const double t = stats["timings"]["seconds"].get<double>();
    const double peak = stats["memory"]["peak_rss_mib"].get<double>();
    secs.push_back({s, t});
    rss.push_back({s, peak});
    std::string dev;
    if (stats.contains("devices")) {
      for (const auto& [res, mem] : stats["devices"].items()) {
        for (const auto& [name, d] : mem.items()) {
          if (!d.is_object() || !d.contains("planned_total_bytes")) continue;
          {
            if (!dev.empty()) dev.append("; ");
            dev.append(res + " " + name + " planned " +
                       fmt(d["planned_total_bytes"].get<double>() / (1024.0 * 1024.0), 0) + " MiB");
          }
        }
      }
    }
    rows.push_back({s, fmt(t, 1), fmt(peak, 0), stats["timings"]["started"].get<std::string>(),
                    dev.empty() ? "-" : dev});
  }
  r.figure(svg_hbars(secs, " s", 1), "Wall time per stage (when it last ran)");
  r.figure(svg_hbars(rss, " MiB", 0, "#F58518"), "Peak resident memory per stage");
  r.table({"stage", "seconds", "peak RSS MiB", "ran at", "LLM memory"}, rows);
}

// Loss rows and validation points of a model's loss_curve.jsonl.
void read_curve(const fs::path& path, std::vector<std::pair<double, double>>& loss,
                std::vector<std::pair<double, double>>& valid) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json row = json::parse(line);
    const double step = row.value("step", 0.0);
    if (row.contains("loss")) loss.push_back({step, row["loss"].get<double>()});
    if (row.contains("valid_ndcg@10")) valid.push_back({step, row["valid_ndcg@10"].get<double>()});
  }
}

void training_section(Report& r, const StageContext& ctx) {
  r.section("Sparse encoder training");
  const std::vector<std::pair<std::string, std::string>> stages = {
      {"train_real", "real questions only"}, {"train_synth", "real + synthetic"}};
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> names, vnames;
  std::vector<std::vector<std::pair<double, double>>> losses, valids;
  json train_cfg;
  std::size_t vocab = 0;  // the trained vocabulary (the WordPiece trainer may exceed vocab_size)
  for (const auto& [stage, label] : stages) {
    auto m = manifest_of(ctx, stage);
    if (!m) continue;
    const json& st = (*m)["stats"]["stage"];
    train_cfg = (*m)["config"]["train"];
    const fs::path bert = ctx.input(stage) / "model" / "config.json";
    if (fs::exists(bert)) vocab = detail::read_json(bert).value("vocab_size", std::size_t{0});
    const json data = st.value("data", json::object());
    rows.push_back({label, std::to_string(st["steps"].get<std::int64_t>()),
                    std::to_string(st["train_triples"].get<std::size_t>()),
                    std::to_string(data.value("synthetic_used", std::size_t{0})) + " / " +
                        std::to_string(st["synthetic_available"].get<std::size_t>()),
                    std::to_string(st["valid_queries"].get<std::size_t>()),
                    fmt(st["final_loss"].get<double>()),
                    fmt(st["best_valid_ndcg@10"].get<double>()),
                    std::to_string(st["best_step"].get<std::int64_t>()),
                    st["resumed_from"].get<std::int64_t>() >= 0
                        ? "step " + std::to_string(st["resumed_from"].get<std::int64_t>())
                        : "-",
                    fmt((*m)["stats"]["timings"]["seconds"].get<double>(), 1)});
    std::vector<std::pair<double, double>> loss, valid;
    read_curve(ctx.input(stage) / "model" / "loss_curve.jsonl", loss, valid);
    names.push_back(label);
    losses.push_back(std::move(loss));
    vnames.push_back(label);
    valids.push_back(std::move(valid));
  }
  if (rows.empty()) {
    return r.missing(workflow_has_encoder()
                         ? "The training stages (train_real, train_synth) are disabled in this run."
                         : "This ksparse was built without libtorch (KSPARSE_WITH_TORCH=OFF): no "
                           "encoder training, evaluation or export.");
  }
  if (train_cfg.is_object()) {
    r.para("Model: BERT " + std::to_string(train_cfg.value("num_layers", 0)) + " layers, hidden " +
           std::to_string(train_cfg.value("hidden_size", 0)) + ", WordPiece vocabulary " +
           std::to_string(vocab) + " (" + train_cfg.value("mode", std::string()) +
           ", lexical prior " + (train_cfg.value("lexical_prior", false) ? "on" : "off") + "); " +
           std::to_string(train_cfg.value("max_steps", 0)) + " steps of " +
           std::to_string(train_cfg.value("batch_size", 0)) + " queries, lr " +
           fmt(train_cfg.value("lr", 0.0), 5) + ", FLOPS " +
           fmt(train_cfg.value("flops_doc", 0.0), 4) + ", teacher " +
           train_cfg.value("teacher", std::string()) +
           ". Both models share every setting; only the training data differ.");
  }
  r.table({"model", "steps", "train triples", "synthetic used / available", "validation queries",
           "final loss", "best valid nDCG@10", "best step", "resumed from", "seconds"},
          rows);
  r.figure(svg_lines(names, losses, "step", "training loss"), "Training loss (logged steps)");
  r.figure(svg_lines(vnames, valids, "step", "validation nDCG@10"),
           "Validation nDCG@10 (real-only held-out training questions)");
  std::vector<std::vector<std::string>> erows;
  for (const std::string stage : {"eval_real", "eval_synth"}) {
    auto m = manifest_of(ctx, stage);
    if (!m) continue;
    const json& st = (*m)["stats"]["stage"];
    erows.push_back(
        {stage, std::to_string(st["documents"].get<std::size_t>()),
         fmt(st["avg_doc_terms"].get<double>(), 1), fmt(st["avg_query_terms"].get<double>(), 1),
         fmt(st["encode_seconds"].get<double>(), 1), fmt(st["search_seconds"].get<double>(), 2)});
  }
  if (!erows.empty()) {
    r.para("Impact indexes over every passage:");
    r.table({"stage", "documents", "terms / document", "terms / query", "encode s", "search s"},
            erows);
  }
}

void export_section(Report& r, const StageContext& ctx) {
  r.section("OpenSearch export");
  auto m = manifest_of(ctx, "export");
  if (!m) return r.missing("The export stage is disabled in this run (or not in this build).");
  const json& st = (*m)["stats"]["stage"];
  const fs::path dir = fs::absolute(ctx.input("export") / st["dir"].get<std::string>());
  r.para("Model `" + st["model"].get<std::string>() + "` exported to " + dir.string() + ": " +
         std::to_string(st["documents"].get<std::size_t>()) + " documents, " +
         fmt(st["documents"].get<double>() > 0
                 ? st["features"].get<double>() / st["documents"].get<double>()
                 : 0.0,
             1) +
         " rank_features per document (" +
         std::to_string(st["dropped_dot_features"].get<std::size_t>()) +
         " dropped for a '.'), bulk.jsonl " +
         fmt(st["bulk_bytes"].get<double>() / (1024.0 * 1024.0), 1) + " MiB.");
  r.table({"file", "what"},
          {{"model/", "Hugging Face folder (config.json, model.safetensors, tokenizer, idf.json)"},
           {"bulk.jsonl", "POST _bulk body with rank_features"},
           {"mapping.json", "index settings and mapping"},
           {"query_example.json",
            "neural_sparse query for `" + st["example_query"].get<std::string>() + "`"},
           {"README.md", "curl commands"}});
}

}  // namespace

StageSpec report_stage() {
  StageSpec s;
  s.name = "report";
  s.description = "self-contained HTML report + Markdown summary from the artifacts";
  s.deps = {"data",       "bm25",        "synth",     "trends",     "synonyms", "expansion",
            "train_real", "train_synth", "eval_real", "eval_synth", "export",   "ablations"};
  s.plan = [](const ConfigTable& t, const ConfigTable&) {
    t.expect_keys({"enabled", "title"});
    StagePlan p;
    p.config = {{"title", t.get<std::string>("title", "ksparse run report")}};
    return p;
  };
  s.run = [](StageContext& ctx) {
    Report r;
    const std::string title = ctx.config()["title"].get<std::string>();
    r.md << "# " << title << "\n\n";
    auto data = manifest_of(ctx, "data");
    std::string intro = "ksparse " + std::string(version_string()) + " (" +
                        std::string(git_commit()) + "), " + std::string(build_features()) + ".";
    if (data) {
      const json& st = (*data)["stats"]["stage"];
      intro += " Data: " + std::to_string(st["passages"].get<std::size_t>()) + " passages, " +
               std::to_string(st["train_triples"].get<std::size_t>()) +
               " train questions (train articles), " +
               std::to_string(st["test_queries"].get<std::size_t>()) +
               " held-out questions (other articles).";
    }
    r.para(intro);
    ablation_section(r, ctx);
    synth_section(r, ctx);
    synonyms_section(r, ctx);
    trends_section(r, ctx);
    training_section(r, ctx);
    export_section(r, ctx);
    resources_section(r, ctx);

    std::ofstream html(ctx.out_dir() / "report.html", std::ios::binary);
    html << "<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\"><title>" << esc(title)
         << "</title>\n<style>body{font-family:\"Noto Sans CJK KR\",\"Noto Sans KR\",\"Apple SD "
            "Gothic Neo\",\"Malgun Gothic\",sans-serif;max-width:1000px;margin:2em auto;"
            "color:#222}table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px "
            "solid #ccc;padding:3px 8px;font-size:13px;text-align:left;vertical-align:top}"
            "th{background:#f3f3f3}figure{margin:1em 0}figcaption{font-size:12px;color:#555}"
            ".missing{color:#a33;font-style:italic}h2{border-bottom:1px solid #ddd;"
            "padding-bottom:4px;margin-top:1.6em}</style></head><body>\n<h1>"
         << esc(title) << "</h1>\n"
         << r.html.str() << "</body></html>\n";
    if (!html) throw IoError((ctx.out_dir() / "report.html").string() + ": write failed");
    std::ofstream md(ctx.out_dir() / "report.md", std::ios::binary);
    md << r.md.str();
    if (!md) throw IoError((ctx.out_dir() / "report.md").string() + ": write failed");
  };
  return s;
}

}  // namespace ksparse::pipeline
