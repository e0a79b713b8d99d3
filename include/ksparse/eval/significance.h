// Paired significance tests for comparing two systems on the same queries (Smucker, Allan &
// Carterette, "A Comparison of Statistical Significance Tests for Information Retrieval
// Evaluation", CIKM 2007). Inputs are per-query metric values in the same query order, e.g.
// EvalResult::column(m) of two runs evaluated against the same qrels.
//
// All functions are pure and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ksparse {

enum class PairedTest { kRandomization, kTTest };

// "randomization" | "ttest"; throws ConfigError otherwise.
PairedTest parse_paired_test(std::string_view name);
std::string paired_test_name(PairedTest test);

struct RandomizationOptions {
  // Monte Carlo trials, >= 1. When 2^n <= trials (n = number of queries) all 2^n sign assignments
  // are enumerated instead and the p-value is exact.
  std::size_t trials = 10000;
  std::uint64_t seed = 42;  // fixed seed: the same inputs always give the same p-value
  // Throws ConfigError naming the field when out of range.
  void validate() const;
};

struct PairedTestResult {
  std::size_t n = 0;       // number of paired values
  double mean_a = 0.0;     // mean of a
  double mean_b = 0.0;     // mean of b
  double mean_diff = 0.0;  // mean of (b - a)
  double statistic = 0.0;  // t for the t-test; mean_diff for the randomization test
  double p_value = 1.0;    // two-sided, in [0, 1]
};

// Two-sided paired randomisation (permutation) test: under H0 the sign of each difference b_i - a_i
// is exchangeable. p = fraction of sign assignments whose |mean difference| >= the observed one
// (exact enumeration), or (count + 1) / (trials + 1) for Monte Carlo (Phipson & Smyth, 2010).
// Throws ConfigError when the sizes differ or are 0.
PairedTestResult paired_randomization_test(const std::vector<double>& a,
                                           const std::vector<double>& b,
                                           const RandomizationOptions& options = {});

// Two-sided paired Student t-test on d_i = b_i - a_i with n - 1 degrees of freedom. When every
// difference is equal (zero variance) p is 1 if they are all 0 and 0 otherwise (t = +-inf).
// Throws ConfigError when the sizes differ or n < 2.
PairedTestResult paired_t_test(const std::vector<double>& a, const std::vector<double>& b);

// Regularized incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1]; relative accuracy
// about 1e-12. Throws ConfigError outside the domain.
double regularized_incomplete_beta(double a, double b, double x);

// Two-sided tail probability P(|T| >= |t|) of Student's t distribution with `df` > 0 degrees of
// freedom: I_{df/(df+t^2)}(df/2, 1/2).
double student_t_two_sided_p(double t, double df);

}  // namespace ksparse
