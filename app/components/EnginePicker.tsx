import { useApp } from '../store';
import { FORMATS, type EnginePlan } from '../protocol';
import { engineLabel, engineTitle, formatRefusal, type Role } from '../engines';

const ROLES: Array<{ role: Role; label: string; hint: string }> = [
  { role: 'baseline', label: 'Baseline', hint: 'the reference the other is measured against' },
  { role: 'candidate', label: 'Candidate', hint: 'compared with the baseline' },
];

/**
 * The two engines to compare. A format this adapter cannot hold for the planned model is disabled,
 * its reason in the tooltip; picking the other side's engine swaps the two.
 */
export function EnginePicker({ engines, disabled }: { engines: readonly EnginePlan[]; disabled: boolean }) {
  const pair = useApp((s) => s.pair);
  const setPair = useApp((s) => s.setPair);
  return (
    <div className="engine-picker" data-testid="engine-picker">
      {ROLES.map(({ role, label, hint }) => (
        <div className="field" key={role}>
          <label htmlFor={`pick-${role}`} title={hint}>
            {label}
          </label>
          <select id={`pick-${role}`} data-testid={`pick-${role}`} value={pair[role]} disabled={disabled} title={engineTitle(pair[role])} onChange={(e) => setPair(role, e.target.value as (typeof FORMATS)[number])}>
            {FORMATS.map((f) => {
              const refusal = formatRefusal(engines, f);
              return (
                <option key={f} value={f} disabled={refusal !== null} title={refusal ?? engineTitle(f)}>
                  {engineLabel(f)}
                  {refusal !== null ? ' (too large)' : ''}
                </option>
              );
            })}
          </select>
        </div>
      ))}
    </div>
  );
}
