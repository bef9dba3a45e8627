#include "controlplane/apiserver/encoding.h"

#include <algorithm>
#include <cctype>

namespace berth::controlplane::apiserver {
namespace {

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct MediaRange {
  std::string type;  // "application/json"
  std::map<std::string, std::string> params;
  double q = 1.0;
};

std::vector<MediaRange> parseAccept(std::string_view header) {
  std::vector<MediaRange> ranges;
  std::size_t start = 0;
  while (start <= header.size()) {
    std::size_t comma = header.find(',', start);
    std::string_view part = header.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    MediaRange range;
    std::size_t semi = part.find(';');
    range.type = lower(trim(part.substr(0, semi)));
    while (semi != std::string_view::npos) {
      std::size_t next = part.find(';', semi + 1);
      std::string_view param = part.substr(
          semi + 1, next == std::string_view::npos ? std::string_view::npos : next - semi - 1);
      std::size_t eq = param.find('=');
      if (eq != std::string_view::npos) {
        std::string key = lower(trim(param.substr(0, eq)));
        std::string value = trim(param.substr(eq + 1));
        if (key == "q") {
          range.q = std::atof(value.c_str());
        } else {
          range.params[key] = value;
        }
      }
      semi = next;
    }
    if (!range.type.empty()) ranges.push_back(std::move(range));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::stable_sort(ranges.begin(), ranges.end(),
                   [](const MediaRange& a, const MediaRange& b) { return a.q > b.q; });
  return ranges;
}

Json partialMetadata(const Json& object) {
  Json meta = object.contains("metadata") ? object["metadata"] : Json::object();
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", std::move(meta)}};
}

Json listMeta(std::int64_t revision, const std::string& continueToken,
              const std::optional<std::int64_t>& remaining) {
  Json meta = {{"resourceVersion", std::to_string(revision)}};
  if (!continueToken.empty()) meta["continue"] = continueToken;
  if (remaining) meta["remainingItemCount"] = *remaining;
  return meta;
}

const char* eventType(storage::WatchEvent::Type t) {
  switch (t) {
    case storage::WatchEvent::Type::kAdded:
      return "ADDED";
    case storage::WatchEvent::Type::kModified:
      return "MODIFIED";
    case storage::WatchEvent::Type::kDeleted:
      return "DELETED";
    case storage::WatchEvent::Type::kBookmark:
      return "BOOKMARK";
    case storage::WatchEvent::Type::kError:
      break;
  }
  return "ERROR";
}

}  // namespace

std::string apiVersionOf(const schema::ServedResource& served) {
  return served.groupVersion();
}

std::string listKindOf(const schema::ServedResource& served) {
  return served.kind + "List";
}

ApiResult<Negotiated> Encoder::negotiate(const http::Request& request) const {
  Negotiated n;
  if (auto include = request.queryParam("includeObject")) {
    if (*include != "None" && *include != "Metadata" && *include != "Object") {
      return apiFail(kubeapi::badRequestStatus("includeObject: Unsupported value: " +
                                               Json(std::string(*include)).dump()));
    }
    n.includeObject = std::string(*include);
  }
  auto accept = request.headers.get("Accept");
  if (!accept || trim(*accept).empty()) return n;
  for (const MediaRange& range : parseAccept(*accept)) {
    bool json =
        range.type == "application/json" || range.type == "*/*" || range.type == "application/*";
    if (!json) continue;
    auto as = range.params.find("as");
    if (as == range.params.end()) {
      n.output = Negotiated::Output::kObject;
      return n;
    }
    auto g = range.params.find("g");
    auto v = range.params.find("v");
    bool meta = g != range.params.end() && g->second == "meta.k8s.io" && v != range.params.end() &&
                v->second == "v1";
    if (!meta) continue;
    if (as->second == "Table") {
      n.output = Negotiated::Output::kTable;
      return n;
    }
    if (as->second == "PartialObjectMetadata" || as->second == "PartialObjectMetadataList") {
      n.output = Negotiated::Output::kMetadata;
      return n;
    }
  }
  return apiFail(kubeapi::notAcceptableStatus({"application/json", "application/yaml"}));
}

std::string Encoder::contentType(const Negotiated& n) {
  switch (n.output) {
    case Negotiated::Output::kTable:
      return "application/json;as=Table;v=v1;g=meta.k8s.io";
    case Negotiated::Output::kMetadata:
      return "application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io";
    case Negotiated::Output::kObject:
      break;
  }
  return "application/json";
}

Json Encoder::table(const Negotiated& n, const schema::ServedResource& served,
                    const Json& objectOrList, bool noHeaders) const {
  if (!table_.convert) {
    return {{"kind", "Table"},
            {"apiVersion", "meta.k8s.io/v1"},
            {"metadata", Json::object()},
            {"columnDefinitions", Json::array()},
            {"rows", Json::array()}};
  }
  return table_.convert(served, objectOrList, n.includeObject, noHeaders);
}

std::string Encoder::object(const Negotiated& n, const schema::ServedResource& served,
                            const storage::StoredObject& object) const {
  if (n.output == Negotiated::Output::kObject) return object.serialized();
  return this->object(n, served, object.json());
}

std::string Encoder::object(const Negotiated& n, const schema::ServedResource& served,
                            const Json& object) const {
  switch (n.output) {
    case Negotiated::Output::kTable: {
      Json t = table(n, served, object, false);
      t["metadata"] = Json::object();
      if (object.contains("metadata") && object["metadata"].contains("resourceVersion")) {
        t["metadata"]["resourceVersion"] = object["metadata"]["resourceVersion"];
      }
      return t.dump();
    }
    case Negotiated::Output::kMetadata:
      return partialMetadata(object).dump();
    case Negotiated::Output::kObject:
      break;
  }
  return object.dump();
}

std::string Encoder::list(const Negotiated& n, const schema::ServedResource& served,
                          const ListResult& result) const {
  Json meta = listMeta(result.revision, result.continueToken, result.remainingItemCount);
  if (n.output == Negotiated::Output::kTable) {
    Json list = {{"items", Json::array()}};
    for (const auto& item : result.items)
      list["items"].push_back(item->json());
    Json t = table(n, served, list, false);
    t["metadata"] = std::move(meta);
    return t.dump();
  }
  std::string out;
  std::size_t size = 128;
  for (const auto& item : result.items)
    size += item->serialized().size() + 1;
  out.reserve(size);
  if (n.output == Negotiated::Output::kMetadata) {
    out = R"({"kind":"PartialObjectMetadataList","apiVersion":"meta.k8s.io/v1","metadata":)";
  } else {
    out = R"({"kind":)" + Json(listKindOf(served)).dump() + R"(,"apiVersion":)" +
          Json(apiVersionOf(served)).dump() + R"(,"metadata":)";
  }
  out += meta.dump();
  out += R"(,"items":[)";
  bool first = true;
  for (const auto& item : result.items) {
    if (!first) out += ',';
    first = false;
    out += n.output == Negotiated::Output::kMetadata ? partialMetadata(item->json()).dump()
                                                     : item->serialized();
  }
  out += "]}";
  return out;
}

std::string Encoder::watchEvent(const Negotiated& n, const schema::ServedResource& served,
                                const storage::WatchEvent& event, bool withColumns) const {
  std::string out = R"({"type":")";
  out += eventType(event.type);
  out += R"(","object":)";
  if (event.type == storage::WatchEvent::Type::kError) {
    // The watch ended on the server's side (its cache re-listed): clients resume from their
    // last revision and get 410 if that is gone.
    std::string why = event.error ? event.error->message() : "watch ended";
    out += (event.error && event.error->code() == Code::kOutOfRange
                ? kubeapi::resourceExpiredStatus(why)
                : kubeapi::internalErrorStatus(why))
               .body();
  } else if (event.type == storage::WatchEvent::Type::kBookmark) {
    // A bookmark is an object of the watched kind with nothing but its resourceVersion.
    Json meta = {{"resourceVersion", std::to_string(event.revision)}};
    if (event.initialEventsEnd) {
      meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    }
    Json object = {{"kind", served.kind}, {"apiVersion", apiVersionOf(served)}, {"metadata", meta}};
    if (n.output == Negotiated::Output::kMetadata) object = partialMetadata(object);
    if (n.output == Negotiated::Output::kTable) {
      object = {{"kind", "Table"},
                {"apiVersion", "meta.k8s.io/v1"},
                {"metadata", meta},
                {"columnDefinitions", Json::array()},
                {"rows", Json::array()}};
    }
    out += object.dump();
  } else if (n.output == Negotiated::Output::kTable) {
    Json t = table(n, served, event.object->json(), !withColumns);
    t["metadata"] = {{"resourceVersion", std::to_string(event.revision)}};
    out += t.dump();
  } else if (n.output == Negotiated::Output::kMetadata) {
    out += partialMetadata(event.object->json()).dump();
  } else {
    out += event.object->serialized();
  }
  out += "}\n";
  return out;
}

}  // namespace berth::controlplane::apiserver
