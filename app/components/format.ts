// Number formatting shared by the components.

/** Decimal units (1 GB = 1e9 bytes), as download sizes and GPU memory are quoted. */
export function bytes(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return '—';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)} ${units[i]}`;
}

export function seconds(s: number | null | undefined): string {
  if (s == null || !Number.isFinite(s)) return '—';
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function ms(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(2)} s`;
}

export function rate(v: number | null | undefined, unit = 'tok/s'): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)}${unit ? ` ${unit}` : ''}`;
}

export function params(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}K`;
  return String(n);
}

/** A score in [0, 1] such as ROUGE-L F1, to three places; "—" where there is none (a run without a baseline). */
export function score(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? '—' : v.toFixed(3);
}

export function percent(v: number | null | undefined, digits = 1): string {
  if (v == null || !Number.isFinite(v)) return '—';
  return `${(v * 100).toFixed(digits)}%`;
}

/** "Chrome 131", "Firefox 128", "Safari 17", "Node v20.1.0" from a user agent (or the CLI's tag). */
export function browserName(ua: string): string {
  if (ua.startsWith('Node ')) return ua.split(' ').slice(0, 2).join(' ');
  const found = (['Edg', 'Firefox', 'Chrome', 'Version'] as const).map((k) => [k, new RegExp(`${k}/(\\d+)`).exec(ua)?.[1]] as const).find(([, v]) => v);
  if (!found) return ua.slice(0, 24) || 'unknown';
  const name = { Edg: 'Edge', Firefox: 'Firefox', Chrome: 'Chrome', Version: 'Safari' }[found[0]];
  return `${name}${/Headless/.test(ua) ? ' (headless)' : ''} ${found[1]}`;
}

/** "2026-11-24 20:18" in the reader's time zone */
export function when(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
