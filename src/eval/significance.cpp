#include "ksparse/eval/significance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "ksparse/core/error.h"

namespace ksparse {
namespace {

void check_pair(const std::vector<double>& a, const std::vector<double>& b, std::size_t min_n,
                const char* test) {
  if (a.size() != b.size()) {
    throw ConfigError(std::string(test) + ": the two runs have " + std::to_string(a.size()) +
                      " and " + std::to_string(b.size()) +
                      " per-query values; evaluate both against the same qrels");
  }
  if (a.size() < min_n) {
    throw ConfigError(std::string(test) + " needs at least " + std::to_string(min_n) +
                      " evaluated queries, got " + std::to_string(a.size()));
  }
}

PairedTestResult basic_stats(const std::vector<double>& a, const std::vector<double>& b) {
  PairedTestResult r;
  r.n = a.size();
  double sa = 0.0, sb = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sa += a[i];
    sb += b[i];
  }
  const double n = static_cast<double>(r.n);
  r.mean_a = sa / n;
  r.mean_b = sb / n;
  r.mean_diff = (sb - sa) / n;
  return r;
}

// Continued fraction of the incomplete beta function, evaluated with the modified Lentz method
// (Lentz 1976; Thompson & Barnett 1986). Converges quickly for x < (a + 1) / (a + b + 2).
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIter = 10000;
  constexpr double kEps = 1e-15;
  constexpr double kTiny = 1e-300;
  auto guard = [](double v) { return std::fabs(v) < kTiny ? kTiny : v; };
  double c = 1.0;
  double d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
  double h = d;
  for (int m = 1; m <= kMaxIter; ++m) {
    const double dm = static_cast<double>(m);
    // Even term d_{2m} = m (b - m) x / ((a + 2m - 1)(a + 2m)).
    double coef = dm * (b - dm) * x / ((a + 2.0 * dm - 1.0) * (a + 2.0 * dm));
    d = 1.0 / guard(1.0 + coef * d);
    c = guard(1.0 + coef / c);
    h *= d * c;
    // Odd term d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
    coef = -(a + dm) * (a + b + dm) * x / ((a + 2.0 * dm) * (a + 2.0 * dm + 1.0));
    d = 1.0 / guard(1.0 + coef * d);
    c = guard(1.0 + coef / c);
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < kEps) break;
  }
  return h;
}

}  // namespace

PairedTest parse_paired_test(std::string_view name) {
  if (name == "randomization") return PairedTest::kRandomization;
  if (name == "ttest") return PairedTest::kTTest;
  throw ConfigError("unknown significance test '" + std::string(name) +
                    "'; use 'randomization' or 'ttest'");
}

std::string paired_test_name(PairedTest test) {
  return test == PairedTest::kRandomization ? "randomization" : "ttest";
}

void RandomizationOptions::validate() const {
  if (trials < 1) throw ConfigError("RandomizationOptions.trials must be >= 1, got 0");
}

PairedTestResult paired_randomization_test(const std::vector<double>& a,
                                           const std::vector<double>& b,
                                           const RandomizationOptions& options) {
  options.validate();
  check_pair(a, b, 1, "randomization test");
  PairedTestResult r = basic_stats(a, b);
  r.statistic = r.mean_diff;
  const std::size_t n = a.size();
  std::vector<double> diff(n);
  double abs_sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    diff[i] = b[i] - a[i];
    abs_sum += std::fabs(diff[i]);
  }
  double observed = 0.0;
  for (double d : diff) observed += d;
  observed = std::fabs(observed);
  // Sums that equal the observed one mathematically can differ in the last bits; count them as
  // "at least as extreme" so that exact ties are not lost to rounding.
  const double threshold = observed - 1e-12 * std::max(1.0, abs_sum);

  auto flipped_sum = [&](auto&& sign_bit) {
    double s = 0.0;
    for (std::size_t i = 0; i < n; ++i) s += sign_bit(i) ? -diff[i] : diff[i];
    return std::fabs(s);
  };

  if (n < 63 && (std::uint64_t{1} << n) <= options.trials) {
    // Exact: enumerate every sign assignment.
    const std::uint64_t total = std::uint64_t{1} << n;
    std::uint64_t count = 0;
    for (std::uint64_t mask = 0; mask < total; ++mask) {
      if (flipped_sum([&](std::size_t i) { return (mask >> i) & 1U; }) >= threshold) ++count;
    }
    r.p_value = static_cast<double>(count) / static_cast<double>(total);
    return r;
  }

  // Monte Carlo. mt19937_64's output sequence is fixed by the C++ standard, and signs are taken
  // straight from its bits (no distribution objects, whose algorithms are implementation-defined),
  // so a seed gives the same p-value on every platform.
  std::mt19937_64 rng(options.seed);
  std::uint64_t count = 0;
  std::vector<bool> flip(n);
  for (std::size_t t = 0; t < options.trials; ++t) {
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i % 64 == 0) bits = rng();
      flip[i] = (bits >> (i % 64)) & 1U;
    }
    if (flipped_sum([&](std::size_t i) { return flip[i]; }) >= threshold) ++count;
  }
  // (count + 1) / (trials + 1): the observed assignment is one of the permutations, which keeps
  // the estimate a valid p-value (Phipson & Smyth, 2010).
  r.p_value = static_cast<double>(count + 1) / static_cast<double>(options.trials + 1);
  return r;
}

PairedTestResult paired_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  check_pair(a, b, 2, "paired t-test");
  PairedTestResult r = basic_stats(a, b);
  const std::size_t n = a.size();
  double ss = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double dev = (b[i] - a[i]) - r.mean_diff;
    ss += dev * dev;
  }
  const double df = static_cast<double>(n - 1);
  const double se = std::sqrt(ss / df / static_cast<double>(n));
  if (se == 0.0) {
    if (r.mean_diff == 0.0) {
      r.statistic = 0.0;
      r.p_value = 1.0;
    } else {
      r.statistic = std::copysign(std::numeric_limits<double>::infinity(), r.mean_diff);
      r.p_value = 0.0;
    }
    return r;
  }
  r.statistic = r.mean_diff / se;
  r.p_value = student_t_two_sided_p(r.statistic, df);
  return r;
}

double regularized_incomplete_beta(double a, double b, double x) {
  if (!(a > 0.0) || !(b > 0.0) || !(x >= 0.0 && x <= 1.0)) {
    throw ConfigError(
        "regularized_incomplete_beta: need a > 0, b > 0, 0 <= x <= 1 (got a=" + std::to_string(a) +
        ", b=" + std::to_string(b) + ", x=" + std::to_string(x) + ")");
  }
  if (x == 0.0) return 0.0;
  if (x == 1.0) return 1.0;
  // I_x(a,b) = x^a (1-x)^b / (a B(a,b)) * CF(a,b,x); use the symmetry
  // I_x(a,b) = 1 - I_{1-x}(b,a) where the continued fraction converges slowly.
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) {
    return std::exp(log_front) * beta_continued_fraction(a, b, x) / a;
  }
  return 1.0 - std::exp(log_front) * beta_continued_fraction(b, a, 1.0 - x) / b;
}

double student_t_two_sided_p(double t, double df) {
  if (!(df > 0.0)) {
    throw ConfigError("student_t_two_sided_p: degrees of freedom must be > 0, got " +
                      std::to_string(df));
  }
  if (std::isnan(t)) return std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(t)) return 0.0;
  // P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2) (Abramowitz & Stegun 26.7.1 / 26.5.27).
  const double x = df / (df + t * t);
  return std::clamp(regularized_incomplete_beta(df / 2.0, 0.5, x), 0.0, 1.0);
}

}  // namespace ksparse
