#include "controlplane/schema/field_set.h"

#include <fmt/format.h>

namespace berth::controlplane::schema {
namespace {

using nlohmann::json;

bool validElement(const std::string& e) {
  if (e.size() < 2 || e[1] != ':') return false;
  std::string_view rest = std::string_view(e).substr(2);
  switch (e[0]) {
    case 'f':
      return true;
    case 'k': {
      json key = json::parse(rest, nullptr, false);
      return key.is_object() && !key.empty();
    }
    case 'v':
      return !json::parse(rest, nullptr, false).is_discarded();
    case 'i':
      return !rest.empty() && rest.find_first_not_of("0123456789") == std::string_view::npos;
    default:
      return false;
  }
}

// A key or set value as Go's value.ToString prints it: strings quoted, the rest as JSON.
std::string valueString(const json& v) {
  return v.dump();
}

}  // namespace

Result<FieldSet> FieldSet::fromFieldsV1(const json& fields) {
  if (!fields.is_object())
    return std::unexpected(Error(Code::kInvalidArgument, "expected an object"));
  FieldSet out;
  for (const auto& [element, sub] : fields.items()) {
    if (element == ".") continue;  // the parent's own membership, read by the parent
    if (!validElement(element)) {
      return std::unexpected(Error(Code::kInvalidArgument,
                                   fmt::format("invalid path element {}", json(element).dump())));
    }
    auto child = fromFieldsV1(sub);
    if (!child) return std::unexpected(std::move(child).error().context(element));
    child->member_ = child->empty() || sub.contains(".");
    out.children_[element] = std::move(*child);
  }
  return out;
}

json FieldSet::toFieldsV1() const {
  json out = json::object();
  for (const auto& [element, sub] : children_) {
    json encoded = sub.toFieldsV1();
    if (sub.member_ && !encoded.empty()) encoded["."] = json::object();
    out[element] = std::move(encoded);
  }
  return out;
}

void FieldSet::insert(const FieldPath& path) {
  FieldSet* node = this;
  for (const std::string& e : path)
    node = &node->children_[e];
  if (node != this) node->member_ = true;
}

bool FieldSet::has(const FieldPath& path) const {
  const FieldSet* node = this;
  for (const std::string& e : path) {
    node = node->child(e);
    if (!node) return false;
  }
  return node != this && node->member_;
}

const FieldSet* FieldSet::child(const std::string& element) const {
  auto it = children_.find(element);
  return it == children_.end() ? nullptr : &it->second;
}

bool FieldSet::hasMember(const std::string& element) const {
  const FieldSet* c = child(element);
  return c && c->member_;
}

void FieldSet::prune() {
  for (auto it = children_.begin(); it != children_.end();) {
    it->second.prune();
    it = !it->second.member_ && it->second.children_.empty() ? children_.erase(it) : std::next(it);
  }
}

FieldSet FieldSet::unite(const FieldSet& other) const {
  FieldSet out = *this;
  for (const auto& [e, sub] : other.children_) {
    FieldSet& mine = out.children_[e];
    bool member = mine.member_ || sub.member_;
    mine = mine.unite(sub);
    mine.member_ = member;
  }
  return out;
}

FieldSet FieldSet::minus(const FieldSet& other) const {
  FieldSet out = *this;
  for (auto& [e, mine] : out.children_) {
    const FieldSet* theirs = other.child(e);
    if (!theirs) continue;
    bool member = mine.member_ && !theirs->member_;
    mine = mine.minus(*theirs);
    mine.member_ = member;
  }
  out.prune();
  return out;
}

FieldSet FieldSet::intersect(const FieldSet& other) const {
  FieldSet out;
  for (const auto& [e, mine] : children_) {
    const FieldSet* theirs = other.child(e);
    if (!theirs) continue;
    FieldSet both = mine.intersect(*theirs);
    both.member_ = mine.member_ && theirs->member_;
    out.children_[e] = std::move(both);
  }
  out.prune();
  return out;
}

FieldSet FieldSet::withoutSubtree(const FieldPath& prefix) const {
  FieldSet out = *this;
  FieldSet* node = &out;
  for (std::size_t i = 0; i + 1 < prefix.size(); ++i) {
    auto it = node->children_.find(prefix[i]);
    if (it == node->children_.end()) return out;
    node = &it->second;
  }
  if (!prefix.empty()) node->children_.erase(prefix.back());
  out.prune();
  return out;
}

FieldSet FieldSet::onlySubtree(const FieldPath& prefix) const {
  const FieldSet* node = this;
  for (const std::string& e : prefix) {
    node = node->child(e);
    if (!node) return {};
  }
  FieldSet out = *node;
  for (auto e = prefix.rbegin(); e != prefix.rend(); ++e) {
    FieldSet parent;
    parent.children_[*e] = std::move(out);
    out = std::move(parent);
  }
  return out;
}

void FieldSet::walk(FieldPath& prefix, const std::function<void(const FieldPath&)>& visit) const {
  for (const auto& [e, sub] : children_) {
    prefix.push_back(e);
    if (sub.member_) visit(prefix);
    sub.walk(prefix, visit);
    prefix.pop_back();
  }
}

void FieldSet::forEach(const std::function<void(const FieldPath&)>& visit) const {
  FieldPath prefix;
  walk(prefix, visit);
}

std::string fieldPathString(const FieldPath& path) {
  std::string out;
  for (const std::string& e : path) {
    std::string_view rest = std::string_view(e).substr(2);
    switch (e[0]) {
      case 'f':
        out += "." + std::string(rest);
        break;
      case 'k': {
        std::string fields;
        json key = json::parse(rest);
        for (const auto& [name, value] : key.items())
          fields += (fields.empty() ? "" : ",") + name + "=" + valueString(value);
        out += "[" + fields + "]";
        break;
      }
      case 'v':
        out += "[=" + valueString(json::parse(rest)) + "]";
        break;
      default:
        out += "[" + std::string(rest) + "]";
    }
  }
  return out;
}

}  // namespace berth::controlplane::schema
