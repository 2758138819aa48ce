import { readFileSync } from 'node:fs';

/** The parts of a V8 `.cpuprofile` the benchmarks read. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** A profile and the self time (µs) of each of its nodes. */
export function readSelfTimes(file: string): { profile: CpuProfile; self: Map<number, number> } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const self = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  return { profile, self };
}
