#include "controlplane/auth/token_file.h"

#include "common/file_util.h"
#include "controlplane/server_log.h"

namespace berth::controlplane::auth {

namespace {

constexpr std::string_view kBareQuote = "bare \" in non-quoted-field";
constexpr std::string_view kQuote = "extraneous or missing \" in quoted-field";

// Input lines as encoding/csv's readLine returns them: "\r\n" becomes "\n", a last line without
// a newline keeps none.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  bool next(std::string& line) {
    if (at_ >= text_.size()) return false;
    auto end = text_.find('\n', at_);
    if (end == std::string_view::npos) {
      line = std::string(text_.substr(at_));
      at_ = text_.size();
      if (!line.empty() && line.back() == '\r') line.pop_back();
    } else {
      line = std::string(text_.substr(at_, end + 1 - at_));
      at_ = end + 1;
      if (line.size() >= 2 && line[line.size() - 2] == '\r') line.erase(line.size() - 2, 1);
    }
    ++number_;
    return true;
  }
  int number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
  int number_ = 0;
};

std::size_t newlineLength(std::string_view line) {
  return !line.empty() && line.back() == '\n' ? 1 : 0;
}

std::unexpected<Error> parseError(int startLine, int line, std::size_t column,
                                  std::string_view what) {
  if (startLine != line) {
    return fail(Code::kInvalidArgument, "record on line {}; parse error on line {}, column {}: {}",
                startLine, line, column, what);
  }
  return fail(Code::kInvalidArgument, "parse error on line {}, column {}: {}", line, column, what);
}

}  // namespace

Result<std::vector<std::vector<std::string>>> parseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> records;
  LineReader reader(text);
  std::string line;
  while (true) {
    bool got = false;
    while ((got = reader.next(line))) {
      if (line.size() != newlineLength(line)) break;  // blank lines are skipped
    }
    if (!got) return records;
    const int recordLine = reader.number();
    int lineNumber = recordLine;
    std::vector<std::string> record;
    std::string_view rest = line;
    std::size_t column = 1;
    while (true) {
      if (rest.empty() || rest.front() != '"') {
        auto comma = rest.find(',');
        std::string_view field = comma == std::string_view::npos
                                     ? rest.substr(0, rest.size() - newlineLength(rest))
                                     : rest.substr(0, comma);
        if (auto quote = field.find('"'); quote != std::string_view::npos) {
          return parseError(recordLine, lineNumber, column + quote, kBareQuote);
        }
        record.emplace_back(field);
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
        column += comma + 1;
        continue;
      }
      // A quoted field, which may run over several lines.
      std::string field;
      rest.remove_prefix(1);
      column += 1;
      bool fieldDone = false;
      bool recordDone = false;
      std::string continuation;
      while (!fieldDone) {
        auto quote = rest.find('"');
        if (quote != std::string_view::npos) {
          field.append(rest.substr(0, quote));
          rest.remove_prefix(quote + 1);
          column += quote + 1;
          if (!rest.empty() && rest.front() == '"') {
            field.push_back('"');
            rest.remove_prefix(1);
            column += 1;
          } else if (!rest.empty() && rest.front() == ',') {
            rest.remove_prefix(1);
            column += 1;
            fieldDone = true;
          } else if (rest.size() == newlineLength(rest)) {
            fieldDone = recordDone = true;
          } else {
            return parseError(recordLine, lineNumber, column - 1, kQuote);
          }
        } else if (!rest.empty()) {
          field.append(rest);
          column += rest.size();
          if (!reader.next(continuation)) {
            return parseError(recordLine, lineNumber, column, kQuote);
          }
          line = std::move(continuation);
          rest = line;
          ++lineNumber;
          column = 1;
        } else {
          return parseError(recordLine, lineNumber, column, kQuote);
        }
      }
      record.push_back(std::move(field));
      if (recordDone) break;
    }
    records.push_back(std::move(record));
  }
}

Result<std::shared_ptr<StaticTokenAuthenticator>> StaticTokenAuthenticator::fromFile(
    const std::filesystem::path& path) {
  auto text = readFile(path);
  if (!text) return std::unexpected(text.error());
  return fromCsv(*text, path.string());
}

Result<std::shared_ptr<StaticTokenAuthenticator>> StaticTokenAuthenticator::fromCsv(
    std::string_view text, std::string_view path) {
  auto records = BERTH_TRY_CTX(parseCsv(text), fmt::format("token file '{}'", path));
  auto authenticator = std::make_shared<StaticTokenAuthenticator>();
  int recordNumber = 0;
  for (auto& record : records) {
    if (record.size() < 3) {
      return fail(Code::kInvalidArgument,
                  "token file '{}' must have at least 3 columns (token, user name, user uid), "
                  "found {}",
                  path, record.size());
    }
    ++recordNumber;
    if (record[0].empty()) {
      serverLogger()->warn("empty token has been found in token file '{}', record number '{}'",
                           path, recordNumber);
      continue;
    }
    UserInfo user;
    user.name = record[1];
    user.uid = record[2];
    if (record.size() >= 4) {
      // strings.Split: "" gives one empty group, as upstream.
      std::string_view groups = record[3];
      for (std::size_t start = 0;;) {
        auto comma = groups.find(',', start);
        user.groups.emplace_back(groups.substr(start, comma - start));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    }
    if (authenticator->tokens_.contains(record[0])) {
      serverLogger()->warn("duplicate token has been found in token file '{}', record number '{}'",
                           path, recordNumber);
    }
    authenticator->tokens_[record[0]] = std::move(user);  // the last record wins, as upstream
  }
  return authenticator;
}

Result<std::optional<TokenAuthentication>> StaticTokenAuthenticator::authenticateToken(
    std::string_view token, std::span<const std::string>) const {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::optional<TokenAuthentication>();
  return std::optional<TokenAuthentication>(TokenAuthentication{it->second, {}});
}

}  // namespace berth::controlplane::auth
