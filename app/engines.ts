// The two engines the app compares: a baseline and a candidate, each one of the weight formats of
// the registry (src/kernels/formats). Labels and titles come from the registry; the colors are the
// app's own. Pure functions only: the store and the components share them, the unit tests check them.
import { formatSpec, isWeightFormat } from '../src/kernels/formats';
import { FORMATS, type EnginePlan, type Format } from './protocol';

export interface EnginePair {
  baseline: Format;
  candidate: Format;
}

export type Role = keyof EnginePair;

/** Today's comparison: INT8 against the FP16 baseline. */
export const DEFAULT_PAIR: EnginePair = { baseline: 'f16', candidate: 'int8' };

/** The pair in load and run order: the baseline first. */
export const pairFormats = (p: EnginePair): [Format, Format] => [p.baseline, p.candidate];

export const samePair = (a: EnginePair, b: EnginePair) => a.baseline === b.baseline && a.candidate === b.candidate;

/** A format's short label ('FP16', 'Q4'); any other engine name (an old saved run) as it is. */
export const engineLabel = (name: string): string => (isWeightFormat(name) ? formatSpec(name).label : name);

/** What the engine is, in a few words ('4-bit weight-only'). */
export const engineTitle = (name: string): string => (isWeightFormat(name) ? formatSpec(name).title : name);

/** One color per format, in the panes, the charts and the tables. */
export const ENGINE_COLOR: Record<Format, string> = { f32: '#667085', f16: '#0e7490', int8: '#7c3aed', q4: '#c2410c' };
const OTHER_COLOR = '#475467';
export const engineColor = (name: string): string => (isWeightFormat(name) ? ENGINE_COLOR[name] : OTHER_COLOR);

/**
 * Sets one role's format. Picking the format the other role holds swaps the two, so the pair
 * always names two different engines.
 */
export function choose(pair: EnginePair, role: Role, format: Format): EnginePair {
  const other: Role = role === 'baseline' ? 'candidate' : 'baseline';
  if (pair[role] === format) return pair;
  if (pair[other] === format) return { [role]: format, [other]: pair[role] } as unknown as EnginePair;
  return { ...pair, [role]: format };
}

/** "f16,q4" (the `engines` query parameter, as the CLI's --engines) */
export const pairParam = (p: EnginePair): string => `${p.baseline},${p.candidate}`;

/** Reads `engines=f16,q4`; anything else (absent, unknown names, one name twice) gives null. */
export function parsePair(s: string | null | undefined): EnginePair | null {
  if (!s) return null;
  const parts = s.split(',').map((x) => x.trim());
  if (parts.length !== 2) return null;
  const [baseline, candidate] = parts as [string, string];
  if (!isWeightFormat(baseline) || !isWeightFormat(candidate) || baseline === candidate) return null;
  return { baseline, candidate };
}

/** Why this adapter refuses a format for the planned model, or null when it fits. */
export function formatRefusal(engines: readonly EnginePlan[], format: Format): string | null {
  return engines.find((e) => e.format === format)?.refusal ?? null;
}

/** The refusals of the pair's engines, baseline first: empty when both fit. */
export function pairRefusals(engines: readonly EnginePlan[], pair: EnginePair): string[] {
  return pairFormats(pair).flatMap((f) => formatRefusal(engines, f) ?? []);
}

/** The formats the adapter accepts for this model, in the registry's order. */
export function allowedFormats(engines: readonly EnginePlan[]): Format[] {
  return FORMATS.filter((f) => engines.some((e) => e.format === f && e.refusal === null));
}

/** x's weight bytes over y's (e.g. Q4 over FP16: 0.31), or null when either is unknown. */
export function weightRatio(engines: readonly Pick<EnginePlan, 'format' | 'weightBytes'>[], x: Format, y: Format): number | null {
  const a = engines.find((e) => e.format === x)?.weightBytes;
  const b = engines.find((e) => e.format === y)?.weightBytes;
  return a && b ? a / b : null;
}

interface PairState {
  load: { status: string; formats: readonly Format[] };
  pair: EnginePair;
}

/**
 * The engines on screen (panes, load progress): the loaded or loading ones, else the picked pair.
 * A pair changed after a load shows once it is loaded: Compare runs the engines that are loaded.
 */
export function shownFormats(s: PairState): readonly Format[] {
  return (s.load.status === 'ready' || s.load.status === 'loading') && s.load.formats.length ? s.load.formats : pairFormats(s.pair);
}

/** Whether the picked pair differs from the loaded one (the next Load builds the picked pair). */
export function pairChanged(s: PairState): boolean {
  const f = s.load.formats;
  return s.load.status === 'ready' && (f[0] !== s.pair.baseline || f[1] !== s.pair.candidate);
}
