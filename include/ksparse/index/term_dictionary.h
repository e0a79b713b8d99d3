// TermDictionary: a growable string <-> term id mapping, ids dense from 0 in insertion order.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ksparse/index/sparse_vector.h"

namespace ksparse {

// Not thread-safe for writes; concurrent const lookups are fine.
class TermDictionary {
 public:
  // Id of `term`, adding it with the next id when new.
  TermId add(std::string_view term);
  // Id of `term`, or nullopt when unknown.
  std::optional<TermId> find(std::string_view term) const;
  // The term with id `id`; throws std::out_of_range for an unknown id.
  const std::string& term(TermId id) const;
  std::size_t size() const { return terms_.size(); }
  const std::vector<std::string>& terms() const { return terms_; }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, TermId, Hash, std::equal_to<>> ids_;
  std::vector<std::string> terms_;
};

}  // namespace ksparse
