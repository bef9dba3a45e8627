#pragma once
// A field path as apimachinery's field.Path prints it: "spec.containers[0].image",
// "metadata.labels[app]". The default path is Go's nil path, printed "<nil>" (label selector
// parse errors carry it, and kubectl shows it).
#include <cstddef>
#include <string>
#include <string_view>

namespace berth::kubeapi {

class FieldPath {
 public:
  FieldPath() = default;  // the nil path
  explicit FieldPath(std::string_view root) : path_(root), nil_(false) {}

  FieldPath child(std::string_view name) const;
  FieldPath index(size_t i) const;
  FieldPath key(std::string_view k) const;

  bool isNil() const { return nil_; }
  std::string str() const { return nil_ ? "<nil>" : path_; }

 private:
  std::string path_;
  bool nil_ = true;
};

}  // namespace berth::kubeapi
