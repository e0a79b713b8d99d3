// Memory plan arithmetic on made-up layouts and devices (no model, no GPU needed).
#include "ksparse/llm/memory_plan.h"

#include <gtest/gtest.h>

#include <string>

#include "common/test_util.h"
#include "ksparse/core/error.h"
#include "unit/llm/gguf_writer.h"

namespace ksparse::llm {
namespace {

constexpr uint64_t kGiB = 1024ull * 1024 * 1024;
constexpr uint64_t kMiB = 1024ull * 1024;

// n_layer layers of 100 MiB, 2 KV heads of dim 64, vocab 32000, no sliding window.
GgufLayout synthetic(int n_layer = 4) {
  GgufLayout l;
  l.architecture = "llama";
  l.n_layer = n_layer;
  l.n_ctx_train = 8192;
  l.n_embd = 512;
  l.n_ff = 1024;
  l.n_head = 8;
  l.n_vocab = 32000;
  l.head_dim_k = 64;
  l.head_dim_v = 64;
  l.n_head_kv.assign(static_cast<size_t>(n_layer), 2);
  l.swa_layer.assign(static_cast<size_t>(n_layer), false);
  l.layer_bytes.assign(static_cast<size_t>(n_layer), 100 * kMiB);
  l.input_bytes = 50 * kMiB;
  l.output_bytes = 50 * kMiB;
  l.tensor_bytes = l.input_bytes + l.output_bytes + n_layer * 100 * kMiB;
  return l;
}

std::vector<GpuDevice> one_gpu(uint64_t free_bytes) {
  return {GpuDevice{"GPU0", "test GPU", free_bytes, free_bytes}};
}

TEST(MemoryPlan, KvMatchesFormulaSingleSequence) {
  const GgufLayout l = synthetic();
  ContextOptions c;
  c.n_ctx = 1000;  // rounded up to 1024
  const MemoryPlan p = plan_memory(l, c, 0, 0, {}, {});
  ASSERT_EQ(p.devices.size(), 1u);
  EXPECT_EQ(p.n_ctx, 1024u);
  // n_ctx x n_layer x (n_head_kv x head_dim) x 2 (K and V) x 2 bytes (f16)
  EXPECT_EQ(p.devices[0].kv_bytes, 1024ull * 4 * (2 * 64) * 2 * 2);
}

TEST(MemoryPlan, KvSplitsContextAcrossStreams) {
  const GgufLayout l = synthetic();
  ContextOptions c;
  c.n_ctx = 1000;
  c.n_parallel = 3;
  const MemoryPlan p = plan_memory(l, c, 0, 0, {}, {});
  // 1024 / 3 = 341 cells per sequence, rounded up to 512; 3 streams of 512.
  EXPECT_EQ(p.n_ctx_seq, 512u);
  EXPECT_EQ(p.n_stream, 3u);
  EXPECT_EQ(p.kv_cells, 1536u);
  EXPECT_EQ(p.devices[0].kv_bytes, 1536ull * 4 * 128 * 2 * 2);
  c.kv_unified = true;
  const MemoryPlan u = plan_memory(l, c, 0, 0, {}, {});
  EXPECT_EQ(u.n_stream, 1u);
  EXPECT_EQ(u.kv_cells, 1024u);
}

TEST(MemoryPlan, Q8KvIs34BytesPer32Values) {
  const GgufLayout l = synthetic();
  ContextOptions c;
  c.n_ctx = 2048;
  c.kv_type = KvType::kQ8_0;
  const MemoryPlan p = plan_memory(l, c, 0, 0, {}, {});
  EXPECT_EQ(p.devices[0].kv_bytes, 2048ull * 4 * 128 * 2 / 32 * 34);
  EXPECT_EQ(kv_type_bytes(KvType::kF32, 10), 40u);
}

TEST(MemoryPlan, SlidingWindowLayersGetWindowSizedCaches) {
  GgufLayout l = synthetic(6);
  l.n_swa = 512;
  for (int i = 0; i < 6; ++i) l.swa_layer[i] = i != 5;  // 5 sliding-window layers, 1 full
  ContextOptions c;
  c.n_ctx = 8192;
  c.n_parallel = 8;
  c.n_ubatch = 256;
  const MemoryPlan p = plan_memory(l, c, 0, 0, {}, {});
  // per stream: full 8192/8 = 1024 cells; window min(1024, 512 + 256) = 768 cells
  EXPECT_EQ(p.kv_cells, 8192u);
  EXPECT_EQ(p.kv_cells_swa, 8u * 768);
  const uint64_t per_cell_layer = 2 * 64 * 2 * 2;
  EXPECT_EQ(p.devices[0].kv_bytes, (8192ull * 1 + 8ull * 768 * 5) * per_cell_layer);
  c.swa_full = true;
  EXPECT_EQ(plan_memory(l, c, 0, 0, {}, {}).devices[0].kv_bytes, 8192ull * 6 * per_cell_layer);
}

TEST(MemoryPlan, AutoWithoutGpuIsZeroLayers) {
  const MemoryPlan p = plan_memory(synthetic(), ContextOptions{}, kGpuLayersAuto, 0, {}, {});
  EXPECT_EQ(p.n_gpu_layers, 0);
  EXPECT_NE(p.note.find("auto -> 0"), std::string::npos) << p.note;
  ASSERT_EQ(p.devices.size(), 1u);
  EXPECT_EQ(p.devices[0].n_layers, 4);
  EXPECT_TRUE(p.devices[0].output_layer);
  EXPECT_EQ(p.devices[0].total(), p.total());
}

TEST(MemoryPlan, AutoPicksTheLargestLayerCountThatFits) {
  const GgufLayout l = synthetic();
  ContextOptions c;
  c.n_ctx = 4096;
  // Everything fits a huge GPU: all 4 layers + the output layer.
  MemoryPlan p = plan_memory(l, c, kGpuLayersAuto, 0, one_gpu(100 * kGiB), {});
  EXPECT_EQ(p.n_gpu_layers, 5);
  ASSERT_EQ(p.devices.size(), 2u);
  EXPECT_EQ(p.devices[1].n_layers, 4);
  EXPECT_EQ(p.devices[0].n_layers, 0);
  const uint64_t all = p.devices[1].total();
  // A budget just under "everything" drops exactly one layer, and what is chosen fits.
  MemoryBudget b;
  b.gpu_bytes = all - 1;
  p = plan_memory(l, c, kGpuLayersAuto, 0, one_gpu(100 * kGiB), b);
  EXPECT_EQ(p.n_gpu_layers, 4);
  EXPECT_LE(p.devices[1].total(), b.gpu_bytes);
  EXPECT_EQ(p.devices[0].n_layers, 1);
  // The device's free memory is the budget when none is given.
  p = plan_memory(l, c, kGpuLayersAuto, 0, one_gpu(all - 1), {});
  EXPECT_EQ(p.n_gpu_layers, 4);
}

TEST(MemoryPlan, ImpossibleBudgetIsRefusedWithNumbersAndAdvice) {
  const GgufLayout l = synthetic();
  ContextOptions c;
  c.n_ctx = 4096;
  MemoryBudget b;
  b.gpu_bytes = 32 * kMiB;  // less than one layer
  try {
    plan_memory(l, c, 5, 0, one_gpu(100 * kGiB), b);
    FAIL() << "expected a refusal";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("32.00 MiB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("GPU0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--kv-type q8_0"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--ctx"), std::string::npos) << msg;
  }
  // Auto with the same budget does not refuse: it keeps everything on the CPU.
  EXPECT_EQ(plan_memory(l, c, kGpuLayersAuto, 0, one_gpu(100 * kGiB), b).n_gpu_layers, 0);
  // A host budget below the CPU part is refused too.
  MemoryBudget h;
  h.host_bytes = 10 * kMiB;
  EXPECT_THROW(plan_memory(l, c, 0, 0, {}, h), ModelError);
}

TEST(MemoryPlan, BadSettingsAreConfigErrors) {
  const GgufLayout l = synthetic();
  EXPECT_THROW(plan_memory(l, ContextOptions{}, 0, 3, one_gpu(kGiB), {}), ConfigError);
  ContextOptions c;
  c.n_parallel = 0;
  EXPECT_THROW(plan_memory(l, c, 0, 0, {}, {}), ConfigError);
  EXPECT_THROW(parse_kv_type("q4"), ConfigError);
  EXPECT_EQ(parse_kv_type("q8_0"), KvType::kQ8_0);
  EXPECT_THROW(parse_flash_attn("yes"), ConfigError);
  EXPECT_EQ(parse_flash_attn("off"), FlashAttn::kOff);
  EXPECT_STREQ(flash_attn_name(parse_flash_attn("auto")), "auto");
  c = ContextOptions{};
  c.kv_type = KvType::kQ8_0;
  c.flash_attn = FlashAttn::kOff;  // a quantised V cache needs flash attention
  EXPECT_THROW(c.validate(), ConfigError);
  c.flash_attn = FlashAttn::kAuto;
  EXPECT_NO_THROW(c.validate());
  c.batch_invariant = true;  // ... which sums in a batch-dependent order
  EXPECT_THROW(c.validate(), ConfigError);
  c.kv_type = KvType::kF16;
  EXPECT_NO_THROW(c.validate());
  c.flash_attn = FlashAttn::kOn;
  EXPECT_THROW(c.validate(), ConfigError);
}

// Auto flash attention: on (llama.cpp's choice) except on the CPU with batch-invariant kernels, on
// with GPU layers either way, forced on by a q8_0 cache; without it the plan adds the f32 KQ scores
// and their softmax per layer step.
TEST(MemoryPlan, FlashAttentionAutoResolvesAndSizesTheKqScores) {
  const GgufLayout l = synthetic();
  ContextOptions c;
  c.n_ctx = 4096;
  c.n_ubatch = 512;
  EXPECT_TRUE(plan_memory(l, c, 0, 0, {}, {}).flash_attn);
  c.batch_invariant = true;
  const MemoryPlan cpu_auto = plan_memory(l, c, 0, 0, {}, {});
  EXPECT_FALSE(cpu_auto.flash_attn);
  EXPECT_TRUE(plan_memory(l, c, 5, 0, one_gpu(100 * kGiB), {}).flash_attn);
  c.batch_invariant = false;
  c.flash_attn = FlashAttn::kOn;
  const MemoryPlan cpu_on = plan_memory(l, c, 0, 0, {}, {});
  EXPECT_TRUE(cpu_on.flash_attn);
  EXPECT_EQ(cpu_auto.devices[0].compute_bytes - cpu_on.devices[0].compute_bytes,
            2ull * 4 * 512 * 8 * 4096);
  c.flash_attn = FlashAttn::kAuto;
  c.kv_type = KvType::kQ8_0;
  EXPECT_TRUE(plan_memory(l, c, 0, 0, {}, {}).flash_attn);
}

TEST(ByteSize, ParsesBinaryAndDecimalUnits) {
  EXPECT_EQ(parse_byte_size("12GiB"), 12 * kGiB);
  EXPECT_EQ(parse_byte_size("512 MiB"), 512 * kMiB);
  EXPECT_EQ(parse_byte_size("3GB"), 3000000000ull);
  EXPECT_EQ(parse_byte_size("1.5G"), 3 * kGiB / 2);
  EXPECT_EQ(parse_byte_size("4096"), 4096u);
  EXPECT_THROW(parse_byte_size("lots"), ConfigError);
  EXPECT_THROW(parse_byte_size("12XB"), ConfigError);
  EXPECT_EQ(format_bytes(1536), "1.50 KiB");
}

TEST(GgufLayout, ReadsTensorBytesPerLayerFromTheFile) {
  test::TempDir dir;
  const auto path = test::write_file(dir / "tiny.gguf", test::tiny_gguf());
  const GgufLayout l = read_gguf_layout(path);
  EXPECT_EQ(l.architecture, "llama");
  EXPECT_EQ(l.n_layer, 2);
  EXPECT_EQ(l.n_ctx_train, 128);
  EXPECT_EQ(l.n_vocab, 10);
  EXPECT_EQ(l.head_dim_k, 16);  // 64 / 4 heads
  ASSERT_EQ(l.n_head_kv.size(), 2u);
  EXPECT_EQ(l.n_head_kv[1], 2);
  ASSERT_EQ(l.layer_bytes.size(), 2u);
  EXPECT_EQ(l.layer_bytes[0], 64u * 64 * 4);
  EXPECT_EQ(l.layer_bytes[1], 64u * 32 * 4);
  EXPECT_EQ(l.input_bytes, 64u * 10 * 4);
  // No output.weight: the tied embedding counts as the output matrix.
  EXPECT_EQ(l.output_bytes, 64u * 4 + 64u * 10 * 4);
  EXPECT_EQ(l.output_tied_bytes, 64u * 10 * 4);
  EXPECT_EQ(l.tensor_bytes, (64u * 10 + 64 * 64 + 64 * 32 + 64) * 4);
  EXPECT_FALSE(l.swa_layer[0]);
}

TEST(GgufLayout, SlidingWindowPatternFromMetadata) {
  test::TempDir dir;
  auto w = test::tiny_gguf_writer();
  w.add_u32("llama.attention.sliding_window", 256);
  w.add_u32("llama.attention.sliding_window_pattern", 2);  // layer 0 SWA, layer 1 full
  const GgufLayout l = read_gguf_layout(test::write_file(dir / "swa.gguf", w.bytes()));
  EXPECT_EQ(l.n_swa, 256);
  EXPECT_TRUE(l.swa_layer[0]);
  EXPECT_FALSE(l.swa_layer[1]);
}

}  // namespace
}  // namespace ksparse::llm
