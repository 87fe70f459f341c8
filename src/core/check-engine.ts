/**
 * Runs checks: all of them, even when some fail (learners want every problem at once), each bounded in time,
 * independent ones side by side. A check that throws or hangs becomes a result, never a crash.
 */
import type { CheckContext, CheckDefinition, CheckStatus } from './lab-definition.js';
import { machineTimeout } from './timeouts.js';

export interface PlannedCheck {
  step: number;
  stepId: string;
  check: CheckDefinition;
}

export interface CheckResult {
  id: string;
  title: string;
  step: number;
  stepId: string;
  status: CheckStatus;
  message: string;
  fix?: string;
  durationMs: number;
  details?: Record<string, unknown>;
}

const DEFAULT_CHECK_TIMEOUT_MS = 15_000;

export interface RunOptions {
  concurrency?: number;
  now?: () => number;
}

export async function runChecks(
  planned: PlannedCheck[],
  makeContext: (signal: AbortSignal) => CheckContext,
  options: RunOptions = {},
): Promise<CheckResult[]> {
  const now = options.now ?? (() => performance.now());
  const results: CheckResult[] = new Array(planned.length);
  let next = 0;
  const worker = async () => {
    while (next < planned.length) {
      const index = next++;
      results[index] = await runOne(planned[index]!, makeContext, now);
    }
  };
  const width = Math.max(1, Math.min(options.concurrency ?? 8, planned.length));
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

async function runOne(
  { step, stepId, check }: PlannedCheck,
  makeContext: (signal: AbortSignal) => CheckContext,
  now: () => number,
): Promise<CheckResult> {
  // A check's own budget is for an idle machine; LAB_TIMEOUT_FACTOR stretches it on a slow one.
  const timeoutMs = machineTimeout(check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS);
  const controller = new AbortController();
  const started = now();
  const base = { id: check.id, title: check.title, step, stepId };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    const outcome = await Promise.race([check.run(makeContext(controller.signal)), timeout]);
    const durationMs = Math.round(now() - started);
    if (outcome === 'timeout') {
      controller.abort();
      return {
        ...base,
        status: 'timeout',
        durationMs,
        message: `The check did not finish within ${timeoutMs / 1000} s.`,
        fix: 'A service is probably hanging: look at `lab status` and `lab logs <service>`, then run `lab check` again.',
      };
    }
    return { ...base, ...outcome, durationMs };
  } catch (error) {
    controller.abort();
    return {
      ...base,
      status: 'error',
      durationMs: Math.round(now() - started),
      message: `The check could not run: ${(error as Error).message ?? String(error)}`,
      fix: 'A service the check needs is probably down or answering garbage: see `lab status` and `lab logs <service>`, then run `lab check` again.',
    };
  } finally {
    clearTimeout(timer);
  }
}
