#pragma once
// One resource request on its way through ApiServer, and the response helpers its verbs share.
#include <memory>
#include <string>
#include <vector>

#include "common/http/server.h"
#include "controlplane/apiserver/api_server.h"

namespace berth::controlplane::apiserver {

struct ApiServer::Call {
  http::Request& request;
  std::shared_ptr<http::ResponseWriter> writer;
  RequestInfo info;
  auth::UserInfo user;
  const ResourceEntry* entry = nullptr;
  const schema::ServedResource* served = nullptr;  // the resource or the subresource asked for
  Negotiated output;
  bool dryRun = false;
  std::vector<std::string> warnings;  // sent as Warning headers

  ResourceStore& store() const { return *entry->store; }
  AdmissionAttributes admissionAttributes(std::string operation) const {
    return {info, user, std::move(operation), dryRun};
  }
};

// A metav1.Status error body with the error's HTTP code.
http::Response statusResponse(const ApiError& error);
http::Response jsonResponse(int status, std::string body, std::string contentType);

}  // namespace berth::controlplane::apiserver
