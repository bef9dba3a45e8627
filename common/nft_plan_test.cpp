#include "common/nft_plan.h"

#include <gtest/gtest.h>

namespace berth::nft {
namespace {

IpAddr ip(const char* s) {
  return *IpAddr::parse(s);
}

// A table with a vmap from address . proto . port to per-service chains, as the proxy builds.
Table serviceTable(const std::vector<std::pair<const char*, const char*>>& services) {
  Table t{Family::kIp, "t", {}, {}};
  Chain& dispatch = t.chain("services");
  dispatch.rules.push_back(
      Rule{{Load{Field::kIpDaddr, reg(0)}, Load{Field::kL4Proto, reg(1)},
            Load{Field::kThDport, reg(2)}, Lookup{"service-ips", reg(0), kRegVerdict}},
           {}});
  Set& map = t.set(
      Set{"service-ips", {Type::kIpv4Addr, Type::kInetProto, Type::kInetService}, Type::kVerdict});
  for (auto [addr, chain] : services) {
    t.chain(chain).rules.push_back(Rule{{Immediate{Verdict::accept()}}, {}});
    map.add(Element{
        {Datum::addr(ip(addr)), Datum::proto(6), Datum::port(80)}, Verdict::goTo(chain), {}});
  }
  return t;
}

std::vector<std::string> described(const std::vector<Op>& ops) {
  std::vector<std::string> out;
  for (const Op& op : ops)
    out.push_back(describe(op));
  return out;
}

TEST(NftPlan, AnUnknownTableIsReplacedWholeInOneTransaction) {
  std::vector<Table> want{serviceTable({{"10.96.0.1", "svc-a"}})};
  EXPECT_EQ(described(planChanges(want, {})),
            (std::vector<std::string>{
                "add table ip t",
                "delete table ip t",
                "add table ip t",
                "add chain ip t services",
                "add chain ip t svc-a",
                "add set ip t service-ips",
                "add element ip t service-ips { 10.96.0.1 . tcp . 80 : goto svc-a }",
                "add rule ip t services ip daddr . meta l4proto . th dport vmap @service-ips",
                "add rule ip t svc-a accept",
            }));
}

TEST(NftPlan, NoChangeSendsNothing) {
  std::vector<Table> t{serviceTable({{"10.96.0.1", "svc-a"}})};
  EXPECT_TRUE(planChanges(t, t).empty());
}

TEST(NftPlan, AServiceAddedAndOneRemovedTouchOnlyTheirChainsAndElements) {
  std::vector<Table> have{serviceTable({{"10.96.0.1", "svc-a"}, {"10.96.0.2", "svc-b"}})};
  std::vector<Table> want{serviceTable({{"10.96.0.1", "svc-a"}, {"10.96.0.3", "svc-c"}})};
  EXPECT_EQ(described(planChanges(want, have)),
            (std::vector<std::string>{
                "add chain ip t svc-c",
                "delete element ip t service-ips { 10.96.0.2 . tcp . 80 : goto svc-b }",
                "flush chain ip t svc-b",
                "delete chain ip t svc-b",
                "add element ip t service-ips { 10.96.0.3 . tcp . 80 : goto svc-c }",
                "add rule ip t svc-c accept",
            }));
}

TEST(NftPlan, AChangedValueIsDeletedThenAddedAndChangedRulesAreRewritten) {
  std::vector<Table> have{serviceTable({{"10.96.0.1", "svc-a"}})};
  std::vector<Table> want = have;
  Table& t = want[0];
  t.sets.at("service-ips").elements.begin()->second.verdict = Verdict::drop();
  t.chains.at("svc-a").rules[0].exprs = {Immediate{Verdict::drop()}};
  EXPECT_EQ(described(planChanges(want, have)),
            (std::vector<std::string>{
                "delete element ip t service-ips { 10.96.0.1 . tcp . 80 : goto svc-a }",
                "flush chain ip t svc-a",
                "add element ip t service-ips { 10.96.0.1 . tcp . 80 : drop }",
                "add rule ip t svc-a drop",
            }));
}

TEST(NftPlan, ARedefinedSetIsReplacedWithItsElementsAndTheRulesThatUseIt) {
  std::vector<Table> have{serviceTable({{"10.96.0.1", "svc-a"}})};
  std::vector<Table> want = have;
  want[0].sets.at("service-ips").comment = "now with a comment";
  EXPECT_EQ(described(planChanges(want, have)),
            (std::vector<std::string>{
                "flush chain ip t services",
                "delete set ip t service-ips",
                "add set ip t service-ips",
                "add element ip t service-ips { 10.96.0.1 . tcp . 80 : goto svc-a }",
                "add rule ip t services ip daddr . meta l4proto . th dport vmap @service-ips",
            }));
}

TEST(NftPlan, DeferredChainsAreFlushedNowAndDeletedByTheNextTransaction) {
  std::vector<Table> have{serviceTable({{"10.96.0.1", "svc-a"}, {"10.96.0.2", "svc-b"}})};
  std::vector<Table> want{serviceTable({{"10.96.0.1", "svc-a"}})};
  PlanOptions defer{true};
  EXPECT_EQ(described(planChanges(want, have, defer)),
            (std::vector<std::string>{
                "delete element ip t service-ips { 10.96.0.2 . tcp . 80 : goto svc-b }",
                "flush chain ip t svc-b",
            }));
  std::vector<Table> now = appliedAfter(want, have, defer);
  ASSERT_TRUE(now[0].chains.contains("svc-b"));
  EXPECT_TRUE(now[0].chains.at("svc-b").rules.empty());
  EXPECT_EQ(described(planChanges(want, now, defer)),
            (std::vector<std::string>{"flush chain ip t svc-b", "delete chain ip t svc-b"}));
  EXPECT_EQ(appliedAfter(want, now, defer), want);

  // Wanted again before it was deleted: its rules come back.
  std::vector<Table> back{serviceTable({{"10.96.0.1", "svc-a"}, {"10.96.0.2", "svc-b"}})};
  EXPECT_EQ(described(planChanges(back, now, defer)),
            (std::vector<std::string>{
                "flush chain ip t svc-b",
                "add element ip t service-ips { 10.96.0.2 . tcp . 80 : goto svc-b }",
                "add rule ip t svc-b accept",
            }));
}

TEST(NftPlan, ATableNoLongerWantedIsDeleted) {
  std::vector<Table> have{serviceTable({})};
  EXPECT_EQ(described(planChanges({}, have)), (std::vector<std::string>{"delete table ip t"}));
}

}  // namespace
}  // namespace berth::nft
