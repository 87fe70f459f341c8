/**
 * The machine-readable verdict of `lab check`. Stable keys, versioned by `schemaVersion`; the JSON Schema is
 * docs/check-result.schema.json. Bump the version on any change that is not a pure addition.
 */
import type { CheckResult } from './check-engine.js';
import type { LabDefinition } from './lab-definition.js';

export const CHECK_REPORT_SCHEMA_VERSION = 1;

export interface CheckReport {
  schemaVersion: typeof CHECK_REPORT_SCHEMA_VERSION;
  lab: string;
  runtime: string;
  workspace: string;
  scope: string;
  currentStep: number;
  startedAt: string;
  durationMs: number;
  verdict: 'pass' | 'fail';
  summary: { total: number; passed: number; failed: number };
  steps: Array<{
    number: number;
    id: string;
    title: string;
    verdict: 'pass' | 'fail';
    checks: Array<Omit<CheckResult, 'step' | 'stepId'>>;
  }>;
}

export function buildReport(input: {
  lab: LabDefinition;
  runtime: string;
  workspace: string;
  scope: string;
  currentStep: number;
  startedAt: Date;
  durationMs: number;
  results: CheckResult[];
}): CheckReport {
  const passed = input.results.filter((r) => r.status === 'pass').length;
  const steps = input.lab.steps
    .map((step, i) => {
      const checks = input.results.filter((r) => r.step === i + 1).map(({ step: _s, stepId: _id, ...rest }) => rest);
      return {
        number: i + 1,
        id: step.id,
        title: step.title,
        verdict: checks.every((c) => c.status === 'pass') ? ('pass' as const) : ('fail' as const),
        checks,
      };
    })
    .filter((s) => s.checks.length > 0);
  return {
    schemaVersion: CHECK_REPORT_SCHEMA_VERSION,
    lab: input.lab.id,
    runtime: input.runtime,
    workspace: input.workspace,
    scope: input.scope,
    currentStep: input.currentStep,
    startedAt: input.startedAt.toISOString(),
    durationMs: input.durationMs,
    verdict: passed === input.results.length ? 'pass' : 'fail',
    summary: { total: input.results.length, passed, failed: input.results.length - passed },
    steps,
  };
}

const xml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** JUnit XML: one testsuite per step, one testcase per check; CI systems and LMS graders read this. */
export function toJUnit(report: CheckReport): string {
  const suites = report.steps.map((step) => {
    const failures = step.checks.filter((c) => c.status !== 'pass').length;
    const time = step.checks.reduce((t, c) => t + c.durationMs, 0) / 1000;
    const cases = step.checks.map((c) => {
      const head = `    <testcase classname="${xml(`${report.lab}.${step.id}`)}" name="${xml(c.id)}" time="${(c.durationMs / 1000).toFixed(3)}"`;
      if (c.status === 'pass') return `${head}/>`;
      const body = `${c.message}${c.fix ? `\nFix: ${c.fix}` : ''}`;
      return `${head}>\n      <failure type="${c.status}" message="${xml(c.message)}">${xml(body)}</failure>\n    </testcase>`;
    });
    return `  <testsuite name="${xml(`${step.number}. ${step.title}`)}" tests="${step.checks.length}" failures="${failures}" time="${time.toFixed(3)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xml(report.lab)}" tests="${report.summary.total}" failures="${report.summary.failed}" time="${(report.durationMs / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}
