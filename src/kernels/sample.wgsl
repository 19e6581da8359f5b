// Next-token sampling on the GPU, HF logits-processor order:
//   (a) repetition penalty over the set of tokens in history[0, kv_len)
//   (b) temperature 0 -> argmax (lowest index on ties); else x / temperature
//   (c) top-k: keep x >= the k-th largest value (exact radix select, 4 passes of 8 bits)
//   (d) top-p: keep x >= the largest threshold whose softmax mass over (c)'s survivors reaches
//       top_p (bisection on the order-preserving u32 key of x, at most 32 passes)
//   (e) u = uniform(seed, kv_len); pick by cumulative mass over survivors in index order
// The token goes to ids[0] (next step's input) and history[kv_len] (the runner reads it back, and
// the next penalty sees it). In a batched pass (STEP_ROWS_WGSL's BATCHED) the binding samples
// logits row params.row into ids[params.row], for the sequence of step row params.table_row: its
// history starts at that row's cache base, and kv_len is that row's position + 1. src/model/sampling.ts is the plain-TS twin, RNG bit-exact.
//
// Survivors are always "key(x) >= thr" for one u32 threshold, so (c) and (d) compose without a
// mask buffer, and ties at a cut are kept together.
//
// One workgroup walking a 128k vocabulary 30-odd times for (d) costs milliseconds, more than the
// rest of a 1B model's step, so the work is spread (src/kernels/sample.ts picks the passes):
//   sample_prep    (a) + (b) into work[], per part of SPART logits: its max and argmax
//   sample_stats   per part: its softmax mass, and count + mass above NB thresholds m - dist(j)
//   sample_select  every workgroup sums the parts' figures the same way and picks the highest
//                  threshold that provably holds every survivor of (c) and (d) (the top-k set,
//                  or mass >= top_p of the total) with at most CAP tokens; each part writes its
//                  tokens above it, in index order
//   sample_final   one workgroup: (c), (d) and (e) over those candidates, or over all of work[]
//                  when no threshold qualifies (a flat distribution; slow but exact)
// Plain temperature sampling skips sample_select and draws inside the part the mass falls in;
// greedy with a repetition penalty runs sample_prep + sample_final. Plain greedy decoding
// (temperature 0, no penalty) takes `argmax_partial` + `argmax_final` below.
struct SampleParams {
  temperature: f32,
  top_k: u32,
  top_p: f32,
  penalty: f32,
  seed: u32,
  row: u32,       // batched: the logits row sampled and the ids slot written
  table_row: u32, // batched: the step-table row of the sequence (its history and position)
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;        // [step.logit_rows, VOCAB]
@group(0) @binding(1) var<storage, read_write> history: array<u32>; // [sequences * MAX_CTX]
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;     // [>= 1]
@group(0) @binding(3) var<uniform> step: Step;
@group(0) @binding(4) var<uniform> params: SampleParams;
@group(0) @binding(5) var<storage, read_write> work: array<f32>;    // [VOCAB] processed logits
@group(0) @binding(6) var<storage, read_write> scratch: array<u32>; // [SCRATCH_WORDS], layout below

override VOCAB: u32;
override MAX_CTX: u32;
// 256 both as the workgroup size and as the radix-select histogram (8 bits per pass).
const WG = 256u;
// Logits per workgroup of the spread passes; at most WG parts (VOCAB <= 262144).
const SPART = 1024u;
override SPARTS: u32 = (VOCAB + SPART - 1u) / SPART;
// Candidate thresholds m - dist(j), and the most candidates sample_final takes.
const NB = 32u;
const CAP = 4096u;
// Fixed point for the per-threshold masses (integer atomics; a part's sum stays below 2^31).
const MASS_ONE = 2097152.0;
// scratch layout, in u32 words
override OFF_PA: u32 = SPARTS;                 // [SPARTS] argmax of each part (max at 0)
override OFF_PT: u32 = 2u * SPARTS;            // [SPARTS] f32 softmax mass of each part
override OFF_PB: u32 = 3u * SPARTS;            // [SPARTS][2 NB] count, then fixed-point mass, per threshold
override OFF_PC: u32 = OFF_PB + 2u * NB * SPARTS; // [SPARTS] candidates each part wrote
override OFF_CH: u32 = OFF_PC + SPARTS;        // the chosen threshold (NB: none)
override OFF_CI: u32 = OFF_CH + 1u;            // [VOCAB] candidates, part w's from w * SPART
override OFF_GI: u32 = OFF_CI + VOCAB;         // [CAP] gathered candidate indices
override OFF_GV: u32 = OFF_GI + CAP;           // [CAP] their values (f32)

var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> hist: array<atomic<u32>, WG>;
var<workgroup> hmass: array<atomic<u32>, NB>;
var<workgroup> sel: vec2<u32>;   // radix select: chosen bin, rank within it
var<workgroup> draw_chunk: u32;        // (e): the chunk holding the draw
var<workgroup> draw_mass: vec2<f32>;   // (e): mass before that chunk, mass to pass
var<workgroup> choice: u32;

struct Best { v: f32, i: u32 }

// Order-preserving map f32 -> u32 (a < b <=> key(a) < key(b)); -0 folds onto +0 so equal
// values always share a key.
fn okey(f: f32) -> u32 {
  let b = select(bitcast<u32>(f), 0u, f == 0.0);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn uniform01(seed: u32, counter: u32) -> f32 {
  return f32(pcg(pcg(seed) + counter) >> 8u) * (1.0 / 16777216.0);
}

// Workgroup sum (a fixed tree: the same inputs give the same bits); every invocation gets it.
fn sum_all(t: u32, v: f32) -> f32 {
  red_f[t] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red_f[t] += red_f[t + s]; }
    workgroupBarrier();
  }
  let r = workgroupUniformLoad(&red_f[0]);
  workgroupBarrier(); // nobody may overwrite red_f before everyone has read it
  return r;
}

// Inclusive prefix sum over the workgroup.
fn scan_u(t: u32, v: u32) -> u32 {
  red_u[t] = v;
  workgroupBarrier();
  for (var o = 1u; o < WG; o <<= 1u) {
    let a = select(0u, red_u[max(t, o) - o], t >= o);
    workgroupBarrier();
    red_u[t] += a;
    workgroupBarrier();
  }
  let r = red_u[t];
  workgroupBarrier();
  return r;
}

// Workgroup argmax, lowest index on ties.
fn argmax_all(t: u32, v: f32, i: u32) -> Best {
  red_f[t] = v;
  red_u[t] = i;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) {
      let ov = red_f[t + s];
      let oi = red_u[t + s];
      if (ov > red_f[t] || (ov == red_f[t] && oi < red_u[t])) {
        red_f[t] = ov;
        red_u[t] = oi;
      }
    }
    workgroupBarrier();
  }
  let b = Best(workgroupUniformLoad(&red_f[0]), workgroupUniformLoad(&red_u[0]));
  workgroupBarrier();
  return b;
}

fn kv_len() -> u32 {
  if (BATCHED) { return step.table[params.table_row].y + 1u; }
  return step.kv_len;
}
// Where the sequence's history starts (its cache base).
fn hist0() -> u32 {
  if (BATCHED) { return step.table[params.table_row].x; }
  return 0u;
}

fn emit(tok: u32) {
  ids[select(0u, params.row, BATCHED)] = tok;
  if (kv_len() < MAX_CTX) { history[hist0() + kv_len()] = tok; }
}

fn row_base() -> u32 {
  if (BATCHED) { return params.row * VOCAB; }
  return (max(step.logit_rows, 1u) - 1u) * VOCAB;
}
fn part_end(w: u32) -> u32 { return min(w * SPART + SPART, VOCAB); }
fn top_k_on() -> bool { return params.top_k > 0u && params.top_k < VOCAB; }

// The best of the parts' maxima (lowest index on ties): the greedy token and the max m that keeps
// every exp below 1.
fn global_best(t: u32) -> Best {
  let w = min(t, SPARTS - 1u);
  return argmax_all(t, bitcast<f32>(scratch[w]), scratch[OFF_PA + w]);
}

// Total softmax mass (relative to exp(m)): the parts' masses through one fixed tree.
fn global_mass(t: u32) -> f32 {
  return sum_all(t, select(0.0, bitcast<f32>(scratch[OFF_PT + t]), t < SPARTS));
}

// Threshold j is x >= m - dist(j): steps of 1/4 to 4, of 1/2 to 8, of 2 to 22.
fn dist(j: u32) -> f32 {
  let f = f32(j);
  return select(select(8.0 + 2.0 * (f - 24.0), 4.0 + 0.5 * (f - 16.0), j < 24u), 0.25 * f, j < 16u);
}

// The first threshold x passes (NB: none); thresholds fall as j grows.
fn bucket(x: f32, m: f32) -> u32 {
  var lo = 0u;
  var hi = NB;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (x >= m - dist(mid)) { hi = mid; } else { lo = mid + 1u; }
  }
  return lo;
}

@compute @workgroup_size(WG)
fn sample_prep(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = row_base();
  let temp = select(params.temperature, 1.0, !(params.temperature > 0.0));
  let start = wid.x * SPART;
  let end = part_end(wid.x);
  // (a) + (b): work = penalized logits / temperature. The penalty pass rewrites a token from its
  // raw logit, so a token repeated in history is penalized once, and duplicate writes agree.
  for (var i = start + t; i < end; i += WG) { work[i] = logits[base + i] / temp; }
  if (params.penalty != 1.0) {
    storageBarrier();
    let n = min(kv_len(), MAX_CTX);
    let h0 = hist0();
    for (var j = t; j < n; j += WG) {
      let tok = history[h0 + j];
      if (tok >= start && tok < end) {
        let l = logits[base + tok];
        work[tok] = select(l * params.penalty, l / params.penalty, l > 0.0) / temp;
      }
    }
  }
  storageBarrier();
  let first = min(start + t, end - 1u);
  var bv = work[first];
  var bi = first;
  for (var i = start + t + WG; i < end; i += WG) {
    let v = work[i];
    if (v > bv) { bv = v; bi = i; }
  }
  let best = argmax_all(t, bv, bi);
  if (t == 0u) {
    scratch[wid.x] = bitcast<u32>(best.v);
    scratch[OFF_PA + wid.x] = best.i;
  }
}

@compute @workgroup_size(WG)
fn sample_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let m = global_best(t).v;
  if (t < NB) {
    atomicStore(&hist[t], 0u);
    atomicStore(&hmass[t], 0u);
  }
  workgroupBarrier();
  var s = 0.0;
  for (var i = wid.x * SPART + t; i < part_end(wid.x); i += WG) {
    let x = work[i];
    let e = exp(x - m);
    s += e;
    let j = bucket(x, m);
    if (j < NB) {
      atomicAdd(&hist[j], 1u);
      atomicAdd(&hmass[j], u32(e * MASS_ONE));
    }
  }
  let total = sum_all(t, s); // also the barrier after the atomics
  let o = OFF_PB + wid.x * 2u * NB;
  if (t < NB) {
    scratch[o + t] = atomicLoad(&hist[t]);
    scratch[o + NB + t] = atomicLoad(&hmass[t]);
  }
  if (t == 0u) { scratch[OFF_PT + wid.x] = bitcast<u32>(total); }
}

@compute @workgroup_size(WG)
fn sample_select(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let m = global_best(t).v;
  let zall = global_mass(t);
  // Per threshold, summed over the parts in order: every workgroup gets the same bits.
  if (t < NB) {
    var c = 0u;
    var ms = 0.0;
    for (var w = 0u; w < SPARTS; w++) {
      c += scratch[OFF_PB + w * 2u * NB + t];
      ms += f32(scratch[OFF_PB + w * 2u * NB + NB + t]);
    }
    red_u[t] = c;
    red_f[t] = ms * (1.0 / MASS_ONE);
  }
  workgroupBarrier();
  if (t == 0u) {
    // The highest threshold whose tokens surely hold every survivor: at least k of them, or (no
    // top-k) mass >= top_p of the total. The fixed-point masses are rounded down and the margin
    // covers f32 rounding, so the candidates' own mass in sample_final still reaches the goal.
    let goal = params.top_p * zall * 1.0001;
    var c = 0u;
    var ms = 0.0;
    var pick = NB;
    for (var j = 0u; j < NB; j++) {
      c += red_u[j];
      ms += red_f[j];
      if (c > CAP) { break; }
      if (select(ms >= goal, c >= params.top_k, top_k_on())) {
        pick = j;
        break;
      }
    }
    choice = pick;
    if (wid.x == 0u) { scratch[OFF_CH] = pick; }
  }
  let j = workgroupUniformLoad(&choice);
  if (j >= NB) { return; }
  // This part's tokens with x >= thr, in index order: four consecutive ones per invocation.
  let thr = m - dist(j);
  let i0 = wid.x * SPART + 4u * t;
  let end = part_end(wid.x);
  var mine = 0u;
  for (var i = i0; i < min(i0 + 4u, end); i++) {
    if (work[i] >= thr) { mine++; }
  }
  var at = scan_u(t, mine) - mine;
  for (var i = i0; i < min(i0 + 4u, end); i++) {
    if (work[i] >= thr) {
      scratch[OFF_CI + wid.x * SPART + at] = i;
      at++;
    }
  }
  if (t == WG - 1u) { scratch[OFF_PC + wid.x] = at; }
}

// sample_final works on a set S of n tokens in index order: the gathered candidates, or the range
// work[s_base, s_base + n).
var<private> s_cand: bool;
var<private> s_base: u32;
var<private> s_n: u32;

fn sval(s: u32) -> f32 {
  if (s_cand) { return bitcast<f32>(scratch[OFF_GV + s]); }
  return work[s_base + s];
}

fn sidx(s: u32) -> u32 {
  if (s_cand) { return scratch[OFF_GI + s]; }
  return s_base + s;
}

fn mass_of(x: f32, thr: u32, m: f32) -> f32 {
  return select(0.0, exp(x - m), okey(x) >= thr);
}

// Softmax mass (relative to exp(m)) of the members of S with key >= thr, this invocation's stride.
// Four independent loads an iteration: one workgroup walking the whole vocabulary (the fallback)
// waits on memory, not arithmetic.
fn mass_strided(t: u32, thr: u32, m: f32) -> f32 {
  var s = 0.0;
  var i = t;
  for (; i + 3u * WG < s_n; i += 4u * WG) {
    let a = sval(i);
    let b = sval(i + WG);
    let c = sval(i + 2u * WG);
    let d = sval(i + 3u * WG);
    s += (mass_of(a, thr, m) + mass_of(b, thr, m)) + (mass_of(c, thr, m) + mass_of(d, thr, m));
  }
  for (; i < s_n; i += WG) { s += mass_of(sval(i), thr, m); }
  return s;
}

// (c) Top-k over S: radix select of the k-th largest key, most significant byte first.
fn top_k_key(t: u32, k: u32) -> u32 {
  var prefix = 0u;
  var mask = 0u;
  var want = k;
  for (var digit = 0u; digit < 4u; digit++) {
    let shift = 24u - 8u * digit;
    atomicStore(&hist[t], 0u);
    workgroupBarrier();
    for (var i = t; i < s_n; i += WG) {
      let key = okey(sval(i));
      if ((key & mask) == prefix) { atomicAdd(&hist[(key >> shift) & 255u], 1u); }
    }
    workgroupBarrier();
    if (t == 0u) {
      var cum = 0u;
      var b = 255u;
      loop {
        let h = atomicLoad(&hist[b]);
        if (cum + h >= want || b == 0u) {
          sel = vec2<u32>(b, want - cum);
          break;
        }
        cum += h;
        b -= 1u;
      }
    }
    let s = workgroupUniformLoad(&sel);
    prefix |= s.x << shift;
    mask |= 255u << shift;
    want = s.y;
  }
  return prefix;
}

// Invocation t holds the mass of chunk t (chunks in index order): draw_chunk = the first chunk
// whose end passes `goal`, else (rounding) the last non-empty one; draw_mass = (mass before it,
// goal). Read them with workgroupUniformLoad.
fn pick_chunk(t: u32, mass: f32, goal: f32) {
  red_f[t] = mass;
  workgroupBarrier();
  if (t == 0u) {
    var acc = 0.0;
    var pick = 0u;
    var before = 0.0;
    for (var j = 0u; j < WG; j++) {
      let sj = red_f[j];
      if (sj > 0.0) {
        pick = j;
        before = acc;
        if (acc + sj > goal) { break; }
      }
      acc += sj;
    }
    draw_chunk = pick;
    draw_mass = vec2<f32>(before, goal);
  }
}

// (e) Draw: the first member of S with key >= thr whose cumulative mass passes `goal`. Contiguous
// chunks per invocation so chunk order is index order; invocation 0 scans the 256 chunk masses,
// then the owner of the chosen chunk walks it. Rounding past the end picks the last survivor.
fn draw(t: u32, thr: u32, m: f32, goal: f32) {
  let chunk = (s_n + WG - 1u) / WG;
  let c0 = min(t * chunk, s_n);
  let c1 = min(c0 + chunk, s_n);
  var s = 0.0;
  for (var i = c0; i < c1; i++) {
    let x = sval(i);
    if (okey(x) >= thr) { s += exp(x - m); }
  }
  pick_chunk(t, s, goal);
  if (t == workgroupUniformLoad(&draw_chunk)) {
    let d = draw_mass;
    var acc = d.x;
    var tok = c0;
    for (var i = c0; i < c1; i++) {
      let x = sval(i);
      if (okey(x) >= thr) {
        acc += exp(x - m);
        tok = i;
        if (acc > d.y) { break; }
      }
    }
    emit(sidx(tok));
  }
}

@compute @workgroup_size(WG)
fn sample_final(@builtin(local_invocation_index) t: u32) {
  let best = global_best(t);
  if (!(params.temperature > 0.0)) {
    if (t == 0u) { emit(best.i); }
    return;
  }
  let m = best.v;
  let zall = global_mass(t);
  let u = uniform01(params.seed, kv_len());
  let k_on = top_k_on();
  if (!k_on && !(params.top_p < 1.0)) {
    // Plain temperature: the part the draw falls in, then the draw inside it.
    pick_chunk(t, select(0.0, bitcast<f32>(scratch[OFF_PT + t]), t < SPARTS), u * zall);
    let p = workgroupUniformLoad(&draw_chunk);
    let g = workgroupUniformLoad(&draw_mass);
    s_cand = false;
    s_base = p * SPART;
    s_n = part_end(p) - s_base;
    draw(t, 0u, m, g.y - g.x);
    return;
  }

  if (t == 0u) { choice = scratch[OFF_CH]; }
  let j = workgroupUniformLoad(&choice);
  var thr = 0u;
  if (j < NB) {
    // Gather the parts' candidates into one list in index order.
    let cnt = select(0u, scratch[OFF_PC + t], t < SPARTS);
    let incl = scan_u(t, cnt);
    red_u[t] = incl - cnt; // exclusive: where part t's candidates start
    if (t == WG - 1u) { choice = incl; }
    let n = workgroupUniformLoad(&choice);
    for (var s = t; s < n; s += WG) {
      // The last part starting at or before s (empty parts share their successor's start).
      var lo = 0u;
      var hi = SPARTS - 1u;
      while (lo < hi) {
        let mid = (lo + hi + 1u) / 2u;
        if (red_u[mid] <= s) { lo = mid; } else { hi = mid - 1u; }
      }
      let idx = scratch[OFF_CI + lo * SPART + (s - red_u[lo])];
      scratch[OFF_GI + s] = idx;
      scratch[OFF_GV + s] = bitcast<u32>(work[idx]);
    }
    storageBarrier();
    workgroupBarrier();
    s_cand = true;
    s_n = n;
    thr = okey(m - dist(j));
  } else {
    s_cand = false;
    s_base = 0u;
    s_n = VOCAB;
  }

  if (k_on) { thr = top_k_key(t, params.top_k); }

  // (d) Top-p: the largest key threshold whose mass still reaches top_p of the top-k mass (of the
  // whole vocabulary without top-k). It lands exactly on a logit value, the last one of HF's
  // sorted cumulative prefix.
  if (params.top_p < 1.0) {
    let z = select(zall, sum_all(t, mass_strided(t, thr, m)), k_on);
    let goal = params.top_p * z;
    var lo = thr;       // always reaches the goal
    var hi = okey(m);
    loop {
      if (lo >= hi) { break; }
      let mid = lo + (hi - lo + 1u) / 2u;
      if (sum_all(t, mass_strided(t, mid, m)) >= goal) { lo = mid; } else { hi = mid - 1u; }
    }
    thr = lo;
  }
  draw(t, thr, m, u * sum_all(t, mass_strided(t, thr, m)));
}

// Greedy fast path, first dispatch: workgroup w finds the best of logits [w * PART, (w+1) * PART)
// and leaves (value, index) in work[2w], work[2w + 1] (the index as an f32: exact below 2^24).
const PART: u32 = 4096u;
override PARTS: u32 = (VOCAB + PART - 1u) / PART;

@compute @workgroup_size(WG)
fn argmax_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = row_base();
  let start = wid.x * PART;
  let end = min(start + PART, VOCAB);
  let first = min(start + t, end - 1u);
  var bv = logits[base + first];
  var bi = first;
  for (var i = start + t + WG; i < end; i += WG) {
    let v = logits[base + i];
    if (v > bv) { bv = v; bi = i; }
  }
  let best = argmax_all(t, bv, bi);
  if (t == 0u) {
    work[2u * wid.x] = best.v;
    work[2u * wid.x + 1u] = f32(best.i);
  }
}

// Greedy fast path, second dispatch (one workgroup): the best of the PARTS winners.
@compute @workgroup_size(WG)
fn argmax_final(@builtin(local_invocation_index) t: u32) {
  let first = min(t, PARTS - 1u);
  var bv = work[2u * first];
  var bi = u32(work[2u * first + 1u]);
  for (var p = t + WG; p < PARTS; p += WG) {
    let v = work[2u * p];
    let i = u32(work[2u * p + 1u]);
    if (v > bv || (v == bv && i < bi)) { bv = v; bi = i; }
  }
  let best = argmax_all(t, bv, bi);
  if (t == 0u) { emit(best.i); }
}

// Greedy for software adapters (SwiftShader), where a workgroup barrier is a coroutine switch per
// 4 invocations: the same two steps with no workgroup memory. First, invocation p scans logits
// [p * TPART, (p+1) * TPART) alone and leaves (value, index) in work[2p], work[2p + 1].
const TPART: u32 = 256u;
override TPARTS: u32 = (VOCAB + TPART - 1u) / TPART;

@compute @workgroup_size(16)
fn argmax_thread_partial(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  if (p >= TPARTS) { return; }
  let base = row_base();
  let start = p * TPART;
  let end = min(start + TPART, VOCAB);
  var bv = logits[base + start];
  var bi = start;
  for (var i = start + 1u; i < end; i++) {
    let v = logits[base + i];
    if (v > bv) { bv = v; bi = i; }
  }
  work[2u * p] = bv;
  work[2u * p + 1u] = f32(bi);
}

// Then one invocation takes the best of the parts (lowest index on ties: parts in index order).
@compute @workgroup_size(1)
fn argmax_thread_final() {
  var bv = work[0];
  var bi = u32(work[1]);
  for (var p = 1u; p < TPARTS; p++) {
    let v = work[2u * p];
    if (v > bv) { bv = v; bi = u32(work[2u * p + 1u]); }
  }
  emit(bi);
}
