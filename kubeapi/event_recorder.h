#pragma once
// Core v1 Events as client-go's record package writes them (the recorder of the kubelet and the
// controllers): an Event named <object>.<unix nanos in hex> in the object's namespace; the same
// event again becomes a patch of count, lastTimestamp and message rather than a new object;
// similar events (one reason, ten different messages within ten minutes) fold into one
// "(combined from similar events): ..." event; and a token bucket per source and object (burst
// 25, one more every five minutes) drops spam. Recording never blocks the caller: a bounded queue
// (1000, client-go's) feeds one writer thread, and a full queue drops the event.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "kubeapi/meta_time.h"

namespace berth::kubeapi {

class RestClient;

struct EventSource {
  std::string component;  // "kubelet", "default-scheduler", ...
  std::string host;       // the node name, for the kubelet
};

// An ObjectReference to an object read from the API (kind and apiVersion from the object),
// with `fieldPath` naming a part of it ("spec.containers{app}").
nlohmann::json objectReference(const nlohmann::json& object, std::string_view fieldPath = {});

// The pure part of the recorder (client-go's EventCorrelator): what to write for a new event
// given the ones seen before. Keeps bounded LRU caches, as upstream (4096 entries each).
class EventCorrelator {
 public:
  struct Outcome {
    nlohmann::json event;  // to create, or the patched event's full state
    bool skip = false;     // spam: write nothing
    bool patch = false;    // seen before: patch `patchBody` onto event.metadata.name
    nlohmann::json patchBody;
  };

  Outcome correlate(nlohmann::json event, Time now);
  // After a write: remember the stored event (its name, resourceVersion, count, first time).
  void observe(const nlohmann::json& stored);

 private:
  template <typename V>
  class Lru {
   public:
    V* get(const std::string& key);
    void put(const std::string& key, V value);

   private:
    std::list<std::pair<std::string, V>> items_;  // most recent first
    std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
  };
  struct Aggregate {
    std::vector<std::string> messages;  // distinct, at most kMaxSimilar
    Time last;
  };
  struct Observation {
    std::int64_t count = 0;
    std::string name;
    std::string resourceVersion;
    nlohmann::json firstTimestamp;
  };
  struct Bucket {
    double tokens;
    Time refilled;
  };

  Lru<Bucket> spam_;
  Lru<Aggregate> aggregates_;
  Lru<Observation> observations_;
};

class EventRecorder {
 public:
  EventRecorder(std::shared_ptr<RestClient> api, EventSource source);
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Records an event about the object `ref` refers to (type "Normal" or "Warning").
  void event(const nlohmann::json& ref, std::string_view type, std::string_view reason,
             std::string message);
  // Waits until every event queued so far is written or dropped (tests, shutdown).
  void flush();

 private:
  void run();
  void write(nlohmann::json event);

  std::shared_ptr<RestClient> api_;
  EventSource source_;
  EventCorrelator correlator_;  // writer thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<nlohmann::json> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace berth::kubeapi
