// libtorch smoke test: the library links, reports its runtime, and computes correctly (a
// hand-differentiated two-layer MLP and a matmul against a naive triple loop).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "ksparse/encoder/torch_info.h"

namespace ksparse {
namespace {

TEST(TorchInfo, ReportsRuntime) {
  TorchInfo info = torch_info();
  EXPECT_EQ(info.version, std::string(TORCH_VERSION));
  EXPECT_GE(info.num_threads, 1);
  EXPECT_FALSE(info.build_config.empty());
  EXPECT_EQ(info.cuda_available, info.cuda_device_count > 0);
  std::string text = format_torch_info(info);
  EXPECT_NE(text.find(info.version), std::string::npos);
  EXPECT_NE(text.find("blas (loaded):"), std::string::npos);
#if defined(__linux__)
  // Linear algebra below needs a BLAS; on Linux we can see which one is mapped.
  at::matmul(torch::ones({4, 4}), torch::ones({4, 4}));
  EXPECT_FALSE(torch_info().blas_loaded.empty()) << text;
#endif
}

// y = w2 . relu(W1 x + b1) + b2, loss = (y - t)^2 / 2, with weights chosen so one hidden unit is
// inactive. Gradients worked out by hand:
//   h_pre = [-1, 1.5], h = [0, 1.5], y = 5, loss = 2, dL/dy = 2
//   dL/dw2 = 2 h = [0, 3]; dL/db2 = 2; dL/dh_pre = 2 w2 * relu'(h_pre) = [0, 6]
//   dL/dW1 = outer([0, 6], x) = [[0, 0], [6, 12]]; dL/db1 = [0, 6]; dL/dx = W1^T [0, 6] = [3, 3]
// OMP_WAIT_POLICY=PASSIVE is proposed for libtorch work only, never over the user's setting.
TEST(TorchInfo, PassiveOpenMpWaitOnlyWhenAskedAndUnset) {
  auto proposes_omp = [](bool passive) {
    for (const auto& [name, value] : cpu_runtime_env_fixes(passive)) {
      if (name == "OMP_WAIT_POLICY") return value == "PASSIVE";
    }
    return false;
  };
  const char* before = std::getenv("OMP_WAIT_POLICY");
  const std::string saved = before ? before : "";
  ::unsetenv("OMP_WAIT_POLICY");
  const bool openmp = at::globalContext().hasOpenMP();
  EXPECT_EQ(proposes_omp(true), openmp);
  EXPECT_FALSE(proposes_omp(false));
  ::setenv("OMP_WAIT_POLICY", "ACTIVE", 1);
  EXPECT_FALSE(proposes_omp(true));
  if (before) {
    ::setenv("OMP_WAIT_POLICY", saved.c_str(), 1);
  } else {
    ::unsetenv("OMP_WAIT_POLICY");
  }
}

TEST(TorchSmoke, MlpBackwardMatchesHandGradient) {
  torch::nn::Linear layer1(2, 2);
  torch::nn::Linear layer2(2, 1);
  {
    torch::NoGradGuard no_grad;
    layer1->weight.copy_(torch::tensor({{1.0f, -1.0f}, {0.5f, 0.5f}}));
    layer1->bias.zero_();
    layer2->weight.copy_(torch::tensor({{2.0f, 3.0f}}));
    layer2->bias.fill_(0.5f);
  }
  torch::Tensor x = torch::tensor({{1.0f, 2.0f}}).requires_grad_(true);
  torch::Tensor y = layer2->forward(torch::relu(layer1->forward(x)));
  torch::Tensor loss = 0.5f * (y - 3.0f).pow(2).sum();
  EXPECT_FLOAT_EQ(y.item<float>(), 5.0f);
  EXPECT_FLOAT_EQ(loss.item<float>(), 2.0f);
  loss.backward();

  auto expect_tensor = [](const torch::Tensor& got, const torch::Tensor& want, const char* what) {
    ASSERT_EQ(got.sizes(), want.sizes()) << what;
    EXPECT_TRUE(torch::allclose(got, want, 1e-6, 1e-6)) << what << ":\n"
                                                        << got << "\nwant\n"
                                                        << want;
  };
  expect_tensor(layer2->weight.grad(), torch::tensor({{0.0f, 3.0f}}), "dL/dw2");
  expect_tensor(layer2->bias.grad(), torch::tensor({2.0f}), "dL/db2");
  expect_tensor(layer1->weight.grad(), torch::tensor({{0.0f, 0.0f}, {6.0f, 12.0f}}), "dL/dW1");
  expect_tensor(layer1->bias.grad(), torch::tensor({0.0f, 6.0f}), "dL/db1");
  expect_tensor(x.grad(), torch::tensor({{3.0f, 3.0f}}), "dL/dx");

  // One SGD step moves each parameter by -lr * grad.
  torch::optim::SGD sgd(std::vector<torch::Tensor>{layer2->weight}, torch::optim::SGDOptions(0.1));
  sgd.step();
  expect_tensor(layer2->weight.detach(), torch::tensor({{2.0f, 2.7f}}), "w2 after step");
}

TEST(TorchSmoke, MatmulMatchesNaiveLoop) {
  torch::manual_seed(1234);
  const int64_t m = 37, k = 53, n = 29;  // odd sizes so no kernel sees only aligned tiles
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    torch::Tensor a = torch::randn({m, k}, torch::dtype(dtype));
    torch::Tensor b = torch::randn({k, n}, torch::dtype(dtype));
    torch::Tensor c = torch::matmul(a, b).to(torch::kFloat64).contiguous();
    torch::Tensor a64 = a.to(torch::kFloat64).contiguous();
    torch::Tensor b64 = b.to(torch::kFloat64).contiguous();
    const double* pa = a64.data_ptr<double>();
    const double* pb = b64.data_ptr<double>();
    const double* pc = c.data_ptr<double>();
    const double tol = dtype == torch::kFloat64 ? 1e-10 : 1e-4;
    double max_err = 0.0;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double ref = 0.0;
        for (int64_t p = 0; p < k; ++p) ref += pa[i * k + p] * pb[p * n + j];
        max_err = std::max(max_err, std::abs(ref - pc[i * n + j]));
      }
    }
    EXPECT_LT(max_err, tol) << "dtype " << dtype;
  }
}

}  // namespace
}  // namespace ksparse
