# berth_grpc_protos(<out_var> PROTO_ROOT <dir> GEN_DIR <dir> PROTOS <paths relative to the root>):
# generates C++ messages and gRPC stubs for each .proto with Debian's protoc and grpc_cpp_plugin at
# build time (imports resolve from PROTO_ROOT, code includes "<path>.pb.h"/"<path>.grpc.pb.h"),
# and sets <out_var> to the generated sources. They compile with warnings off: generated code is
# not ours to keep warning-free under -Wextra -Werror.
find_program(BERTH_PROTOC protoc REQUIRED)
find_program(BERTH_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

function(berth_grpc_protos out_var)
  cmake_parse_arguments(P "" "PROTO_ROOT;GEN_DIR" "PROTOS" ${ARGN})
  set(srcs)
  foreach(proto ${P_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(outs ${P_GEN_DIR}/${stem}.pb.cc ${P_GEN_DIR}/${stem}.pb.h
             ${P_GEN_DIR}/${stem}.grpc.pb.cc ${P_GEN_DIR}/${stem}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${P_GEN_DIR}
      COMMAND ${BERTH_PROTOC} -I${P_PROTO_ROOT}
              --cpp_out=${P_GEN_DIR} --grpc_out=${P_GEN_DIR}
              --plugin=protoc-gen-grpc=${BERTH_GRPC_CPP_PLUGIN}
              ${P_PROTO_ROOT}/${proto}
      DEPENDS ${P_PROTO_ROOT}/${proto} ${BERTH_PROTOC} ${BERTH_GRPC_CPP_PLUGIN}
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()
  set_source_files_properties(${srcs} PROPERTIES COMPILE_OPTIONS "-w")
  set(${out_var} ${srcs} PARENT_SCOPE)
endfunction()
