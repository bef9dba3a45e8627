#include "runtime/signals.h"

#include <signal.h>

#include <cctype>
#include <string_view>

namespace berth::runtime {

namespace {

struct SignalName {
  std::string_view name;
  int number;
};

constexpr SignalName kSignals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},       {"CHLD", SIGCHLD},
    {"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},       {"HUP", SIGHUP},
    {"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},         {"IOT", SIGIOT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},     {"PROF", SIGPROF},
    {"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},     {"STKFLT", SIGSTKFLT},
    {"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},     {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace

Result<int> parseSignal(const std::string& text) {
  auto unknown = [&] { return fail(Code::kInvalidArgument, "unknown signal \"{}\"", text); };
  if (allDigits(text)) {
    if (text.size() > 3) return unknown();
    int n = std::stoi(text);
    if (n < 0 || n > SIGRTMAX) return unknown();  // 0 probes, as kill(2)
    return n;
  }
  std::string_view name = text;
  if (name.substr(0, 3) == "SIG") name.remove_prefix(3);
  for (const auto& s : kSignals)
    if (s.name == name) return s.number;
  // RTMIN, RTMIN+n, RTMAX, RTMAX-n.
  for (auto [base, number, sign] : {std::tuple{std::string_view("RTMIN"), SIGRTMIN, 1},
                                    std::tuple{std::string_view("RTMAX"), SIGRTMAX, -1}}) {
    if (name.substr(0, base.size()) != base) continue;
    std::string_view rest = name.substr(base.size());
    if (rest.empty()) return number;
    if (rest[0] != (sign > 0 ? '+' : '-') || !allDigits(rest.substr(1))) return unknown();
    int off = std::stoi(std::string(rest.substr(1)));
    int sig = number + sign * off;
    if (sig < SIGRTMIN || sig > SIGRTMAX) return unknown();
    return sig;
  }
  return unknown();
}

}  // namespace berth::runtime
