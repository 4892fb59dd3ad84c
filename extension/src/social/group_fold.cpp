#include "social/group_fold.hpp"

#include <algorithm>

namespace pgi::social {

bool GroupFold::add(int64_t id, std::string_view key) {
  if (complete_)
    return false;
  size_t at = read_++;
  auto found = index_.find(std::string(key));
  if (found != index_.end()) {
    Group &g = groups_[found->second];
    g.oldest = std::min(g.oldest, id);
    return true;
  }
  index_.emplace(std::string(key), groups_.size());
  groups_.push_back(Group{std::string(key), at, id});
  complete_ = groups_.size() >= limit_;
  return !complete_;
}

}  // namespace pgi::social
