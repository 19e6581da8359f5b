// The few-rows GEMMs' reduction through subgroup shuffles (matmul_gemm_rows.wgsl and
// matmul_w8a8_rows.wgsl with SG_REDUCE; rows_reduce.ts), after matmul_rows_lanes.wgsl; prepended:
// `enable subgroups;` (first in the module) and `const SGW: u32`,
// the lanes of a unit that share a subgroup (min(subgroup size, KL)). Each unit's KL lanes (KL
// consecutive invocations) add up in log2(SGW) shuffle steps, then the KL / SGW partials of every
// (row of x, group along K) meet in `red`: one barrier for all MR rows, where reduce_round takes
// three per two rows.
const SGP: u32 = KL / SGW; // partials per unit and group along K

// Row i of x (its accumulator v): the shuffles, and the partial into red.
fn sg_row(i: u32, v: vec4<f32>, t: u32) {
  var s = v;
  for (var o = 1u; o < SGW; o <<= 1u) { s += subgroupShuffleXor(s, o); }
  let lo = t % KL;
  if (lo % SGW == 0u) {
    let ui = (t / KL) % UW;
    let kw = (t / 32u) % KW;
    let ug = t / (32u * KW);
    red[((i * KW + kw) * SGP + lo / SGW) * UT + ug * UW + ui] = s;
  }
}

// After sg_row for every row: the partials of each (row, unit) summed and stored.
fn sg_store(t: u32, m0: u32, rows: u32, wx: u32) {
  workgroupBarrier();
  for (var q = t; q < MR * UT; q += WG) {
    let i = q / UT;
    let ut = q % UT;
    var s = vec4<f32>(0.0);
    for (var p = 0u; p < KW * SGP; p++) { s += red[(i * KW * SGP + p) * UT + ut]; }
    let m = m0 + i;
    let uo = wx * UT + ut;
    if (m < rows && uo < UNITS) { store_unit(m, uo, s); }
  }
}
