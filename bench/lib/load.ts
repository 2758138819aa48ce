import { percentile } from './results.ts';

/** `total` calls by `concurrency` callers; each caller makes its next call when the previous one is done. Client CPU is per call, in µs. */
export async function load(call: () => Promise<unknown>, total: number, concurrency: number) {
  const latencies = new Float64Array(total);
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const s = performance.now();
        await call();
        latencies[i] = performance.now() - s;
      }
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const sorted = Array.from(latencies).sort((a, b) => a - b);
  return { rps: (total / ms) * 1000, p50: percentile(sorted, 50), p99: percentile(sorted, 99), cpu: (cpu.user + cpu.system) / total };
}
