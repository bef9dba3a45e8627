#include "shim/streaming/http_request.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace berth::shim {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// application/x-www-form-urlencoded decoding; a malformed escape stays as it is.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto hex = [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c))
                 ? (std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10)
                 : -1;
    };
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> HttpRequest::queryValues(std::string_view name) const {
  std::vector<std::string> out;
  std::string_view rest = query;
  while (!rest.empty()) {
    std::size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    std::size_t eq = pair.find('=');
    if (unescape(pair.substr(0, eq)) == name)
      out.push_back(eq == std::string_view::npos ? "" : unescape(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::string_view> HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::vector<std::string> HttpRequest::headerValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k != name) continue;
    std::string_view rest = v;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      if (!item.empty()) out.emplace_back(item);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

Result<HttpRequest> parseHttpRequest(std::string_view head) {
  HttpRequest r;
  std::size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return fail(Code::kInvalidArgument, "http: no request line");
  std::string_view line = head.substr(0, eol);
  std::size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1)
    return fail(Code::kInvalidArgument, "http: malformed request line \"{}\"", line);
  r.method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!isToken(r.method) || target.empty() || target[0] != '/' || version.rfind("HTTP/1.", 0) != 0)
    return fail(Code::kInvalidArgument, "http: malformed request line \"{}\"", line);
  std::size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string_view::npos) r.query = target.substr(q + 1);
  std::string_view rest = head.substr(eol + 2);
  while (true) {
    eol = rest.find("\r\n");
    if (eol == std::string_view::npos)
      return fail(Code::kInvalidArgument, "http: request head not terminated");
    std::string_view field = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    if (field.empty()) break;
    std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || !isToken(field.substr(0, colon)))
      return fail(Code::kInvalidArgument, "http: malformed header line \"{}\"", field);
    std::string name(field.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    r.headers.emplace_back(std::move(name), std::string(trim(field.substr(colon + 1))));
  }
  return r;
}

Result<HttpRequest> readHttpRequest(int fd, std::string& rest) {
  std::string buf;
  char chunk[4096];
  std::size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxRequestHead)
      return fail(Code::kInvalidArgument, "http: request head over {} bytes", kMaxRequestHead);
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failErrno("http: read request");
    if (n == 0) return fail(Code::kCancelled, "http: connection closed before the request head");
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  rest = buf.substr(end + 4);
  return parseHttpRequest(std::string_view(buf).substr(0, end + 4));
}

std::string httpResponse(int code, std::string_view reason,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::string_view body) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", code, reason);
  for (const auto& [k, v] : headers)
    out += fmt::format("{}: {}\r\n", k, v);
  if (code != 101) {
    out += fmt::format("Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
                       body.size());
  }
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace berth::shim
