#pragma once
// Defines RPC overrides that answer UNIMPLEMENTED with the RPC's name (shim/grpc_status.h).
// Placeholders: each is replaced by a real handler as its feature lands.

#include "shim/grpc_status.h"

#define BERTH_CRI_UNIMPLEMENTED_UNARY(Service, Rpc, Req, Resp)                 \
  grpc::Status Service::Rpc(grpc::ServerContext*, const v1::Req*, v1::Resp*) { \
    return unimplemented(#Rpc);                                                \
  }
#define BERTH_CRI_UNIMPLEMENTED_STREAM(Service, Rpc, Req, Resp)                                    \
  grpc::Status Service::Rpc(grpc::ServerContext*, const v1::Req*, grpc::ServerWriter<v1::Resp>*) { \
    return unimplemented(#Rpc);                                                                    \
  }
