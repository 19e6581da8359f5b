// The lane layout and the reduction the few-rows GEMMs share (matmul_gemm_rows.wgsl, f32
// activations; matmul_w8a8_rows.wgsl, 8-bit ones). A workgroup owns UT = 4 * UG units (unit u is
// output columns 4u .. 4u + 3) and splits K over KS = 8 * KW lanes: in each group of 32
// invocations, 4 units x 8 lanes (lane lo = t % 8, unit t / 8 % 4, group t / 32 % KW, t / (32 KW)
// the unit group). Each invocation sums its chunks of K into ACC vec4 accumulators, one per row of
// x (the first MR used); reduce_round adds the lanes' sums through `red` (declared by the kernel,
// at least RED + RED2 vec4s), 2 rows of x per round, and stores them (store and bias come from the
// output layout, N from the kernel). Dispatch: (ceil(UNITS / UT), ceil(rows / MR)).
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
