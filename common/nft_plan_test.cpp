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

// One service's part: its chain and its element in the table's shared service-ips map.
struct ServicePart {
  std::vector<Chain> chains;
  std::vector<Set> sets;
  std::vector<std::pair<std::string, Element>> elements;
  PartView view() const { return {chains, sets, elements}; }
};

ServicePart servicePart(const char* addr, const char* chain, Verdict::Kind kind) {
  ServicePart p;
  p.chains.push_back(Chain{chain, {}, {Rule{{Immediate{Verdict{kind, {}}}}, {}}}});
  p.elements.push_back(
      {"service-ips",
       Element{
           {Datum::addr(ip(addr)), Datum::proto(6), Datum::port(80)}, Verdict::goTo(chain), {}}});
  return p;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(NftPlanPart, APartChangeIsPlannedAsTheWholeTableDiffWouldBe) {
  Table base = serviceTable({});
  ServicePart a = servicePart("10.96.0.1", "svc-a", Verdict::Kind::kAccept);
  ServicePart b = servicePart("10.96.0.2", "svc-b", Verdict::Kind::kAccept);
  ServicePart b2 = servicePart("10.96.0.3", "svc-b", Verdict::Kind::kDrop);
  EXPECT_EQ(described(planPartChanges(base, b.view(), {})),
            (std::vector<std::string>{
                "add chain ip t svc-b",
                "add rule ip t svc-b accept",
                "add element ip t service-ips { 10.96.0.2 . tcp . 80 : goto svc-b }",
            }))
      << "a new chain has its rules before an element makes it reachable";
  // The same change planned over whole tables.
  std::vector<Table> have{serviceTable({{"10.96.0.1", "svc-a"}, {"10.96.0.2", "svc-b"}})};
  std::vector<Table> want = have;
  want[0].sets.at("service-ips").elements.clear();
  want[0].sets.at("service-ips").add(a.elements[0].second);
  want[0].sets.at("service-ips").add(b2.elements[0].second);
  want[0].chains.at("svc-b") = b2.chains[0];
  std::vector<std::string> part = described(planPartChanges(base, b2.view(), b.view()));
  EXPECT_EQ(sorted(part), sorted(described(planChanges(want, have))));
  EXPECT_EQ(part, (std::vector<std::string>{
                      "delete element ip t service-ips { 10.96.0.2 . tcp . 80 : goto svc-b }",
                      "flush chain ip t svc-b",
                      "add element ip t service-ips { 10.96.0.3 . tcp . 80 : goto svc-b }",
                      "add rule ip t svc-b drop",
                  }));
  EXPECT_TRUE(planPartChanges(base, b.view(), b.view()).empty());
}

TEST(NftPlanPart, APartThatGoesIsRemovedOrItsChainsDeferred) {
  Table base = serviceTable({});
  ServicePart b = servicePart("10.96.0.2", "svc-b", Verdict::Kind::kAccept);
  // The part's own map goes with it.
  b.sets.push_back(Set{"svc-b", {Type::kInteger}, Type::kVerdict});
  b.sets[0].add(Element{{Datum::integer(0)}, Verdict::goTo("svc-b"), {}});
  EXPECT_EQ(described(planPartChanges(base, {}, b.view())),
            (std::vector<std::string>{
                "delete element ip t service-ips { 10.96.0.2 . tcp . 80 : goto svc-b }",
                "flush chain ip t svc-b",
                "delete set ip t svc-b",
                "delete chain ip t svc-b",
            }));
  std::vector<std::string> deferred;
  EXPECT_EQ(described(planPartChanges(base, {}, b.view(), PlanOptions{true}, &deferred)),
            (std::vector<std::string>{
                "delete element ip t service-ips { 10.96.0.2 . tcp . 80 : goto svc-b }",
                "flush chain ip t svc-b",
                "delete set ip t svc-b",
            }));
  EXPECT_EQ(deferred, std::vector<std::string>{"svc-b"});
}

size_t messages(const std::vector<Op>& txn) {
  size_t n = 0;
  for (const Op& op : txn)
    n += op.kind == Op::Kind::kAddElements ? op.elements.size() : 1;
  return n;
}

TEST(NftPlanSplit, ACreationFromNothingSplitsIntoBoundedTransactionsInOrder) {
  std::vector<Table> want{serviceTable({{"10.96.0.1", "svc-a"},
                                        {"10.96.0.2", "svc-b"},
                                        {"10.96.0.3", "svc-c"},
                                        {"10.96.0.4", "svc-d"}})};
  std::vector<Op> ops = planChanges(want, {});
  auto txns = splitTransactions(ops, 4, true);
  ASSERT_GT(txns.size(), 1u);
  std::vector<std::string> joined;
  for (const auto& txn : txns) {
    EXPECT_LE(messages(txn), 4u);
    for (const Op& op : txn) {
      if (op.kind != Op::Kind::kAddElements) {
        joined.push_back(describe(op));
        continue;
      }
      for (const Element* e : op.elements) {
        Op one = op;
        one.elements = {e};
        joined.push_back(describe(one));
      }
    }
  }
  std::vector<std::string> whole;
  for (const Op& op : ops) {
    for (size_t i = 0; i < std::max<size_t>(1, op.elements.size()); ++i) {
      Op one = op;
      if (!op.elements.empty()) one.elements = {op.elements[i]};
      whole.push_back(describe(one));
    }
  }
  EXPECT_EQ(joined, whole) << "the same operations in the same order";
  // Without knowing that no table was there, the replacement is one transaction.
  EXPECT_EQ(splitTransactions(ops, 4).size(), 1u);
}

TEST(NftPlanSplit, NothingSplitsAfterAnOperationThatRemoves) {
  std::vector<Table> have{serviceTable({{"10.96.0.1", "svc-a"}})};
  std::vector<Table> want{
      serviceTable({{"10.96.0.2", "svc-b"}, {"10.96.0.3", "svc-c"}, {"10.96.0.4", "svc-d"}})};
  std::vector<Op> ops = planChanges(want, have);
  // add chain x3, then a delete: only the leading additions may go first.
  auto txns = splitTransactions(ops, 2);
  ASSERT_EQ(txns.size(), 2u);
  EXPECT_EQ(txns[0].size(), 2u);
  EXPECT_EQ(txns[1].size(), ops.size() - 2);
}

}  // namespace
}  // namespace berth::nft
