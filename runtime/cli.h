#pragma once

namespace berth::runtime {

// runc's command line. Returns the process exit status.
int runCli(int argc, char** argv);

}  // namespace berth::runtime
