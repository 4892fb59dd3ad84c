// How a notification's text field finds its row in a relation's target table. Pure C++.
//
// Notification columns are text; a target key may be text, an integer or a uuid. Comparing
// `key::text = source` is right but hides the key from its index, so each lookup would scan the
// target. Instead the source text is turned into the key's own type when it is the key's
// canonical text form (the only spelling `key::text` could equal), and the comparison is made in
// that type, which an index on the key serves. Any other text becomes NULL and matches nothing,
// exactly as the text comparison would. Keys of other types keep the text comparison (correct,
// not indexed).
#pragma once

#include <string>

#include "query/model.hpp"

namespace pgi::query {

// An SQL boolean: the row of r.target aliased `target` is the one the text expression `source`
// names. Every identifier comes from the relation as loaded (already quoted).
std::string relation_key_matches(const Relation &r, const std::string &target,
                                 const std::string &source);

}  // namespace pgi::query
