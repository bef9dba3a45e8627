#include "runtime/mount_options.h"

#include <sys/mount.h>

#include <gtest/gtest.h>

namespace berth::runtime {
namespace {

struct Case {
  std::vector<std::string> options;
  unsigned long flags;
  unsigned long propagation;
  bool bind;
  bool recursive;
  std::string data;
};

TEST(MountOptions, Table) {
  const Case cases[] = {
      {{}, 0, 0, false, false, ""},
      {{"nosuid", "strictatime", "mode=755", "size=65536k"},
       MS_NOSUID | MS_STRICTATIME,
       0,
       false,
       false,
       "mode=755,size=65536k"},
      {{"rbind", "ro"}, MS_RDONLY, 0, true, true, ""},
      {{"bind", "rprivate"}, 0, MS_PRIVATE | MS_REC, true, false, ""},
      {{"ro", "rw"}, 0, 0, false, false, ""},  // the later word wins
      {{"nodev", "dev"}, 0, 0, false, false, ""},
      {{"rslave", "noexec"}, MS_NOEXEC, MS_SLAVE | MS_REC, false, false, ""},
      {{"tmpcopyup", "newinstance", "ptmxmode=0666"},
       0,
       0,
       false,
       false,
       "newinstance,ptmxmode=0666"},
  };
  for (const auto& c : cases) {
    MountOptions o = parseMountOptions(c.options);
    SCOPED_TRACE(testing::PrintToString(c.options));
    EXPECT_EQ(o.flags, c.flags);
    EXPECT_EQ(o.propagation, c.propagation);
    EXPECT_EQ(o.bind, c.bind);
    EXPECT_EQ(o.recursive, c.recursive);
    EXPECT_EQ(o.data, c.data);
  }
}

TEST(MountOptions, Propagation) {
  unsigned long f = 0;
  EXPECT_TRUE(parsePropagation("rshared", &f));
  EXPECT_EQ(f, MS_SHARED | MS_REC);
  EXPECT_FALSE(parsePropagation("sideways", &f));
}

}  // namespace
}  // namespace berth::runtime
