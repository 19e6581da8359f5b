// The lane layout and the reduction the few-rows GEMMs share (matmul_gemm_rows.wgsl, f32
// activations; matmul_w8a8_rows.wgsl, 8-bit ones). A workgroup owns UT = 4 * UG units (unit u is
// output columns 4u .. 4u + 3) and splits K over KS = 8 * KW lanes: in each group of 32
// invocations, 4 units x 8 lanes (lane lo = t % 8, unit t / 8 % 4, group t / 32 % KW, t / (32 KW)
// the unit group). Each invocation sums its chunks of K into ACC vec4 accumulators, one per row of
// x (the first MR used); reduce_rows adds the lanes' sums through `red` (declared by the kernel,
// at least RED + RED2 vec4s, or SG_LEN for the shuffle form) and stores them (store and bias come
// from the output layout, N and MR from the kernel). Dispatch: (ceil(UNITS / UT), ceil(rows / MR)),
// or the other way round where the kernel's ROWS_X (unit_block, first_row; the kernel prepends MR and ROWS_X).
override UNITS: u32 = (N + 3u) / 4u;
override KW: u32 = 4u; // groups of 32 invocations along K
override UG: u32 = 2u; // groups of 32 invocations along N
override WG: u32 = 32u * KW * UG;

const KL: u32 = 8u;  // lanes of a unit within a group of 32
const UW: u32 = 4u;  // units within a group of 32
override KS: u32 = KL * KW;  // lanes along K
override UT: u32 = UW * UG;  // units per workgroup
const RR: u32 = 2u; // rows of x per round of the reduction
const ACC: u32 = 16u; // accumulators declared (the largest MR); the first MR are used
override RED: u32 = RR * WG;       // RR rows of partial sums per round
override RED2: u32 = RR * UT * KW; // RR rows of sums over each group's 8 lanes

// The workgroup's unit block and first row (rowsDispatch in rows_reduce.ts lays the grid out).
fn unit_block(wid: vec3<u32>) -> u32 { return select(wid.x, wid.y, ROWS_X); }
fn first_row(wid: vec3<u32>) -> u32 { return select(wid.y, wid.x, ROWS_X) * MR; }

fn unit_rows(u: u32) -> vec4<u32> {
  let n = 4u * min(u, UNITS - 1u);
  return min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), vec4<u32>(N - 1u));
}

fn store_unit(m: u32, u: u32, v: vec4<f32>) {
  for (var c = 0u; c < 4u; c++) {
    let n = 4u * u + c;
    if (n < N) { store(m, n, v[c] + bias(n)); }
  }
}

// Round g of the reduction: rows m0 + 2g (a) and m0 + 2g + 1 (b). Each group's 8 lanes first (one
// invocation per unit, group and row), then the KW groups (one invocation per unit and row).
fn reduce_round(t: u32, g: u32, a: vec4<f32>, b: vec4<f32>, m0: u32, rows: u32, wx: u32) {
  red[t] = a;
  red[WG + t] = b;
  workgroupBarrier();
  if (t < RED2) {
    // t = (q, group 32-block b, unit ui within it); the block's 8 lanes of that unit.
    let q = t / (UT * KW);
    let rest = t % (UT * KW);
    let bk = rest / UW;
    let uu = rest % UW;
    let base = q * WG + bk * 32u + uu * KL;
    var s = vec4<f32>(0.0);
    for (var l = 0u; l < KL; l++) { s += red[base + l]; }
    red[RED + t] = s;
  }
  workgroupBarrier();
  if (t < RR * UT) {
    let q = t / UT;
    let ut = t % UT; // = ug' * UW + ui'
    let ugx = ut / UW;
    let uix = ut % UW;
    var s = vec4<f32>(0.0);
    // Block b = ugx * KW + kw' holds (ugx, kw') : t = lo + KL * ui + 32 * kw + 32 * KW * ug.
    for (var k2 = 0u; k2 < KW; k2++) { s += red[RED + q * UT * KW + (ugx * KW + k2) * UW + uix]; }
    let m = m0 + RR * g + q;
    let uo = wx * UT + ut;
    if (m < rows && uo < UNITS) { store_unit(m, uo, s); }
  }
  workgroupBarrier();
}

// The KS lanes' sums of every row of x, stored: through subgroup shuffles with one barrier for all
// rows (SG_REDUCE, rows_reduce.ts), or RR = 2 rows per round through workgroup memory. Each
// accumulator is named by a constant index: a loop over them (with its barriers) can keep the
// compiler from unrolling it, and the array then lives in local memory for the whole kernel.
fn reduce_rows(t: u32, acc: ptr<function, array<vec4<f32>, ACC>>, m0: u32, rows: u32, wx: u32) {
  if (SG_REDUCE) {
    sg_row(0u, (*acc)[0], t);
    sg_row(1u, (*acc)[1], t);
    if (MR > 2u) { sg_row(2u, (*acc)[2], t); sg_row(3u, (*acc)[3], t); }
    if (MR > 4u) { sg_row(4u, (*acc)[4], t); sg_row(5u, (*acc)[5], t); sg_row(6u, (*acc)[6], t); sg_row(7u, (*acc)[7], t); }
    if (MR > 8u) {
      sg_row(8u, (*acc)[8], t); sg_row(9u, (*acc)[9], t); sg_row(10u, (*acc)[10], t); sg_row(11u, (*acc)[11], t);
      sg_row(12u, (*acc)[12], t); sg_row(13u, (*acc)[13], t); sg_row(14u, (*acc)[14], t); sg_row(15u, (*acc)[15], t);
    }
    sg_store(t, m0, rows, wx);
    return;
  }
  reduce_round(t, 0u, (*acc)[0], (*acc)[1], m0, rows, wx);
  if (MR > 2u) { reduce_round(t, 1u, (*acc)[2], (*acc)[3], m0, rows, wx); }
  if (MR > 4u) {
    reduce_round(t, 2u, (*acc)[4], (*acc)[5], m0, rows, wx);
    reduce_round(t, 3u, (*acc)[6], (*acc)[7], m0, rows, wx);
  }
  if (MR > 8u) {
    reduce_round(t, 4u, (*acc)[8], (*acc)[9], m0, rows, wx);
    reduce_round(t, 5u, (*acc)[10], (*acc)[11], m0, rows, wx);
    reduce_round(t, 6u, (*acc)[12], (*acc)[13], m0, rows, wx);
    reduce_round(t, 7u, (*acc)[14], (*acc)[15], m0, rows, wx);
  }
}
