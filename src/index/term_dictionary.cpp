#include "ksparse/index/term_dictionary.h"

#include <limits>
#include <stdexcept>

#include "ksparse/core/error.h"

namespace ksparse {

TermId TermDictionary::add(std::string_view term) {
  if (auto it = ids_.find(term); it != ids_.end()) return it->second;
  if (terms_.size() >= std::numeric_limits<TermId>::max()) {
    throw DataError("term dictionary: more than 2^32-1 distinct terms");
  }
  auto id = static_cast<TermId>(terms_.size());
  terms_.emplace_back(term);
  ids_.emplace(terms_.back(), id);
  return id;
}

std::optional<TermId> TermDictionary::find(std::string_view term) const {
  if (auto it = ids_.find(term); it != ids_.end()) return it->second;
  return std::nullopt;
}

const std::string& TermDictionary::term(TermId id) const {
  if (id >= terms_.size()) {
    throw std::out_of_range("term dictionary: unknown term id " + std::to_string(id));
  }
  return terms_[id];
}

}  // namespace ksparse
