import { percentile } from './format';

export interface Latencies {
  p50: number;
  p99: number;
  max: number;
  measured: number;
}

export function latencies(values: number[]): Latencies {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    measured: sorted.length,
  };
}
