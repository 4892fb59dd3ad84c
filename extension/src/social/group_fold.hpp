// The groups a Mastodon v2 page begins (Notification.paginate_groups_by_max_id / _by_min_id).
// Pure C++.
//
// The page's scan reads the user's matching rows in id order, a chunk at a time, and feeds each
// row here in the order it met them, with the group key the page gives it. A group's
// representative is the first of its rows the scan meets; the page ends at the row that begins
// the limit-th group (the rows after it are not the page's). Each group keeps its first position
// and its oldest id among the rows fed up to the end: every row of the page's range passes
// through the fold, so that is the group's page_min_id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pgi::social {

class GroupFold {
 public:
  struct Group {
    std::string key;
    size_t first;    // the position (0-based, in the scan's order) of its representative
    int64_t oldest;  // its oldest id among the rows fed
  };

  explicit GroupFold(size_t limit) : limit_(limit) {}

  // Feeds the next row the scan met. Returns false once the page is complete: this row began the
  // limit-th group (it is fed) or an earlier one did (it is not).
  bool add(int64_t id, std::string_view key);
  bool complete() const { return complete_; }
  // The groups in the order they began.
  const std::vector<Group> &groups() const { return groups_; }

 private:
  size_t limit_;
  size_t read_ = 0;
  bool complete_ = false;
  std::vector<Group> groups_;
  std::unordered_map<std::string, size_t> index_;  // key -> its place in groups_
};

}  // namespace pgi::social
