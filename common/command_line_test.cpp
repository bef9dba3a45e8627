#include "common/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace berth {
namespace {

struct Case {
  std::vector<std::string> args;
  std::optional<int> exit;  // nullopt: parsed, the command runs
  std::string err;          // a part of stderr ("" when nothing is checked)
  bool printsHelp = false;  // the app's help on stdout
};

// Runs parseCommandLine over `args` with stdout and stderr captured.
struct Outcome {
  std::optional<int> exit;
  std::string out, err;
  bool ran = false;
};

Outcome parse(CLI::App& app, bool& ran, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  std::vector<std::string> copy = args;
  for (auto& a : copy)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  Outcome o;
  o.exit = parseCommandLine(app, static_cast<int>(copy.size()), argv.data());
  o.out = ::testing::internal::GetCapturedStdout();
  o.err = ::testing::internal::GetCapturedStderr();
  o.ran = ran;
  return o;
}

// `helpText`: a line of the app's help, to tell whether it was printed.
void expectOutcome(const Case& c, const Outcome& o, const std::string& helpText) {
  std::string what = ::testing::PrintToString(c.args);
  EXPECT_EQ(o.exit, c.exit) << what << "\nstderr: " << o.err;
  EXPECT_EQ(o.ran, !c.exit.has_value()) << what;
  EXPECT_TRUE(c.err.empty() || o.err.find(c.err) != std::string::npos) << what << ": " << o.err;
  EXPECT_EQ(o.out.find(helpText) != std::string::npos, c.printsHelp) << what << ": " << o.out;
}

// A tool with commands, like berth-runtime: `state <id>`, `exec` (passes its words on), and a
// nested `image ls`.
TEST(ParseCommandLine, CommandsLikeRunc) {
  const std::vector<Case> cases = {
      {{"tool", "state", "c1"}, std::nullopt, ""},
      {{"tool", "--help"}, 0, "", true},
      {{"tool", "state", "--help"}, 0, "", true},
      {{"tool", "exec", "c1", "sh", "-c", "true"}, std::nullopt, ""},
      {{"tool", "foo"}, 1, "No help topic for 'foo'"},
      {{"tool", "foo", "-h"}, 1, "No help topic for 'foo'"},
      {{"tool", "foo", "--help"}, 1, "No help topic for 'foo'"},
      {{"tool", "--help", "foo"}, 1, "No help topic for 'foo'"},
      {{"tool", "image", "foo", "--help"}, 1, "No help topic for 'foo'"},
      {{"tool", "image", "ls"}, std::nullopt, ""},
      // Usage errors exit 1 (CLI11's own codes are 100+), with CLI11's message.
      {{"tool", "state"}, 1, "container-id is required"},
      {{"tool", "state", "c1", "extra"}, 1, "not expected: extra"},
      {{"tool", "--bogus", "state", "c1"}, 1, "--bogus"},
      {{"tool"}, 1, "subcommand is required"},
  };
  for (const auto& c : cases) {
    CLI::App app{"a tool", "tool"};
    app.require_subcommand(1);
    std::string id;
    bool ran = false;
    auto* state = app.add_subcommand("state", "state of a container");
    state->add_option("container-id", id)->required();
    state->callback([&] { ran = true; });
    auto* exec = app.add_subcommand("exec", "run a process");
    exec->prefix_command();
    exec->callback([&] { ran = true; });
    auto* image = app.add_subcommand("image", "images");
    image->require_subcommand(1);
    image->add_subcommand("ls", "list")->callback([&] { ran = true; });

    expectOutcome(c, parse(app, ran, c.args), "state of a container");
  }
}

// A daemon without commands, like berth-cri: a stray word is an error, and with --help it is not
// hidden behind the help text.
TEST(ParseCommandLine, NoCommands) {
  const std::vector<Case> cases = {
      {{"daemon", "--listen", "/run/x.sock"}, std::nullopt, ""},
      {{"daemon", "--help"}, 0, "", true},
      {{"daemon", "foo"}, 1, "not expected: foo"},
      {{"daemon", "foo", "--help"}, 1, "No help topic for 'foo'"},
  };
  for (const auto& c : cases) {
    CLI::App app{"a daemon", "daemon"};
    std::string listen;
    app.add_option("--listen", listen, "socket to serve on");
    bool ran = false;
    app.callback([&] { ran = true; });
    expectOutcome(c, parse(app, ran, c.args), "socket to serve on");
  }
}

}  // namespace
}  // namespace berth
