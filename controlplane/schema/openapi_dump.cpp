// schema_openapi_dump <dir>: writes the OpenAPI documents derived from the descriptions and the
// served fixture (v2.json, v3/index.json, v3/<name>.json with '/' as '_'), for comparing them with
// upstream's published documents outside the repo.
#include <cstdio>
#include <filesystem>
#include <string>

#include "common/file_util.h"
#include "controlplane/schema/openapi.h"
#include "controlplane/schema/served_fixture.h"

using namespace berth::controlplane::schema;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output dir>\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir / "v3");
  OpenApi api(Registry::builtin(), servedFixture(), "v1.32.0");
  auto write = [&](const std::filesystem::path& p, const std::string& text) {
    if (auto r = berth::writeFileAtomic(p, text); !r) {
      std::fprintf(stderr, "%s\n", r.error().message().c_str());
      std::exit(1);
    }
  };
  write(dir / "v2.json", api.v2());
  write(dir / "v3" / "index.json", api.v3Index());
  for (const std::string& name : api.v3Names()) {
    std::string file = name;
    for (char& c : file)
      if (c == '/') c = '_';
    write(dir / "v3" / (file + ".json"), *api.v3(name));
  }
  return 0;
}
