#include "kubeapi/field_path.h"

namespace berth::kubeapi {

FieldPath FieldPath::child(std::string_view name) const {
  if (nil_) return FieldPath(name);
  FieldPath p(path_);
  // A child of a root with an empty name has no leading dot, as Path.String builds it.
  if (!path_.empty()) p.path_ += '.';
  p.path_ += name;
  return p;
}

FieldPath FieldPath::index(size_t i) const {
  FieldPath p(nil_ ? std::string_view() : std::string_view(path_));
  p.path_ += "[" + std::to_string(i) + "]";
  return p;
}

FieldPath FieldPath::key(std::string_view k) const {
  FieldPath p(nil_ ? std::string_view() : std::string_view(path_));
  p.path_ += "[";
  p.path_ += k;
  p.path_ += "]";
  return p;
}

}  // namespace berth::kubeapi
