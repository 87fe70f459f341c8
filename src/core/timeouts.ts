/**
 * How long the runner waits for things that depend on the machine's speed (a service becoming healthy, a job,
 * a check) is a base figure times LAB_TIMEOUT_FACTOR (default 1). A slow or busy machine (a classroom laptop,
 * a shared CI runner under load) sets e.g. LAB_TIMEOUT_FACTOR=3 instead of failing on a deadline tuned for an
 * idle one. The tests use the same variable (test/helpers/timing.ts), so `npm run test:stress` stretches both.
 * Read once from the process environment: it is a property of the machine, not of one command.
 */
const raw = Number(process.env.LAB_TIMEOUT_FACTOR ?? '1');

const TIMEOUT_FACTOR = Number.isFinite(raw) && raw >= 1 ? raw : 1;

export function machineTimeout(ms: number): number {
  return Math.round(ms * TIMEOUT_FACTOR);
}
