// Replica counts from real-valued formulas: every policy computes in double (ratios,
// rates, exponentials) and converts here, so a huge but valid load saturates instead of
// overflowing the int.
#ifndef HEARTH_LIB_AUTOSCALE_REPLICA_COUNT_H_
#define HEARTH_LIB_AUTOSCALE_REPLICA_COUNT_H_

#include <climits>

namespace hearth {

// x truncated toward zero and clamped to [0, INT_MAX]; NaN gives 0. Callers round first
// (std::ceil, std::floor) as their rule says.
inline int ToReplicas(double x) {
  if (!(x > 0)) return 0;
  if (x >= static_cast<double>(INT_MAX)) return INT_MAX;
  return static_cast<int>(x);
}

}  // namespace hearth

#endif  // HEARTH_LIB_AUTOSCALE_REPLICA_COUNT_H_
