// The event correlator's decisions, as client-go's EventCorrelator makes them: repeats become
// patches, many similar events fold into one, and spam about one object is dropped.
#include <gtest/gtest.h>

#include "kubeapi/event_recorder.h"

namespace berth::kubeapi {
namespace event_recorder_test {

using nlohmann::json;
using namespace std::chrono_literals;

const Time kStart =
    Time(std::chrono::sys_days{std::chrono::year{2026} / 12 / 7}.time_since_epoch());

json podRef(const std::string& name) {
  return objectReference(
      {{"kind", "Pod"},
       {"apiVersion", "v1"},
       {"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", name + "-uid"}}}},
      "spec.containers{app}");
}

json event(const json& ref, const std::string& reason, const std::string& message, Time t,
           const std::string& name) {
  return {{"metadata", {{"name", name}, {"namespace", "ns"}}},
          {"involvedObject", ref},
          {"reason", reason},
          {"message", message},
          {"source", {{"component", "kubelet"}, {"host", "node-1"}}},
          {"firstTimestamp", formatTime(t)},
          {"lastTimestamp", formatTime(t)},
          {"count", 1},
          {"type", "Normal"}};
}

TEST(EventCorrelator, ObjectReferenceNamesThePart) {
  EXPECT_EQ(podRef("web"), json::parse(R"({"kind":"Pod","apiVersion":"v1","name":"web",
      "namespace":"ns","uid":"web-uid","fieldPath":"spec.containers{app}"})"));
}

TEST(EventCorrelator, ARepeatPatchesCountTimeAndMessageOfTheFirst) {
  EventCorrelator c;
  auto first =
      c.correlate(event(podRef("web"), "Pulled", "already present", kStart, "web.1"), kStart);
  ASSERT_FALSE(first.skip);
  EXPECT_FALSE(first.patch);
  json stored = first.event;
  stored["metadata"]["resourceVersion"] = "7";
  c.observe(stored);

  auto second = c.correlate(
      event(podRef("web"), "Pulled", "already present", kStart + 30s, "web.2"), kStart + 30s);
  ASSERT_TRUE(second.patch);
  EXPECT_EQ(second.event["metadata"]["name"], "web.1");
  EXPECT_EQ(second.event["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(second.event["firstTimestamp"], formatTime(kStart));
  EXPECT_EQ(second.patchBody, json({{"count", 2},
                                    {"lastTimestamp", formatTime(kStart + 30s)},
                                    {"message", "already present"}}));
  // Another message is another event.
  auto other = c.correlate(event(podRef("web"), "Pulled", "pulled in 1s", kStart + 31s, "web.3"),
                           kStart + 31s);
  EXPECT_FALSE(other.patch);
  EXPECT_EQ(other.event["metadata"]["name"], "web.3");
}

TEST(EventCorrelator, TenSimilarMessagesFoldIntoOneCombinedEvent) {
  EventCorrelator c;
  Time t = kStart;
  for (int i = 0; i < 9; ++i) {
    auto o = c.correlate(event(podRef("web"), "Failed", "error " + std::to_string(i), t, "e"), t);
    EXPECT_FALSE(o.patch);
    EXPECT_EQ(o.event["message"], "error " + std::to_string(i));
    t += 1s;
  }
  auto tenth = c.correlate(event(podRef("web"), "Failed", "error 9", t, "e"), t);
  EXPECT_FALSE(tenth.patch);
  EXPECT_EQ(tenth.event["message"], "(combined from similar events): error 9");
  c.observe(tenth.event);
  t += 1s;
  auto eleventh = c.correlate(event(podRef("web"), "Failed", "error 10", t, "e"), t);
  ASSERT_TRUE(eleventh.patch);
  EXPECT_EQ(eleventh.event["metadata"]["name"], tenth.event["metadata"]["name"]);
  EXPECT_EQ(eleventh.patchBody["count"], 2);
  EXPECT_EQ(eleventh.patchBody["message"], "(combined from similar events): error 10");
  // Ten minutes later the similarity is forgotten.
  t += 11min;
  auto later = c.correlate(event(podRef("web"), "Failed", "error 11", t, "e"), t);
  EXPECT_EQ(later.event["message"], "error 11");
}

TEST(EventCorrelator, SpamAboutOneObjectIsDroppedAfterABurstOf25) {
  EventCorrelator c;
  Time t = kStart;
  for (int i = 0; i < 25; ++i) {
    EXPECT_FALSE(c.correlate(event(podRef("noisy"), "BackOff", "again", t, "n"), t).skip) << i;
  }
  EXPECT_TRUE(c.correlate(event(podRef("noisy"), "BackOff", "again", t, "n"), t).skip);
  // Another object has a bucket of its own.
  EXPECT_FALSE(c.correlate(event(podRef("quiet"), "Started", "started", t, "q"), t).skip);
  // One token comes back every five minutes.
  t += 299s;
  EXPECT_TRUE(c.correlate(event(podRef("noisy"), "BackOff", "again", t, "n"), t).skip);
  t += 2s;
  EXPECT_FALSE(c.correlate(event(podRef("noisy"), "BackOff", "again", t, "n"), t).skip);
}

}  // namespace event_recorder_test
}  // namespace berth::kubeapi
