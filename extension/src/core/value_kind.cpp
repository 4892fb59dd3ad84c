#include "core/value_kind.hpp"

namespace pgi {

const char *value_kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kString:
      return "string";
    case ValueKind::kTimestamp:
      return "timestamp";
    case ValueKind::kFlag:
      return "flag";
    case ValueKind::kBoolean:
      return "boolean";
    case ValueKind::kNumber:
      return "number";
    case ValueKind::kPublicId:
      return "id";
    case ValueKind::kJson:
      return "json";
    case ValueKind::kOther:
      return "other";
  }
  return "other";
}

}  // namespace pgi
