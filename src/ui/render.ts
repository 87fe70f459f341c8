/** Human renderings shared by several commands. */
import type { CheckReport } from '../core/check-report.js';
import type { ServiceProblem, ServiceStatus } from '../core/runtime.js';
import type { Output } from '../core/ports.js';
import { formatCompileError, type CompileError } from '../core/type-check.js';

export function renderReport(io: Output, report: CheckReport): void {
  const c = io.color;
  for (const step of report.steps) {
    const marker = step.number === report.currentStep ? c.cyan(' (current step)') : '';
    io.out(c.bold(`\nStep ${step.number}: ${step.title}`) + marker);
    for (const check of step.checks) {
      const ok = check.status === 'pass';
      io.out(
        `  ${ok ? c.green('PASS') : c.red(check.status.toUpperCase())}  ${check.title} ${c.dim(`(${check.durationMs} ms)`)}`,
      );
      if (!ok) {
        io.out(`        ${check.message}`);
        if (check.fix) io.out(`        ${c.yellow('Fix:')} ${check.fix}`);
      }
    }
  }
  const { passed, total } = report.summary;
  const line = `${passed}/${total} checks passed in ${(report.durationMs / 1000).toFixed(1)} s`;
  io.out(`\n${report.verdict === 'pass' ? c.green(line) : c.red(line)}`);
}

/** The pre-probe stage's finding, first: the learner's compile errors, one `file:line:column code message` each. */
export function renderCompileErrors(io: Output, errors: CompileError[]): void {
  if (errors.length === 0) return;
  const files = [...new Set(errors.map((e) => e.file))];
  io.err(
    io.color.red(
      `! Your TypeScript does not compile (${errors.length} error${errors.length > 1 ? 's' : ''} in ${files.join(', ')}):`,
    ),
  );
  for (const e of errors.slice(0, 20)) io.err(`    ${formatCompileError(e)}`);
  if (errors.length > 20) io.err(`    … and ${errors.length - 20} more`);
  io.err(
    '  Fix: correct those lines (your editor shows the same errors); the checks of the steps that own these files run once they compile.',
  );
}

export function renderProblems(io: Output, problems: ServiceProblem[]): void {
  for (const p of problems) {
    if (p.logTail === undefined) {
      // Not a crashed service but configuration the lab could not apply (e.g. registration entries).
      io.err(io.color.red(`! ${p.message}`));
      io.err('  Fix it in your workspace; the next `lab check` applies it again.');
      continue;
    }
    io.err(io.color.red(`! ${p.message}. Its log ends with:`));
    io.err(
      p.logTail
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n'),
    );
    io.err(`  Fix the error in your workspace; the next \`lab check\` restarts ${p.service}.`);
  }
}

export function renderServices(io: Output, services: ServiceStatus[]): void {
  const width = Math.max(...services.map((s) => s.name.length));
  for (const s of services) {
    const state =
      s.state === 'running'
        ? io.color.green(s.state)
        : s.state === 'job'
          ? io.color.dim(s.state)
          : s.state === 'waiting'
            ? io.color.yellow(s.state)
            : io.color.red(s.state);
    io.out(
      `  ${s.name.padEnd(width)}  ${state.padEnd(9)}  ${s.url ?? ''}${s.pid ? io.color.dim(`  pid ${s.pid}`) : ''}${s.detail ? io.color.dim(`  ${s.detail}`) : ''}`,
    );
  }
}
