import { useApp } from '../store';
import { FORMATS, type EnginePlan, type Format } from '../protocol';
import { engineLabel, engineTitle, formatRefusal, type Role } from '../engines';

const ROLES: Array<{ role: Role; label: string; hint: string }> = [
  { role: 'baseline', label: 'Baseline', hint: 'the reference the other is measured against; None loads the candidate alone (half the memory, nothing to compare)' },
  { role: 'candidate', label: 'Candidate', hint: 'compared with the baseline' },
];
/** the baseline select's value for "no baseline" */
const NONE = 'none';

/**
 * The two engines to compare, or the candidate alone (baseline None). A format this adapter cannot
 * hold for the planned model is disabled, its reason in the tooltip; picking the other side's engine
 * swaps the two (with no baseline, the candidate's format is not offered as one).
 */
export function EnginePicker({ engines, disabled }: { engines: readonly EnginePlan[]; disabled: boolean }) {
  const pair = useApp((s) => s.pair);
  const setPair = useApp((s) => s.setPair);
  return (
    <div className="engine-picker" data-testid="engine-picker">
      {ROLES.map(({ role, label, hint }) => {
        const value = pair[role];
        return (
          <div className="field" key={role}>
            <label htmlFor={`pick-${role}`} title={hint}>
              {label}
            </label>
            <select
              id={`pick-${role}`}
              data-testid={`pick-${role}`}
              value={value ?? NONE}
              disabled={disabled}
              title={value ? engineTitle(value) : 'the candidate runs alone'}
              onChange={(e) => setPair(role, e.target.value === NONE ? null : (e.target.value as Format))}
            >
              {role === 'baseline' && <option value={NONE}>None (candidate alone)</option>}
              {FORMATS.map((f) => {
                const refusal = formatRefusal(engines, f);
                const isCandidate = role === 'baseline' && pair.baseline === null && f === pair.candidate;
                return (
                  <option key={f} value={f} disabled={refusal !== null || isCandidate} title={refusal ?? (isCandidate ? 'the candidate: pick another format as its baseline' : engineTitle(f))}>
                    {engineLabel(f)}
                    {refusal !== null ? ' (too large)' : ''}
                  </option>
                );
              })}
            </select>
          </div>
        );
      })}
    </div>
  );
}
