// What generated tokens cost on a rented GPU: the user's hourly price over the measured decode
// throughput of one stream. That is an upper bound for a server (batching shares the hour among
// many streams) and the right number for one user's tab; the assumption travels with the number.

export class CostInputError extends Error {
  override name = 'CostInputError';
}

export interface CostEstimate {
  /** US dollars per GPU hour, as the user set it */
  pricePerHour: number;
  /** the decode throughput the cost is based on */
  tokensPerSecond: number | null;
  /** US dollars per million generated tokens; null without a throughput */
  usdPerMillionTokens: number | null;
  /** the assumption, in words, to show next to the number */
  assumption: string;
}

/** $ per 1M tokens = price per hour / (tokens per second * 3600) * 1e6. */
export function costPerMillionTokens(pricePerHour: number, tokensPerSecond: number): number {
  if (!Number.isFinite(pricePerHour) || pricePerHour < 0) throw new CostInputError(`the hourly price must be a number >= 0, got ${pricePerHour}`);
  if (!Number.isFinite(tokensPerSecond) || tokensPerSecond <= 0) throw new CostInputError(`the throughput must be a positive number of tokens per second, got ${tokensPerSecond}`);
  return (pricePerHour / (tokensPerSecond * 3600)) * 1e6;
}

export function costEstimate(pricePerHour: number, tokensPerSecond: number | null): CostEstimate {
  const usable = tokensPerSecond !== null && Number.isFinite(tokensPerSecond) && tokensPerSecond > 0;
  const usd = usable ? costPerMillionTokens(pricePerHour, tokensPerSecond) : null;
  if (!usable) costPerMillionTokens(pricePerHour, 1); // still reject a bad price
  const rate = usable ? `${tokensPerSecond >= 100 ? tokensPerSecond.toFixed(0) : tokensPerSecond.toPrecision(3)} tok/s` : 'no decode throughput measured';
  return {
    pricePerHour,
    tokensPerSecond: usable ? tokensPerSecond : null,
    usdPerMillionTokens: usd,
    assumption: `$${pricePerHour}/hour GPU, at the measured decode throughput (${rate}), one stream, no batching`,
  };
}

/** "$0.0123", "$1.23", "$1,234" for a cost per million tokens. */
export function formatUsd(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—';
  if (v >= 1000) return `$${Math.round(v).toLocaleString('en-US')}`;
  if (v >= 1) return `$${v.toFixed(2)}`;
  return `$${v.toPrecision(3)}`;
}
