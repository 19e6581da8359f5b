// Next-token sampling on the GPU, one workgroup of 256 invocations, HF logits-processor order:
//   (a) repetition penalty over the set of tokens in history[0, kv_len)
//   (b) temperature 0 -> argmax (lowest index on ties); else x / temperature
//   (c) top-k: keep x >= the k-th largest value (exact radix select, 4 passes of 8 bits)
//   (d) top-p: keep x >= the largest threshold whose softmax mass over (c)'s survivors reaches
//       top_p (bisection on the order-preserving u32 key of x, at most 32 passes)
//   (e) u = uniform(seed, kv_len); pick by cumulative mass over survivors in index order
// The token goes to ids[0] (next step's input) and history[kv_len] (the runner reads it back, and
// the next penalty sees it). src/model/sampling.ts is the plain-TS twin, RNG bit-exact.
//
// Survivors are always "key(x) >= thr" for one u32 threshold, so (c) and (d) compose without a
// mask buffer, and ties at a cut are kept together.
//
// Plain greedy decoding (temperature 0, no repetition penalty) skips all of that: `argmax_partial`
// spreads the vocabulary over many workgroups (one alone walks 128k logits far slower than the
// whole lm_head takes) and `argmax_final` reduces their winners. Same answer: lowest index on ties.
struct SampleParams {
  temperature: f32,
  top_k: u32,
  top_p: f32,
  penalty: f32,
  seed: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;        // [step.logit_rows, VOCAB]
@group(0) @binding(1) var<storage, read_write> history: array<u32>; // [MAX_CTX]
@group(0) @binding(2) var<storage, read_write> ids: array<u32>;     // [>= 1]
@group(0) @binding(3) var<uniform> step: Step;
@group(0) @binding(4) var<uniform> params: SampleParams;
@group(0) @binding(5) var<storage, read_write> work: array<f32>;    // [VOCAB] processed logits

override VOCAB: u32;
override MAX_CTX: u32;
// 256 both as the workgroup size and as the radix-select histogram (8 bits per pass).
const WG = 256u;

var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> hist: array<atomic<u32>, WG>;
var<workgroup> sel: vec2<u32>;   // radix select: chosen bin, rank within it
var<workgroup> draw_chunk: u32;        // (e): the chunk holding the draw
var<workgroup> draw_mass: vec2<f32>;   // (e): mass before that chunk, mass to pass

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

// Workgroup sum; every invocation gets the same (uniform) value back.
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

// Softmax mass (relative to exp(m)) of the values with key >= thr, this invocation's stride.
fn mass_strided(t: u32, thr: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var i = t; i < VOCAB; i += WG) {
    let x = work[i];
    if (okey(x) >= thr) { s += exp(x - m); }
  }
  return s;
}

fn emit(tok: u32) {
  ids[0] = tok;
  if (step.kv_len < MAX_CTX) { history[step.kv_len] = tok; }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) t: u32) {
  let base = (max(step.logit_rows, 1u) - 1u) * VOCAB;
  let greedy = !(params.temperature > 0.0);
  let temp = select(params.temperature, 1.0, greedy);

  // (a) + (b): work = penalized logits / temperature. The penalty pass rewrites a token from its
  // raw logit, so a token repeated in history is penalized once, and duplicate writes agree.
  for (var i = t; i < VOCAB; i += WG) { work[i] = logits[base + i] / temp; }
  if (params.penalty != 1.0) {
    storageBarrier();
    let n = min(step.kv_len, MAX_CTX);
    for (var j = t; j < n; j += WG) {
      let tok = history[j];
      if (tok < VOCAB) {
        let l = logits[base + tok];
        work[tok] = select(l * params.penalty, l / params.penalty, l > 0.0) / temp;
      }
    }
  }
  storageBarrier();

  // Argmax: the greedy answer, and the max that keeps every exp below 1.
  let first = min(t, VOCAB - 1u);
  var bv = work[first];
  var bi = first;
  for (var i = t + WG; i < VOCAB; i += WG) {
    let v = work[i];
    if (v > bv) { bv = v; bi = i; }
  }
  let best = argmax_all(t, bv, bi);
  if (greedy) {
    if (t == 0u) { emit(best.i); }
    return;
  }
  let m = best.v;

  // (c) Top-k: radix select of the k-th largest key, most significant byte first.
  var thr = 0u;
  let k = params.top_k;
  if (k > 0u && k < VOCAB) {
    var prefix = 0u;
    var mask = 0u;
    var want = k;
    for (var digit = 0u; digit < 4u; digit++) {
      let shift = 24u - 8u * digit;
      atomicStore(&hist[t], 0u);
      workgroupBarrier();
      for (var i = t; i < VOCAB; i += WG) {
        let key = okey(work[i]);
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
    thr = prefix;
  }

  // (d) Top-p: the largest key threshold whose mass still reaches top_p of the top-k mass. It
  // lands exactly on a logit value, the last one of HF's sorted cumulative prefix.
  if (params.top_p < 1.0) {
    let goal = params.top_p * sum_all(t, mass_strided(t, thr, m));
    var lo = thr;       // always reaches the goal
    var hi = okey(m);
    loop {
      if (lo >= hi) { break; }
      let mid = lo + (hi - lo + 1u) / 2u;
      if (sum_all(t, mass_strided(t, mid, m)) >= goal) { lo = mid; } else { hi = mid - 1u; }
    }
    thr = lo;
  }

  // (e) Draw: contiguous chunks per invocation so chunk order is index order; invocation 0 scans
  // the 256 chunk masses, then the owner of the chosen chunk walks it.
  let chunk = (VOCAB + WG - 1u) / WG;
  let c0 = min(t * chunk, VOCAB);
  let c1 = min(c0 + chunk, VOCAB);
  var s = 0.0;
  for (var i = c0; i < c1; i++) {
    let x = work[i];
    if (okey(x) >= thr) { s += exp(x - m); }
  }
  red_f[t] = s;
  workgroupBarrier();
  if (t == 0u) {
    var total = 0.0;
    for (var j = 0u; j < WG; j++) { total += red_f[j]; }
    let goal = uniform01(params.seed, step.kv_len) * total;
    var acc = 0.0;
    var pick = 0u;
    var before = 0.0;
    // The first chunk whose end passes the goal; else (rounding) the last non-empty chunk.
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
  if (t == workgroupUniformLoad(&draw_chunk)) {
    let d = draw_mass;
    var acc = d.x;
    var tok = c0;
    for (var i = c0; i < c1; i++) {
      let x = work[i];
      if (okey(x) >= thr) {
        acc += exp(x - m);
        tok = i;
        if (acc > d.y) { break; }
      }
    }
    emit(tok);
  }
}

// Greedy fast path, first dispatch: workgroup w finds the best of logits [w * PART, (w+1) * PART)
// and leaves (value, index) in work[2w], work[2w + 1] (the index as an f32: exact below 2^24).
const PART: u32 = 4096u;
override PARTS: u32 = (VOCAB + PART - 1u) / PART;

@compute @workgroup_size(WG)
fn argmax_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let base = (max(step.logit_rows, 1u) - 1u) * VOCAB;
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
