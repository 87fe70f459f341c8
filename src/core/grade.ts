/**
 * One grading pass: bring the lab's services up to date with the workspace, run the checks in scope, record
 * the run in the learner's progress. Shared by `lab check`, the walkthrough and `lab test`.
 */
import type { Clock } from './ports.js';
import { runChecks, type CheckResult, type PlannedCheck } from './check-engine.js';
import { buildReport, type CheckReport } from './check-report.js';
import { runningServices, stepOf, type CheckContext, type JobResult, type LabControl } from './lab-definition.js';
import type { LabSession } from './lab-session.js';
import { currentLogSection } from './log-sections.js';
import { repoDir } from './paths.js';
import type { ServiceProblem, StartProgress } from './runtime.js';
import { blockedResult, compileGate } from './compile-gate.js';
import type { CompileError } from './type-check.js';

export interface GradeResult {
  report: CheckReport;
  problems: ServiceProblem[];
  /** The learner's compile errors (the pre-probe stage): the root cause of their steps' blocked checks. */
  compileErrors: CompileError[];
}

function plannedChecks(session: LabSession, step?: number): PlannedCheck[] {
  const steps = session.lab.definition.steps;
  if (step !== undefined) stepOf(session.lab.definition, step);
  return steps.flatMap((s, i) =>
    step === undefined || step === i + 1 ? s.checks.map((check) => ({ step: i + 1, stepId: s.id, check })) : [],
  );
}

/** The lab's stage checks (`lab test` only), reported as one step after the last. */
function stagePlan(session: LabSession): PlannedCheck[] {
  const steps = session.lab.definition.steps;
  return (session.lab.definition.stageChecks ?? []).map((check) => ({
    step: steps.length + 1,
    stepId: 'stage',
    check,
  }));
}

/** What a lab's hooks may do with its running services (sync, a step's by-hand work). */
export function labControl(session: LabSession, clock: Clock): LabControl {
  return {
    workspaceDir: session.paths.dir,
    secretsDir: session.paths.secrets,
    url: (service) => session.runtime.url(service),
    exec: (service, argv, options) => session.runtime.exec(service, argv, options),
    clock,
  };
}

/** Applies the learner's data-like configuration (e.g. SPIRE registration entries) to the running lab. */
export async function syncLab(session: LabSession, clock: Clock): Promise<ServiceProblem[]> {
  const sync = session.lab.definition.sync;
  if (!sync) return [];
  return sync(labControl(session, clock));
}

/**
 * When a learner service is down or crashed, every check that did not pass reports that one cause with the
 * service's log tail, not its own symptom (a refused connection, a timeout) or a fix for some other step's file.
 * The check's own message stays in details.symptom.
 */
export function attributeRootCause(results: CheckResult[], problems: ServiceProblem[]): CheckResult[] {
  if (problems.length === 0) return results;
  const cause = problems.map((p) => `${p.service}: ${p.message}`).join('; ');
  const tails = problems
    .map((p) => [p.service, currentLogSection(p.logTail ?? '').trim()] as const)
    .filter(([, tail]) => tail)
    .map(([service, tail]) => `--- ${service} log (this run) ---\n${tail}`)
    .join('\n');
  const services = problems.map((p) => p.service);
  return results.map((r) =>
    r.status === 'pass'
      ? r
      : {
          ...r,
          status: 'fail',
          message: `Could not be tested because ${services.join(' and ')} ${services.length > 1 ? 'are' : 'is'} not running (${cause}).${tails ? `\n${tails}` : ''}`,
          fix: `Fix ${services.join(' and ')} first: the log above says why it stopped (\`lab logs ${services[0]}\`); then run \`lab check\` again.`,
          details: { ...r.details, rootCause: services, symptom: r.message },
        },
  );
}

export async function grade(
  session: LabSession,
  clock: Clock,
  options: { step?: number; checks?: string[]; onProgress?: StartProgress; stage?: boolean } = {},
): Promise<GradeResult> {
  // `checks` narrows the pass to those ids (the mutant runner: a mutant's verdict needs only the checks it names).
  const planned = (options.stage ? stagePlan(session) : plannedChecks(session, options.step)).filter(
    (p) => options.checks === undefined || options.checks.includes(p.check.id),
  );
  const state = session.state.read();
  // Services that are down (refresh) explain every failure; configuration that could not be applied (sync) does not.
  // The restart is mostly waiting on the runtime: the compile below runs meanwhile (a no-op handler keeps an early
  // failure from counting as unhandled; it is awaited, and thrown, below).
  const refreshing = session.runtime.refresh({ onProgress: options.onProgress });
  refreshing.catch(() => undefined);
  // Before any probe: code that does not compile blocks its steps' checks (the stage checks run on the solved lab).
  const gate = options.stage
    ? { errors: [], blocked: new Set<number>() }
    : await compileGate(session.lab, session.paths);
  const down = await refreshing;
  const problems = [...down, ...(await syncLab(session, clock))];
  const startedAt = clock.now();
  const started = performance.now();
  // Jobs (the agent) run once per pass, however many checks read their output.
  const jobs = new Map<string, Promise<JobResult>>();
  const context = (signal: AbortSignal): CheckContext => ({
    labDir: session.lab.dir,
    repoDir,
    workspaceDir: session.paths.dir,
    secretsDir: session.paths.secrets,
    url: (service) => session.runtime.url(service),
    serviceUrl: (service) => session.runtime.serviceUrl(service),
    reachable: (url) => {
      const target = new URL(url);
      for (const service of runningServices(session.lab.definition)) {
        if (session.runtime.serviceUrl(service.name).origin === target.origin) {
          return new URL(`${target.pathname}${target.search}`, session.runtime.url(service.name));
        }
      }
      return target;
    },
    runJob: (service) => {
      if (!jobs.has(service)) {
        const startedAt = clock.now().getTime();
        jobs.set(
          service,
          session.runtime.runJob(service).then((result) => ({ ...result, startedAt })),
        );
      }
      return jobs.get(service)!;
    },
    // Only the current run's section: an earlier, since-fixed solution's lines must not fail a check.
    logs: async (service) => currentLogSection(await session.runtime.logs(service)),
    exec: (service, argv, options) => session.runtime.exec(service, argv, options),
    clock,
    ...(session.runtime.probeJob
      ? { probeJob: (service: string, argv: string[]) => session.runtime.probeJob!(service, argv) }
      : {}),
    signal,
  });
  const runnable = planned.filter((p) => !gate.blocked.has(p.step));
  const ran = attributeRootCause(await runChecks(runnable, context), down);
  const results = planned.map((p) =>
    gate.blocked.has(p.step) ? blockedResult(p, session.lab, gate.errors) : ran[runnable.indexOf(p)]!,
  );
  const definition = session.lab.definition;
  const report = buildReport({
    // Stage checks are reported as one step after the last, and never recorded as the learner's progress.
    lab: options.stage
      ? {
          ...definition,
          steps: [
            ...definition.steps,
            {
              id: 'stage',
              title: "The lab's own stage",
              instructions: '',
              hints: [],
              checks: definition.stageChecks ?? [],
            },
          ],
        }
      : definition,
    runtime: session.runtimeKind,
    workspace: session.paths.dir,
    scope: options.step === undefined ? 'all' : `step:${options.step}`,
    currentStep: state.currentStep,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    results,
  });
  if (options.stage) return { report, problems, compileErrors: [] };
  session.state.update((s) => {
    s.attempts += 1;
    s.checkRuns.push({
      at: startedAt.toISOString(),
      scope: report.scope,
      durationMs: report.durationMs,
      passed: report.summary.passed,
      failed: report.summary.failed,
      results: results.map((r) => ({ id: r.id, status: r.status })),
    });
    for (const step of report.steps) {
      if (step.verdict === 'pass' && !s.completedSteps.includes(step.number)) s.completedSteps.push(step.number);
    }
    s.completedSteps.sort((a, b) => a - b);
  });
  return { report, problems, compileErrors: gate.errors };
}
