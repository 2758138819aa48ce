// What every bench script hands back to bench/run.ts: figures (one table row
// each, with the baseline measured in the same run) and markdown details.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const ROOT = dirname(BENCH_DIR);
/** Scratch space: synthetic specs, generated clients, consumers, results. Gitignored. */
export const WORK = join(BENCH_DIR, '.work');

export interface Figure {
  /** Table label, e.g. "GET path+query, ops/s". */
  label: string;
  value: number;
  unit: string;
  baselineLabel?: string;
  baseline?: number;
  /** `higher` for throughput, `lower` for time, bytes and latency. */
  better: 'higher' | 'lower';
  /** Shown instead of the ratio, e.g. "must be 1". */
  note?: string;
}

export interface SectionResult {
  section: number;
  title: string;
  figures: Figure[];
  /** Markdown written under the section's heading in BENCHMARKS.md. */
  details: string;
  ms: number;
  /** Raw per-round figures, kept in the result file. */
  rounds?: unknown;
}

export function writeResult(result: SectionResult): void {
  const file = join(WORK, 'results', `${result.section}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2));
}

/** Portico / baseline, so > 1 means more of the unit (faster for ops/s, slower for ms). */
function ratio(f: Figure): number | undefined {
  return f.baseline === undefined || f.baseline === 0 ? undefined : f.value / f.baseline;
}

/** "0.93x (7.0% lower)" style verdict relative to the baseline. */
export function verdict(f: Figure): string {
  const r = ratio(f);
  if (r === undefined) return f.note ?? '';
  const pct = Math.abs(r - 1) * 100;
  const word =
    f.better === 'higher' ? (r < 1 ? 'lower' : 'higher') : f.unit === 'B' ? (r > 1 ? 'larger' : 'smaller') : r > 1 ? 'more' : 'less';
  return `${r.toFixed(2)}x (${pct < 0.05 ? 'same' : `${pct.toFixed(1)}% ${word}`})${f.note ? `; ${f.note}` : ''}`;
}

export function fmt(value: number, unit: string): string {
  if (unit === 'B') return `${Math.round(value).toLocaleString('en-US')} B`;
  if (unit === 'ms' || unit === 's')
    return `${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(value >= 10 ? 1 : 2)} ${unit}`;
  if (Number.isInteger(value) || value >= 1000) return `${Math.round(value).toLocaleString('en-US')} ${unit}`.trim();
  return `${value.toFixed(2)} ${unit}`.trim();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[at]!;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
