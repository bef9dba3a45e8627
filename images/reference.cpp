#include "images/reference.h"

#include <regex>

#include "ocispec/image_spec.h"

namespace berth::images {
namespace {

// distribution/reference/regexp.go, anchored.
const std::regex& pathComponentRe() {
  static const std::regex re("^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$");
  return re;
}
const std::regex& tagRe() {
  static const std::regex re("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$");
  return re;
}
const std::regex& domainRe() {
  static const std::regex re(
      "^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
      "(?:\\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
      "|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$");
  return re;
}
const std::regex& hexIdRe() {
  static const std::regex re("^[a-f0-9]{64}$");
  return re;
}

constexpr size_t kNameTotalLengthMax = 255;
constexpr size_t kReferenceLengthMax = 1024;

bool hasUpper(std::string_view s) {
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') return true;
  }
  return false;
}

}  // namespace

Result<Reference> Reference::parse(std::string_view text) {
  auto bad = [&](std::string_view what) {
    return fail(Code::kInvalidArgument, "invalid reference \"{}\": {}", text, what);
  };
  if (text.empty()) return bad("empty");
  // Name (255) + tag (128) + digest: anything far longer is not a reference, and libstdc++'s
  // recursive std::regex must not see unbounded input.
  if (text.size() > kReferenceLengthMax) {
    return fail(Code::kInvalidArgument, "invalid reference: longer than {} characters",
                kReferenceLengthMax);
  }
  std::string s(text);
  if (std::regex_match(s, hexIdRe())) {
    return bad("cannot specify 64-byte hexadecimal strings as a repository name");
  }
  Reference ref;
  std::string rest = s;
  if (auto at = rest.find('@'); at != std::string::npos) {
    ref.digest_ = rest.substr(at + 1);
    rest.resize(at);
    if (auto st = ocispec::validateDigest(*ref.digest_); !st) return bad(st.error().message());
  }
  auto lastSlash = rest.rfind('/');
  auto lastColon = rest.rfind(':');
  if (lastColon != std::string::npos && (lastSlash == std::string::npos || lastColon > lastSlash)) {
    ref.tag_ = rest.substr(lastColon + 1);
    rest.resize(lastColon);
    if (!std::regex_match(*ref.tag_, tagRe())) {
      return bad(fmt::format("invalid tag \"{}\"", *ref.tag_));
    }
  }
  if (rest.empty()) return bad("missing repository name");

  // splitDockerDomain: the first component is a registry host only when it looks like one.
  std::string remainder;
  auto slash = rest.find('/');
  if (slash == std::string::npos) {
    ref.domain_ = kDefaultDomain;
    remainder = rest;
  } else {
    std::string first = rest.substr(0, slash);
    bool looksLikeHost =
        first.find_first_of(".:") != std::string::npos || first == "localhost" || hasUpper(first);
    if (looksLikeHost) {
      ref.domain_ = first;
      remainder = rest.substr(slash + 1);
    } else {
      ref.domain_ = kDefaultDomain;
      remainder = rest;
    }
  }
  if (ref.domain_ == "index.docker.io") ref.domain_ = kDefaultDomain;
  if (!std::regex_match(ref.domain_, domainRe())) {
    return bad(fmt::format("invalid registry host \"{}\"", ref.domain_));
  }
  if (ref.domain_ == kDefaultDomain && remainder.find('/') == std::string::npos) {
    remainder = "library/" + remainder;
  }
  if (hasUpper(remainder)) return bad("repository name must be lowercase");
  if (remainder.empty()) return bad("missing repository name");
  size_t start = 0;
  while (true) {
    auto end = remainder.find('/', start);
    std::string component =
        remainder.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (component.empty()) return bad("empty path component");
    if (!std::regex_match(component, pathComponentRe())) {
      return bad(fmt::format("invalid path component \"{}\"", component));
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  ref.path_ = std::move(remainder);
  if (ref.name().size() > kNameTotalLengthMax) {
    return bad(
        fmt::format("repository name must not be more than {} characters", kNameTotalLengthMax));
  }
  if (!ref.tag_ && !ref.digest_) ref.tag_ = std::string(kDefaultTag);
  return ref;
}

std::string Reference::string() const {
  std::string out = name();
  if (tag_) out += ":" + *tag_;
  if (digest_) out += "@" + *digest_;
  return out;
}

}  // namespace berth::images
