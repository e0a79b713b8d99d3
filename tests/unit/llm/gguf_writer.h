// Writes small GGUF v3 files byte by byte, so that llm tests need no real model to exercise the
// file checks and the layout reader. Only what those tests need: u32/string/string-array keys and
// f32 tensors.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace ksparse::test {

class GgufWriter {
 public:
  void add_u32(const std::string& key, uint32_t v) {
    key_(key, 4);
    pod_(v);
    ++n_kv_;
  }
  void add_string(const std::string& key, const std::string& v) {
    key_(key, 8);
    str_(kv_, v);
    ++n_kv_;
  }
  void add_string_array(const std::string& key, const std::vector<std::string>& v) {
    key_(key, 9);
    pod_(uint32_t{8});
    pod_(static_cast<uint64_t>(v.size()));
    for (const auto& s : v) str_(kv_, s);
    ++n_kv_;
  }
  void add_u32_array(const std::string& key, const std::vector<uint32_t>& v) {
    key_(key, 9);
    pod_(uint32_t{4});
    pod_(static_cast<uint64_t>(v.size()));
    for (auto x : v) pod_(x);
    ++n_kv_;
  }
  // An f32 tensor of shape ne (innermost first), filled with `fill`.
  void add_f32_tensor(const std::string& name, std::vector<int64_t> ne, float fill = 0.5f) {
    tensors_.push_back({name, std::move(ne), fill});
  }

  std::string bytes() const {
    std::string out = "GGUF";
    app(out, uint32_t{3});
    app(out, static_cast<int64_t>(tensors_.size()));
    app(out, static_cast<int64_t>(n_kv_));
    out += kv_;
    uint64_t offset = 0;
    std::vector<uint64_t> sizes;
    for (const auto& t : tensors_) {
      str_(out, t.name);
      app(out, static_cast<uint32_t>(t.ne.size()));
      uint64_t n = 1;
      for (auto d : t.ne) {
        app(out, d);
        n *= static_cast<uint64_t>(d);
      }
      app(out, uint32_t{0});  // GGML_TYPE_F32
      app(out, offset);
      sizes.push_back(n * 4);
      offset += (n * 4 + 31) / 32 * 32;
    }
    out.resize((out.size() + 31) / 32 * 32, '\0');
    for (size_t i = 0; i < tensors_.size(); ++i) {
      for (uint64_t k = 0; k < sizes[i] / 4; ++k) app(out, tensors_[i].fill);
      out.resize((out.size() + 31) / 32 * 32, '\0');
    }
    return out;
  }

 private:
  struct Tensor {
    std::string name;
    std::vector<int64_t> ne;
    float fill;
  };
  template <typename T>
  static void app(std::string& out, T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out.append(buf, sizeof(T));
  }
  static void str_(std::string& out, const std::string& s) {
    app(out, static_cast<uint64_t>(s.size()));
    out += s;
  }
  template <typename T>
  void pod_(T v) {
    app(kv_, v);
  }
  void key_(const std::string& key, uint32_t type) {
    str_(kv_, key);
    pod_(type);
  }

  std::string kv_;
  int n_kv_ = 0;
  std::vector<Tensor> tensors_;
};

// A two-layer "llama" model: n_embd 64, 4 heads, 2 KV heads, 10-token vocabulary, tied output.
// Tensor bytes: token_embd 2560, blk.0 16384, blk.1 8192, output_norm 256.
inline GgufWriter tiny_gguf_writer() {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", "tiny test model");
  w.add_u32("llama.block_count", 2);
  w.add_u32("llama.context_length", 128);
  w.add_u32("llama.embedding_length", 64);
  w.add_u32("llama.feed_forward_length", 128);
  w.add_u32("llama.attention.head_count", 4);
  w.add_u32("llama.attention.head_count_kv", 2);
  w.add_string_array("tokenizer.ggml.tokens",
                     {"<unk>", "<s>", "</s>", "a", "b", "c", "d", "e", "f", "g"});
  w.add_f32_tensor("token_embd.weight", {64, 10});
  w.add_f32_tensor("blk.0.attn_q.weight", {64, 64});
  w.add_f32_tensor("blk.1.attn_q.weight", {64, 32});
  w.add_f32_tensor("output_norm.weight", {64});
  return w;
}

inline std::string tiny_gguf() { return tiny_gguf_writer().bytes(); }

}  // namespace ksparse::test
