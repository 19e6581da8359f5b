// The subgroup-matrix W8A8 kernels (kernels/matmul_w8a8.ts) compile only where the adapter has
// chromium_experimental_subgroup_matrix, which CI's SwiftShader does not. So that a naming or
// scoping mistake in the generated WGSL cannot reach a GPU unnoticed (one did: a K group's sums
// declared in a block the epilogue could not see, found by the load-time probe on an H100, which
// then turned the tensor-core path off), this compiles every tile's code on SwiftShader with the
// matrix types and builtins replaced by plain WGSL stand-ins of the same signatures: everything
// else (names, scopes, types of the rest, the barriers' uniformity) is checked by the real compiler.
// What the stand-ins compute is meaningless; the kernels' sums are checked on a GPU
// (scripts/check-w8a8.ts) and by the probe at load.
import { describe, it, beforeAll, expect } from 'vitest';
import { gpu } from './harness';
import { SGMAT_ENABLE, SGMAT_TILE_FEW, SGMAT_TILE_MANY, sgmatCode, sgmatStagedCode, tileName, type SgmatTile } from '../../src/kernels/matmul_w8a8';
import { STEP_WGSL } from '../../src/gpu/step';

const SHAPE = { m: 16, n: 16, k: 32 }; // NVIDIA's i8 configuration
const STANDINS = `struct SgLeft { v: i32 }
struct SgRight { v: i32 }
struct SgResult { v: i32 }
fn sgLoadLeft(off: u32, t: bool, stride: u32) -> SgLeft { return SgLeft(i32(off + stride)); }
fn sgLoadRight(off: u32, t: bool, stride: u32) -> SgRight { return SgRight(i32(off + stride)); }
fn sgMma(a: SgLeft, b: SgRight, c: SgResult) -> SgResult { return SgResult(a.v * b.v + c.v); }
`;

/** The kernel with the subgroup-matrix types and builtins replaced (and the stored results kept live). */
function shim(code: string): string {
  let out = code.replace(SGMAT_ENABLE, '');
  out = out.replace(/subgroup_matrix_(left|right|result)<[^>]*>/g, (_, kind: string) => `Sg${kind[0]!.toUpperCase()}${kind.slice(1)}`);
  out = out.replace(/subgroupMatrixLoad<(Left|Right)>\(&\w+, /g, (_, side: string) => `sgLoad${side}(`);
  // A store writes the result's word at the offset (so the array access is compiled too).
  out = out.replace(/subgroupMatrixStore\(&(\w+), ([^,]+), (\w+), (false|true), ([^;]+)\);/g, (_, arr: string, off: string, c: string) => `${arr}[${off}] = ${c}.v;`);
  out = out.replace(/subgroupMatrixMultiplyAccumulate\(/g, 'sgMma(');
  expect(out, 'every subgroup-matrix construct replaced').not.toMatch(/subgroup_?[mM]atrix/);
  return STANDINS + out;
}

const STORE = `@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
fn bias(n: u32) -> f32 { return 0.0; }
fn store(m: u32, n: u32, v: f32) { Y[m * N + n] = v; }
`;

describe('subgroup-matrix W8A8 kernels compile (stand-ins for the matrix builtins)', () => {
  let device: GPUDevice;
  beforeAll(async () => ({ device } = await gpu()));

  const tiles: Array<{ tile: SgmatTile; unroll?: number; staged?: boolean }> = [
    { tile: SGMAT_TILE_FEW }, { tile: SGMAT_TILE_MANY }, { tile: { ...SGMAT_TILE_FEW, ks: 8 } }, { tile: { tm: 1, tn: 1, ks: 2 } },
    { tile: { tm: 2, tn: 4, sm: 2, sn: 2 } }, { tile: { tm: 2, tn: 4, unroll: true }, unroll: 128 }, { tile: { tm: 1, tn: 2, ks: 8, unroll: true }, unroll: 128 },
    { tile: { tm: 2, tn: 4, diagOneScale: true } }, { tile: { tm: 1, tn: 2, ks: 4, diagOneScale: true } },
    { tile: { tm: 2, tn: 2, sm: 2, sn: 2, staged: true }, staged: true },
  ];
  for (const { tile, unroll, staged } of tiles) {
    for (const unit of [1, 4] as const) {
      it(`${tileName(tile)} unit=${unit}`, async () => {
        const kernel = staged ? sgmatStagedCode(SHAPE, tile, 32, unit) : sgmatCode(SHAPE, tile, 32, unit, unroll ?? 0);
        const code = shim(SGMAT_ENABLE + STEP_WGSL + STORE + kernel);
        // The module only: the WGSL front end is what the mistake above failed (a pipeline would
        // add SwiftShader's slow code generation and check nothing this test is about).
        device.pushErrorScope('validation');
        const module = device.createShaderModule({ code });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
        expect(errors, code.split('\n').map((l, i) => `${i + 1}: ${l}`).join('\n')).toEqual([]);
        expect(await device.popErrorScope()).toBeNull();
      });
    }
  }
});
