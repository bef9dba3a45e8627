#include "controlplane/schema/go_values.h"

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace berth::controlplane::schema {
namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool isBase64(char c) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return c != '\0' && kAlphabet.find(c) != std::string_view::npos;
}

std::string_view primitiveName(ValueKind kind) {
  switch (kind) {
    case ValueKind::kString:
      return "string";
    case ValueKind::kInt32:
      return "int32";
    case ValueKind::kInt64:
      return "int64";
    case ValueKind::kDouble:
      return "float64";
    case ValueKind::kBool:
      return "bool";
    default:
      return "";
  }
}

bool isNewline(char c) {
  return c == '\n' || c == '\r';
}

// One quantum of base64.Encoding.decodeQuantum (StdEncoding, padded): returns the next position,
// or sets `error` to the offset Go reports.
std::size_t decodeQuantum(std::string_view s, std::size_t si, std::optional<std::size_t>& error,
                          bool& done) {
  for (int j = 0; j < 4; ++j) {
    if (si == s.size()) {
      if (j == 0) {
        done = true;
        return si;
      }
      error = si - j;  // a short quantum without its padding
      return si;
    }
    char in = s[si++];
    if (isBase64(in)) continue;
    if (isNewline(in)) {
      --j;
      continue;
    }
    if (in != '=' || j < 2) {
      error = si - 1;
      return si;
    }
    if (j == 2) {  // "==" expected, one '=' read
      while (si < s.size() && isNewline(s[si]))
        ++si;
      if (si == s.size()) {
        error = s.size();
        return si;
      }
      if (s[si] != '=') {
        error = si - 1;
        return si;
      }
      ++si;
    }
    while (si < s.size() && isNewline(s[si]))
      ++si;
    if (si < s.size()) error = si;  // data after the padding
    done = true;
    return si;
  }
  return si;
}

constexpr std::string_view kQuantityFormat =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

bool validSuffix(std::string_view suffix) {
  static constexpr std::string_view kSuffixes[] = {"",  "n", "u",  "m",  "k",  "M",  "G",  "T",
                                                   "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (std::string_view s : kSuffixes)
    if (suffix == s) return true;
  if (suffix.size() > 1 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view exp = suffix.substr(1);
    if (exp[0] == '+' || exp[0] == '-') exp.remove_prefix(1);
    if (exp.empty() || exp.size() > 18) return false;
    for (char c : exp)
      if (!isDigit(c)) return false;
    return true;
  }
  return false;
}

// A layout element of time.Parse and the characters it takes.
struct TimeElement {
  std::string_view layout;
  int digits;  // > 0: exactly this many digits; 0: literal text; -1: a zone; -2: a fraction
};

constexpr std::string_view kRfc3339 = "2006-01-02T15:04:05Z07:00";
constexpr std::string_view kRfc3339Micro = "2006-01-02T15:04:05.000000Z07:00";

}  // namespace

std::optional<std::size_t> base64ErrorOffset(std::string_view s) {
  std::size_t si = 0;
  bool done = false;
  std::optional<std::size_t> error;
  while (!done && !error)
    si = decodeQuantum(s, si, error, done);
  return error;
}

std::optional<std::string> quantityError(std::string_view s) {
  // resource.parseQuantityString: sign, digits, an optional fraction, then a suffix of SI
  // letters or an exponent.
  if (s.empty()) return std::string(kQuantityFormat);
  if (s == "0") return std::nullopt;
  std::size_t pos = 0;
  if (s[0] == '-' || s[0] == '+') ++pos;
  while (pos < s.size() && s[pos] == '0')
    ++pos;
  if (pos == s.size()) return std::nullopt;
  std::size_t numStart = pos;
  while (pos < s.size() && isDigit(s[pos]))
    ++pos;
  bool digits = pos > numStart || (numStart > 0 && s[numStart - 1] == '0');
  if (pos < s.size() && s[pos] == '.') {
    std::size_t denomStart = ++pos;
    while (pos < s.size() && isDigit(s[pos]))
      ++pos;
    digits = digits || pos > denomStart;
  }
  std::string_view number = s.substr(0, pos);
  std::size_t suffixStart = pos;
  while (pos < s.size() && std::string_view("eEinumkKMGTP").find(s[pos]) != std::string_view::npos)
    ++pos;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) ++pos;
  while (pos < s.size() && isDigit(s[pos]))
    ++pos;
  if (pos < s.size()) return std::string(kQuantityFormat);
  if (!validSuffix(s.substr(suffixStart))) return std::string("unable to parse quantity's suffix");
  // inf.Dec.SetString wants at least one digit in the number.
  if (!digits && number.find('0') == std::string_view::npos)
    return std::string("unable to parse numeric part of quantity");
  return std::nullopt;
}

std::optional<std::string> timeError(std::string_view s, bool micro) {
  std::string_view layout = micro ? kRfc3339Micro : kRfc3339;
  static constexpr TimeElement kElements[] = {
      {"2006", 4}, {"-", 0},  {"01", 2}, {"-", 0},  {"02", 2},       {"T", 0},      {"15", 2},
      {":", 0},    {"04", 2}, {":", 0},  {"05", 2}, {".000000", -2}, {"Z07:00", -1}};
  auto cannot = [&](std::string_view rest, std::string_view elem) {
    return fmt::format("parsing time {} as {}: cannot parse {} as {}", goQuote(s), goQuote(layout),
                       goQuote(rest), goQuote(elem));
  };
  std::string_view rest = s;
  std::array<int, 6> values{};  // year month day hour minute second
  int valueIndex = 0;
  for (const TimeElement& e : kElements) {
    if (e.digits > 0) {
      std::size_t n = static_cast<std::size_t>(e.digits);
      if (rest.size() < n) return cannot(rest, e.layout);
      int v = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (!isDigit(rest[i])) return cannot(rest, e.layout);
        v = v * 10 + (rest[i] - '0');
      }
      values[valueIndex++] = v;
      rest.remove_prefix(n);
    } else if (e.digits == 0) {
      if (!rest.starts_with(e.layout)) return cannot(rest, e.layout);
      rest.remove_prefix(e.layout.size());
    } else if (e.digits == -2) {
      // RFC3339 takes any fraction after the seconds; RFC3339Micro wants exactly six digits.
      if (micro) {
        if (rest.size() < 7 || rest[0] != '.') return cannot(rest, e.layout);
        for (int i = 1; i <= 6; ++i)
          if (!isDigit(rest[i])) return cannot(rest, e.layout);
        rest.remove_prefix(7);
      } else if (!rest.empty() && rest[0] == '.' && rest.size() > 1 && isDigit(rest[1])) {
        rest.remove_prefix(1);
        while (!rest.empty() && isDigit(rest[0]))
          rest.remove_prefix(1);
      }
    } else {
      if (rest.starts_with("Z")) {
        rest.remove_prefix(1);
      } else if (rest.size() >= 6 && (rest[0] == '+' || rest[0] == '-') && isDigit(rest[1]) &&
                 isDigit(rest[2]) && rest[3] == ':' && isDigit(rest[4]) && isDigit(rest[5])) {
        rest.remove_prefix(6);
      } else {
        return cannot(rest, e.layout);
      }
    }
  }
  if (!rest.empty())
    return fmt::format("parsing time {}: extra text: {}", goQuote(s), goQuote(rest));
  auto range = [&](std::string_view what) {
    return fmt::format("parsing time {}: {} out of range", goQuote(s), what);
  };
  int year = values[0], month = values[1], day = values[2];
  if (month < 1 || month > 12) return range("month");
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int maxDay = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day < 1 || day > maxDay) return range("day");
  if (values[3] > 23) return range("hour");
  if (values[4] > 59) return range("minute");
  if (values[5] > 59) return range("second");
  return std::nullopt;
}

std::optional<TimePoint> parseTime(std::string_view s) {
  if (timeError(s, false)) return std::nullopt;
  auto t = kubeapi::parseTime(s);
  return t ? std::optional<TimePoint>(*t) : std::nullopt;
}

std::string humanDuration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  long long secs = duration_cast<seconds>(d).count();
  if (secs < -1) return "<invalid>";
  if (secs < 0) return "0s";
  if (secs < 60 * 2) return fmt::format("{}s", secs);
  long long mins = duration_cast<minutes>(d).count();
  if (mins < 10) {
    long long s = secs % 60;
    return s == 0 ? fmt::format("{}m", mins) : fmt::format("{}m{}s", mins, s);
  }
  if (mins < 60 * 3) return fmt::format("{}m", mins);
  long long hrs = duration_cast<hours>(d).count();
  if (hrs < 8) {
    long long m = mins % 60;
    return m == 0 ? fmt::format("{}h", hrs) : fmt::format("{}h{}m", hrs, m);
  }
  if (hrs < 48) return fmt::format("{}h", hrs);
  if (hrs < 24 * 8) {
    long long h = hrs % 24;
    return h == 0 ? fmt::format("{}d", hrs / 24) : fmt::format("{}d{}h", hrs / 24, h);
  }
  if (hrs < 24 * 365 * 2) return fmt::format("{}d", hrs / 24);
  if (hrs < 24 * 365 * 8) {
    long long dy = (hrs / 24) % 365;
    return dy == 0 ? fmt::format("{}y", hrs / 24 / 365) : fmt::format("{}y{}d", hrs / 24 / 365, dy);
  }
  return fmt::format("{}y", hrs / 24 / 365);
}

std::string goTypeName(const TypeRef& type) {
  switch (type.kind) {
    case ValueKind::kBytes:
      return "[]uint8";
    case ValueKind::kArray:
      return "[]" + goTypeName(*type.elem);
    case ValueKind::kMap:
      return "map[string]" + goTypeName(*type.elem);
    case ValueKind::kNamed:
      return fmt::format("{}.{}", type.def->goPackage(), type.def->shortName());
    default:
      return std::string(primitiveName(type.kind));
  }
}

std::string_view goKindName(const TypeRef& type) {
  switch (type.kind) {
    case ValueKind::kBytes:
    case ValueKind::kArray:
      return "slice";
    case ValueKind::kMap:
      return "map";
    case ValueKind::kNamed:
      return "struct";
    default:
      return primitiveName(type.kind);
  }
}

nlohmann::json goZeroValue(const TypeRef& type) {
  switch (type.kind) {
    case ValueKind::kString:
    case ValueKind::kBytes:
      return "";
    case ValueKind::kInt32:
    case ValueKind::kInt64:
    case ValueKind::kDouble:
      return 0;
    case ValueKind::kBool:
      return false;
    case ValueKind::kNamed:
      return type.def->isStruct() ? nlohmann::json::object() : nlohmann::json(nullptr);
    default:
      return nullptr;
  }
}

std::string goValueString(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "<nil>";
    case nlohmann::json::value_t::string:
      return value.get<std::string>();
    case nlohmann::json::value_t::object: {
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, v] : value.items()) {  // nlohmann keeps keys sorted, as fmt prints them
        if (!first) out += ' ';
        first = false;
        out += k + ":" + goValueString(v);
      }
      return out + "]";
    }
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out += ' ';
        out += goValueString(value[i]);
      }
      return out + "]";
    }
    default:
      return value.dump();
  }
}

}  // namespace berth::controlplane::schema
