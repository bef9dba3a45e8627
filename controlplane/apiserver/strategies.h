#pragma once
// The strategies of the served resources that have rules of their own (one object each, no
// state: what a strategy needs of the world comes in through admission).
#include "controlplane/apiserver/strategy.h"

namespace berth::controlplane::apiserver {

const Strategy& podStrategy();
const Strategy& nodeStrategy();
const Strategy& namespaceStrategy();
const Strategy& serviceStrategy();
const Strategy& endpointsStrategy();
const Strategy& endpointSliceStrategy();
const Strategy& eventStrategy();
const Strategy& secretStrategy();
// A type with a status subresource and nothing else of its own (PV, PVC).
const Strategy& statusStrategy();
// apps and batch workloads (workload_strategies.cpp): generation, status subresource, an
// immutable selector that matches the template, the defaults of each kind.
const Strategy& deploymentStrategy();
const Strategy& replicaSetStrategy();
const Strategy& daemonSetStrategy();
const Strategy& statefulSetStrategy();
const Strategy& jobStrategy();
const Strategy& cronJobStrategy();
const Strategy& csrStrategy();
const Strategy& rbacStrategy();

}  // namespace berth::controlplane::apiserver
