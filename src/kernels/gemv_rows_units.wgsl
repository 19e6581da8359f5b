// Row units of the plain and split row layouts (gemv_rows_plain|split.wgsl): unit u is rows
// 4u .. 4u+3 of W; the last unit's rows past N read row N - 1, and their outputs are never stored.
override N: u32;
override UNITS: u32 = (N + 3u) / 4u;

fn unit_rows(u: u32) -> vec4<u32> {
  let n = 4u * u;
  return min(vec4<u32>(n, n + 1u, n + 2u, n + 3u), vec4<u32>(N - 1u));
}
