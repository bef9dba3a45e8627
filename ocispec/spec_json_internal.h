#pragma once
// The per-section readers and writers behind spec_json.h, shared between its source files
// (process_json.cpp, linux_json.cpp, resources_json.cpp). Not part of the API.

#include "ocispec/json_reader.h"
#include "ocispec/json_writer.h"
#include "ocispec/runtime_spec.h"

namespace berth::ocispec {

// The `process` object; also the whole document for parseProcess (with an empty path).
[[nodiscard]] Status readProcess(const JsonReader& r, Process& out);
[[nodiscard]] Status readLinux(const JsonReader& r, Linux& out);
[[nodiscard]] Status readResources(const JsonReader& r, Resources& out);
// Used by linux.uidMappings/gidMappings and by idmapped mounts.
[[nodiscard]] Status readIdMapping(const JsonReader& r, IdMapping& out);

OrderedJson writeLinux(const Linux& linux);
OrderedJson writeResources(const Resources& resources);
OrderedJson writeIdMapping(const IdMapping& mapping);

}  // namespace berth::ocispec
