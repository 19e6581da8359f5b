// Streaming-bandwidth probes for the kernel lab: the ceiling a weight-streaming GEMV is held to.
// `read_main` reads every 16-byte word of `src` once (grid-stride, consecutive threads on consecutive
// words) and keeps the data live through a store that depends on it; `copy_main` copies src to dst.
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn read_main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = arrayLength(&src);
  let stride = nwg.x * WG;
  var acc = vec4<u32>(0u);
  for (var i = gid.x; i < n; i += stride) {
    acc ^= src[i];
  }
  // Never true for the zero-filled buffer, but the compiler cannot know: the loads must happen.
  if (all(acc == vec4<u32>(0x9e3779b9u))) {
    dst[gid.x % arrayLength(&dst)] = acc;
  }
}

@compute @workgroup_size(WG)
fn copy_main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = min(arrayLength(&src), arrayLength(&dst));
  let stride = nwg.x * WG;
  for (var i = gid.x; i < n; i += stride) {
    dst[i] = src[i];
  }
}
