#pragma once
// Content negotiation and response bodies: what the client asked for in Accept (JSON, a
// meta.k8s.io Table, PartialObjectMetadata), and objects, lists and watch events written in it.
// Lists are written by joining each object's cached serialization, never by building a JSON
// tree of the list.
#include <functional>
#include <string>

#include "common/http/server.h"
#include "controlplane/apiserver/api_error.h"
#include "controlplane/apiserver/resource_store.h"
#include "controlplane/schema/served.h"

namespace berth::controlplane::apiserver {

struct Negotiated {
  enum class Output { kObject, kTable, kMetadata };
  Output output = Output::kObject;
  std::string includeObject = "Metadata";  // Table rows: None, Metadata or Object
};

// The Table (meta.k8s.io/v1) of one object or of a list ({"items": [...]}) of a resource's
// kind, from the type descriptions' printer columns; its metadata is the encoder's to set.
struct TableConvertor {
  std::function<Json(const schema::ServedResource& served, const Json& objectOrList,
                     const std::string& includeObject, bool noHeaders)>
      convert;
};

class Encoder {
 public:
  explicit Encoder(TableConvertor table) : table_(std::move(table)) {}

  // Reads Accept and includeObject; 406 when nothing acceptable is offered (protobuf only).
  [[nodiscard]] ApiResult<Negotiated> negotiate(const http::Request& request) const;
  // The Content-Type of a response in that output.
  static std::string contentType(const Negotiated& n);

  std::string object(const Negotiated& n, const schema::ServedResource& served,
                     const storage::StoredObject& object) const;
  std::string object(const Negotiated& n, const schema::ServedResource& served,
                     const Json& object) const;
  std::string list(const Negotiated& n, const schema::ServedResource& served,
                   const ListResult& result) const;
  // One line of a watch stream: {"type":"ADDED","object":...}\n. Table events carry the column
  // definitions only when `withColumns` (the first event of a stream).
  std::string watchEvent(const Negotiated& n, const schema::ServedResource& served,
                         const storage::WatchEvent& event, bool withColumns) const;

 private:
  Json table(const Negotiated& n, const schema::ServedResource& served, const Json& objectOrList,
             bool noHeaders) const;

  TableConvertor table_;
};

// "v1" or "apps/v1": the apiVersion of a served resource's objects.
std::string apiVersionOf(const schema::ServedResource& served);
// "PodList" ...
std::string listKindOf(const schema::ServedResource& served);

}  // namespace berth::controlplane::apiserver
