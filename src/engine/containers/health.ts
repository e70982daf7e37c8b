// Healthchecks as dockerd runs them: the test is exec'd in the container
// every Interval (first after Interval), killed after Timeout; Retries
// failures in a row make it unhealthy (failures during StartPeriod do not
// count); the last 5 results are kept; a change of status is an event.
import type { ContainerRecord, HealthConfig, HealthState } from './types.ts';

const NS = 1e-6; // Docker's durations are nanoseconds; timers take ms
const DEFAULTS = { interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0 };
const MAX_LOG = 5;
const MAX_OUTPUT = 4096;

export type Probe = (argv: string[], timeoutMs: number) => Promise<{ exitCode: number; output: string }>;

/** The argv of a test, or null when healthchecks are off (["NONE"], empty). */
export function probeArgv(h: HealthConfig | undefined): string[] | null {
  const t = h?.Test;
  if (!t || t.length === 0 || t[0] === 'NONE') return null;
  if (t[0] === 'CMD') return t.length > 1 ? t.slice(1) : null;
  if (t[0] === 'CMD-SHELL') return t.length > 1 ? ['/bin/sh', '-c', t[1]!] : null;
  return null;
}

export class HealthMonitor {
  readonly #timers = new Map<string, NodeJS.Timeout>();

  /** Starts probing a running container; save and event are called on every result. */
  start(rec: ContainerRecord, probe: Probe, save: (h: HealthState) => void, event: (status: string) => void): void {
    this.stop(rec.Id);
    const argv = probeArgv(rec.Config.Healthcheck);
    if (!argv) return;
    const h = rec.Config.Healthcheck!;
    const interval = h.Interval ? h.Interval * NS : DEFAULTS.interval;
    const timeout = h.Timeout ? h.Timeout * NS : DEFAULTS.timeout;
    const retries = h.Retries || DEFAULTS.retries;
    const startPeriod = h.StartPeriod ? h.StartPeriod * NS : DEFAULTS.startPeriod;
    const startedAt = Date.now();
    const state: HealthState = rec.State.Health ?? { Status: 'starting', FailingStreak: 0, Log: [] };
    const tick = async (): Promise<void> => {
      const start = new Date();
      let r: { exitCode: number; output: string };
      try {
        r = await probe(argv, timeout);
      } catch (err) {
        r = { exitCode: -1, output: (err as Error).message };
      }
      if (!this.#timers.has(rec.Id)) return; // stopped meanwhile
      state.Log.push({ Start: start.toISOString(), End: new Date().toISOString(), ExitCode: r.exitCode, Output: r.output.slice(0, MAX_OUTPUT) });
      if (state.Log.length > MAX_LOG) state.Log.splice(0, state.Log.length - MAX_LOG);
      const prev = state.Status;
      if (r.exitCode === 0) {
        state.Status = 'healthy';
        state.FailingStreak = 0;
      } else if (Date.now() - startedAt >= startPeriod || prev !== 'starting') {
        state.FailingStreak++;
        if (state.FailingStreak >= retries) state.Status = 'unhealthy';
      }
      save(state);
      if (state.Status !== prev) event(state.Status);
      this.#timers.set(rec.Id, setTimeout(() => void tick(), interval));
    };
    this.#timers.set(rec.Id, setTimeout(() => void tick(), interval));
  }

  stop(id: string): void {
    const t = this.#timers.get(id);
    if (t) clearTimeout(t);
    this.#timers.delete(id);
  }

  stopAll(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
