// The engines the app runs: a baseline and a candidate, each one of the weight formats of the
// registry (src/kernels/formats), or the candidate alone (no baseline: one engine's memory, for a
// model too large for two). Labels and titles come from the registry; the colors are the app's own.
// Pure functions only: the store and the components share them, the unit tests check them.
import { formatSpec, isWeightFormat } from '../src/kernels/formats';
import { FORMATS, type EnginePlan, type Format } from './protocol';

export interface EnginePair {
  /** null: the candidate runs alone, with nothing to compare it against */
  baseline: Format | null;
  candidate: Format;
}

export type Role = keyof EnginePair;
/** What a loaded engine is on screen: one of the pair, or the only one. */
export type PaneRole = Role | 'alone';

/** Today's comparison: INT8 against the FP16 baseline. */
export const DEFAULT_PAIR: EnginePair = { baseline: 'f16', candidate: 'int8' };

/** What a large preset (app/presets.ts) loads unless the user picks: the narrowest format, alone. */
export const LARGE_DEFAULT: EnginePair = { baseline: null, candidate: 'q4' };

/** The engines in load and run order: the baseline first (when there is one). */
export const pairFormats = (p: EnginePair): Format[] => (p.baseline ? [p.baseline, p.candidate] : [p.candidate]);

/** The role of each engine of a load (formats in load order). */
export const rolesOf = (formats: readonly Format[]): PaneRole[] => (formats.length === 1 ? ['alone'] : formats.map((_, i) => (i === 0 ? 'baseline' : 'candidate')));

/** Engines in load order by name: "FP16 + Q4", or "Q4 alone" */
export const formatsName = (formats: readonly Format[]): string => formats.map(engineLabel).join(' + ') + (formats.length === 1 ? ' alone' : '');
export const pairName = (p: EnginePair): string => formatsName(pairFormats(p));

/** A format's short label ('FP16', 'Q4'); any other engine name (an old saved run) as it is. */
export const engineLabel = (name: string): string => (isWeightFormat(name) ? formatSpec(name).label : name);

/** What the engine is, in a few words ('4-bit weight-only'). */
export const engineTitle = (name: string): string => (isWeightFormat(name) ? formatSpec(name).title : name);

/** One color per format, in the panes, the charts and the tables. */
export const ENGINE_COLOR: Record<Format, string> = { f32: '#667085', f16: '#0e7490', int8: '#7c3aed', q4: '#c2410c' };
const OTHER_COLOR = '#475467';
export const engineColor = (name: string): string => (isWeightFormat(name) ? ENGINE_COLOR[name] : OTHER_COLOR);

/**
 * Sets one role's format (the baseline's may be null: the candidate alone). Picking the format the
 * other role holds swaps the two, so a pair always names two different engines; with no baseline
 * there is nothing to swap in, so picking the candidate's format as the baseline changes nothing.
 */
export function choose(pair: EnginePair, role: Role, format: Format | null): EnginePair {
  if (pair[role] === format) return pair;
  if (role === 'baseline') {
    if (format !== pair.candidate) return { ...pair, baseline: format };
    return pair.baseline ? { baseline: format, candidate: pair.baseline } : pair;
  }
  if (format === null) return pair;
  if (format !== pair.baseline) return { ...pair, candidate: format };
  return { baseline: pair.candidate, candidate: format };
}

/** "f16,q4", or "q4" for the candidate alone (the `engines` query parameter, as the CLI's --engines) */
export const pairParam = (p: EnginePair): string => pairFormats(p).join(',');

/**
 * Reads `engines=f16,q4` (a baseline and a candidate) or `engines=q4` (the candidate alone);
 * anything else (absent, unknown names, one name twice, three names) gives null.
 */
export function parsePair(s: string | null | undefined): EnginePair | null {
  if (!s) return null;
  const parts = s.split(',').map((x) => x.trim());
  if (!parts.every(isWeightFormat)) return null;
  if (parts.length === 1) return { baseline: null, candidate: parts[0]! };
  if (parts.length !== 2 || parts[0] === parts[1]) return null;
  return { baseline: parts[0]!, candidate: parts[1]! };
}

/** The pair a model starts with when the user has not picked one: a large preset's need not fit two engines. */
export const defaultPair = (large: boolean): EnginePair => (large ? LARGE_DEFAULT : DEFAULT_PAIR);

/** Why this adapter refuses a format for the planned model, or null when it fits. */
export function formatRefusal(engines: readonly EnginePlan[], format: Format): string | null {
  return engines.find((e) => e.format === format)?.refusal ?? null;
}

/** The refusals of the pair's engines, baseline first: empty when all fit. */
export function pairRefusals(engines: readonly EnginePlan[], pair: EnginePair): string[] {
  return pairFormats(pair).flatMap((f) => formatRefusal(engines, f) ?? []);
}

/** The formats the adapter accepts for this model, in the registry's order. */
export function allowedFormats(engines: readonly EnginePlan[]): Format[] {
  return FORMATS.filter((f) => engines.some((e) => e.format === f && e.refusal === null));
}

/** The GPU memory Load builds: the pair's plans summed (both stay loaded), or the one engine's. */
export function pairBytes(engines: readonly Pick<EnginePlan, 'format' | 'totalBytes'>[], pair: EnginePair): number {
  return pairFormats(pair).reduce((a, f) => a + (engines.find((e) => e.format === f)?.totalBytes ?? NaN), 0);
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
  const loaded = s.load.formats;
  const picked = pairFormats(s.pair);
  return s.load.status === 'ready' && (loaded.length !== picked.length || picked.some((f, i) => loaded[i] !== f));
}
