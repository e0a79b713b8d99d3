#include "ksparse/eval/significance.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "ksparse/core/error.h"

namespace ksparse {
namespace {

TEST(IncompleteBeta, ClosedForms) {
  // I_x(a, 1) = x^a;  I_x(1, b) = 1 - (1 - x)^b;  I_x(1/2, 1/2) = (2 / pi) asin(sqrt(x)).
  EXPECT_NEAR(regularized_incomplete_beta(2.5, 1.0, 0.3), std::pow(0.3, 2.5), 1e-12);
  EXPECT_NEAR(regularized_incomplete_beta(1.0, 3.5, 0.2), 1.0 - std::pow(0.8, 3.5), 1e-12);
  for (double x : {0.01, 0.3, 0.5, 0.9, 0.999}) {
    EXPECT_NEAR(regularized_incomplete_beta(0.5, 0.5, x),
                2.0 / std::numbers::pi * std::asin(std::sqrt(x)), 1e-12)
        << x;
  }
  // Integer parameters: I_x(a, n - a + 1) = P(Binomial(n, x) >= a). n = 4, a = 2, x = 0.6:
  // 1 - 0.4^4 - 4 * 0.6 * 0.4^3 = 0.8208.
  EXPECT_NEAR(regularized_incomplete_beta(2.0, 3.0, 0.6), 0.8208, 1e-12);
  // n = 11, a = 5, x = 0.4: P(Bin(11, 0.4) >= 5) = 0.4672258048 exactly.
  EXPECT_NEAR(regularized_incomplete_beta(5.0, 7.0, 0.4), 0.4672258048, 1e-12);
  EXPECT_EQ(regularized_incomplete_beta(3.0, 2.0, 0.0), 0.0);
  EXPECT_EQ(regularized_incomplete_beta(3.0, 2.0, 1.0), 1.0);
}

TEST(IncompleteBeta, SymmetryAndReferenceValues) {
  for (double x : {0.05, 0.4, 0.45, 0.8}) {
    EXPECT_NEAR(regularized_incomplete_beta(50, 60, x) + regularized_incomplete_beta(60, 50, 1 - x),
                1.0, 1e-12);
  }
  // Reference values from mpmath.betainc(a, b, 0, x, regularized=True) at 30 digits.
  EXPECT_NEAR(regularized_incomplete_beta(0.3, 2.7, 0.05), 0.575894967571366100, 1e-12);
  EXPECT_NEAR(regularized_incomplete_beta(50, 60, 0.45), 0.464235291430603629, 1e-11);
}

TEST(IncompleteBeta, DomainErrors) {
  EXPECT_THROW(regularized_incomplete_beta(0.0, 1.0, 0.5), ConfigError);
  EXPECT_THROW(regularized_incomplete_beta(1.0, -1.0, 0.5), ConfigError);
  EXPECT_THROW(regularized_incomplete_beta(1.0, 1.0, 1.5), ConfigError);
  EXPECT_THROW(regularized_incomplete_beta(1.0, 1.0, std::nan("")), ConfigError);
}

TEST(StudentT, ClosedFormsAndTables) {
  // df = 1 (Cauchy): p = 1 - (2 / pi) atan|t|.  df = 2: p = 1 - |t| / sqrt(2 + t^2).
  for (double t : {0.0, 0.5, 1.0, -3.0, 12.0}) {
    EXPECT_NEAR(student_t_two_sided_p(t, 1), 1.0 - 2.0 / std::numbers::pi * std::atan(std::fabs(t)),
                1e-12)
        << t;
    EXPECT_NEAR(student_t_two_sided_p(t, 2), 1.0 - std::fabs(t) / std::sqrt(2.0 + t * t), 1e-12)
        << t;
  }
  // Table critical value: t_{0.975, 10} = 2.228138851986 gives p = 0.05.
  EXPECT_NEAR(student_t_two_sided_p(2.228138851986, 10), 0.05, 1e-9);
  // Large df tends to the normal: P(|Z| >= 1.959963984540054) = 0.05.
  EXPECT_NEAR(student_t_two_sided_p(1.959963984540054, 1e7), 0.05, 1e-6);
  EXPECT_EQ(student_t_two_sided_p(INFINITY, 5), 0.0);
  EXPECT_THROW(student_t_two_sided_p(1.0, 0.0), ConfigError);
}

TEST(PairedTTest, HandComputed) {
  // d = b - a = {1, 2, 2, 0, 2}: mean 1.4, sample variance 3.2 / 4 = 0.8, se = sqrt(0.8 / 5) = 0.4,
  // t = 3.5 on 4 df; p = I_{4/(4+12.25)}(2, 1/2) = 0.02489616346022 (scipy.stats.ttest_rel gives
  // the same; value here from mpmath).
  const std::vector<double> a = {1, 2, 3, 4, 5};
  const std::vector<double> b = {2, 4, 5, 4, 7};
  const PairedTestResult r = paired_t_test(a, b);
  EXPECT_EQ(r.n, 5U);
  EXPECT_DOUBLE_EQ(r.mean_a, 3.0);
  EXPECT_DOUBLE_EQ(r.mean_b, 4.4);
  EXPECT_NEAR(r.mean_diff, 1.4, 1e-12);
  EXPECT_NEAR(r.statistic, 3.5, 1e-12);
  EXPECT_NEAR(r.p_value, 0.0248961634602227550, 1e-12);
  // Swapping the runs flips the sign of t but not p.
  const PairedTestResult s = paired_t_test(b, a);
  EXPECT_NEAR(s.statistic, -3.5, 1e-12);
  EXPECT_NEAR(s.p_value, r.p_value, 1e-15);
}

TEST(PairedTTest, DegenerateCases) {
  EXPECT_EQ(paired_t_test({1, 2, 3}, {1, 2, 3}).p_value, 1.0);
  const PairedTestResult shifted = paired_t_test({0, 0, 0}, {1, 1, 1});
  EXPECT_EQ(shifted.p_value, 0.0);
  EXPECT_TRUE(std::isinf(shifted.statistic));
  EXPECT_THROW(paired_t_test({1}, {2}), ConfigError);
  EXPECT_THROW(paired_t_test({1, 2}, {2}), ConfigError);
}

TEST(Randomization, ExactEnumerationSmallN) {
  // d = {1, 2, 3}: only all-plus and all-minus reach |sum| = 6, so p = 2 / 8.
  const PairedTestResult r = paired_randomization_test({0, 0, 0}, {1, 2, 3});
  EXPECT_DOUBLE_EQ(r.p_value, 0.25);
  EXPECT_DOUBLE_EQ(r.statistic, 2.0);
  // d = {1, 1, 1, 1}: 2 of 16.
  EXPECT_DOUBLE_EQ(paired_randomization_test({0, 0, 0, 0}, {1, 1, 1, 1}).p_value, 0.125);
  // Identical runs: every assignment ties the observed 0.
  EXPECT_DOUBLE_EQ(paired_randomization_test({0.3, 0.5}, {0.3, 0.5}).p_value, 1.0);
  // d = {0.3, -0.1, 0.5, 0.2, -0.4, 0.1}, |sum| = 0.6: 34 of 64 assignments reach it (brute force
  // in Python). Float sums that equal 0.6 only up to rounding must count.
  const std::vector<double> a(6, 0.0);
  EXPECT_DOUBLE_EQ(paired_randomization_test(a, {0.3, -0.1, 0.5, 0.2, -0.4, 0.1}).p_value,
                   34.0 / 64.0);
}

TEST(Randomization, MonteCarloIsSeededAndApproximatesExact) {
  std::vector<double> a, b;
  for (int i = 0; i < 12; ++i) {
    a.push_back(0.1 * (i % 5));
    b.push_back(0.1 * (i % 5) + (i % 3 == 0 ? 0.3 : -0.05 * (i % 4)));
  }
  RandomizationOptions exact;
  exact.trials = 4096;  // = 2^12: enumerate
  RandomizationOptions mc;
  mc.trials = 4000;  // < 2^12: Monte Carlo
  mc.seed = 7;
  const double p_exact = paired_randomization_test(a, b, exact).p_value;
  const double p_mc = paired_randomization_test(a, b, mc).p_value;
  EXPECT_GT(p_exact, 0.0);
  EXPECT_LT(p_exact, 1.0);
  EXPECT_NEAR(p_mc, p_exact, 0.03);  // > 4 standard errors of a 4000-trial estimate
  EXPECT_EQ(paired_randomization_test(a, b, mc).p_value, p_mc);  // same seed, same p
  // All 40 differences equal: the observed sum is the extreme, so only the +1 correction remains.
  RandomizationOptions small;
  small.trials = 999;
  EXPECT_DOUBLE_EQ(
      paired_randomization_test(std::vector<double>(40, 0.0), std::vector<double>(40, 1.0), small)
          .p_value,
      1.0 / 1000.0);
}

TEST(Randomization, BadInput) {
  EXPECT_THROW(paired_randomization_test({}, {}), ConfigError);
  EXPECT_THROW(paired_randomization_test({1.0}, {1.0, 2.0}), ConfigError);
  RandomizationOptions zero;
  zero.trials = 0;
  EXPECT_THROW(paired_randomization_test({1.0}, {2.0}, zero), ConfigError);
}

TEST(PairedTestNames, ParseRoundTrip) {
  EXPECT_EQ(parse_paired_test("randomization"), PairedTest::kRandomization);
  EXPECT_EQ(parse_paired_test("ttest"), PairedTest::kTTest);
  EXPECT_EQ(paired_test_name(PairedTest::kTTest), "ttest");
  EXPECT_THROW(parse_paired_test("wilcoxon"), ConfigError);
}

}  // namespace
}  // namespace ksparse
