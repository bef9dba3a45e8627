// Runs inside a container for the CVE-2021-30465 test: atomically exchanges a directory and a
// symlink (renameat2 RENAME_EXCHANGE) as fast as it can, so the path the runtime resolves flips
// between the two at any instant, until the stop file appears. Static: the busybox rootfs has no
// libc.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s DIR SYMLINK STOPFILE\n", argv[0]);
    return 2;
  }
  for (unsigned long i = 0;; ++i) {
    if (renameat2(AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) != 0) {
      perror("renameat2");
      return 1;
    }
    if ((i & 1023) == 0 && access(argv[3], F_OK) == 0)
      return 0;
  }
}
