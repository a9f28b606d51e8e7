#include "kernels/cpu/dispatch.h"

#include <atomic>

namespace hearth::cpu {
namespace {

KernelTable MakePortable() {
  KernelTable table{};
  table.name = "portable";
  FillPortableMatMul(table);
  FillPortableOps(table);
  return table;
}

bool CpuHasAvx2Fma() {
#if defined(HEARTH_KERNELS_AVX2)
  // F16C shipped on every CPU that has AVX2 and FMA, so it is not checked separately.
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const KernelTable* MakeAvx2() {
#if defined(HEARTH_KERNELS_AVX2)
  if (!CpuHasAvx2Fma()) return nullptr;
  static const KernelTable table = [] {
    KernelTable t{};
    t.name = "avx2";
    FillAvx2MatMul(t);
    FillAvx2Ops(t);
    return t;
  }();
  return &table;
#else
  return nullptr;
#endif
}

bool CpuHasAvx512Vnni() {
#if defined(HEARTH_KERNELS_AVX512VNNI)
  // vpdpwssd on 512- and 256-bit vectors needs AVX512_VNNI and AVX512VL, the 512-bit
  // int16 products AVX512BW; the table also uses the AVX2 kernels.
  return CpuHasAvx2Fma() && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

const KernelTable* MakeAvx512Vnni() {
#if defined(HEARTH_KERNELS_AVX512VNNI)
  if (!CpuHasAvx512Vnni()) return nullptr;
  static const KernelTable table = [] {
    // The AVX2 table with the quantised products replaced: float weights gain nothing
    // from VNNI.
    KernelTable t{};
    t.name = "avx512vnni";
    FillAvx2MatMul(t);
    FillAvx2Ops(t);
    FillAvx512VnniMatMul(t);
    return t;
  }();
  return &table;
#else
  return nullptr;
#endif
}

std::atomic<const KernelTable*> forced{nullptr};

}  // namespace

const KernelTable& PortableKernels() {
  static const KernelTable table = MakePortable();
  return table;
}

const KernelTable* Avx2Kernels() {
  static const KernelTable* const table = MakeAvx2();
  return table;
}

const KernelTable* Avx512VnniKernels() {
  static const KernelTable* const table = MakeAvx512Vnni();
  return table;
}

const KernelTable& ActiveKernels() {
  // Chosen once, the same table for every call whatever its shape, which is what keeps
  // results batch-invariant; the function-local static makes the first call thread-safe.
  static const KernelTable& detected = Avx512VnniKernels() ? *Avx512VnniKernels()
                                       : Avx2Kernels()     ? *Avx2Kernels()
                                                           : PortableKernels();
  const KernelTable* table = forced.load(std::memory_order_relaxed);
  return table != nullptr ? *table : detected;
}

std::vector<const KernelTable*> AvailableKernels() {
  std::vector<const KernelTable*> tables = {&PortableKernels()};
  if (Avx2Kernels() != nullptr) tables.push_back(Avx2Kernels());
  if (Avx512VnniKernels() != nullptr) tables.push_back(Avx512VnniKernels());
  return tables;
}

void ForceKernelsForTesting(const KernelTable* table) {
  forced.store(table, std::memory_order_relaxed);
}

}  // namespace hearth::cpu
