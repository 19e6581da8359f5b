// Lane reduction for matmul_gemv_vec.wgsl with subgroup shuffles (`subgroups` feature), used when
// a row group's TPR lanes fit in one subgroup: a butterfly of log2(TPR) steps, no barriers. Lanes
// of a row group are consecutive local indices, and 1-D workgroups are split into subgroups of
// consecutive indices on every implementation we know of; the kernel tests check it on each
// adapter they run on. Every lane ends with the sum.
fn reduce_lanes(t: u32, lane: u32, mine: Lanes) -> Lanes {
  var out = mine;
  for (var o = TPR / 2u; o > 0u; o >>= 1u) {
    for (var q = 0u; q < UPT; q++) { out.acc[q] += subgroupShuffleXor(out.acc[q], o); }
    if (NORM) { out.ss += subgroupShuffleXor(out.ss, o); }
  }
  return out;
}
