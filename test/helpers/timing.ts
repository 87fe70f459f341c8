/**
 * Test deadlines, scaled. A deadline that holds on an idle laptop fails on a busy shared CI machine, so every
 * test timeout and every readiness wait is a base figure times LAB_TIMEOUT_FACTOR (default 1).
 * `npm run test:stress` runs the suite under stress-ng with a factor of 3. Deadlines are upper bounds only:
 * nothing waits for them to pass, every wait returns as soon as its readiness signal arrives.
 */
import { machineTimeout } from '../../src/core/timeouts.js';

/** The runner's own scaling (src/core/timeouts.ts): tests and runner stretch together. */
export const scaled = machineTimeout;

/**
 * Polls `probe` until it returns a value other than undefined/false, or the scaled deadline passes. The error
 * names what was awaited and the last probe failure, so a timeout says which readiness signal never came.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { timeoutMs, intervalMs = 100 }: { timeoutMs: number; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      // A probe marks an error fatal when waiting longer cannot help (the process it waits for has exited).
      if ((error as { fatal?: boolean }).fatal) throw error;
      last = error;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${scaled(timeoutMs)} ms waiting for ${what}${last ? `: ${(last as Error).message ?? String(last)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
