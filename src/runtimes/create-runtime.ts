import { UsageError } from '../core/errors.js';
import type { LoadedLab } from '../core/lab-catalog.js';
import type { WorkspacePaths } from '../core/paths.js';
import type { Clock, ProcessControl } from '../core/ports.js';
import { LocalRuntime } from './local-runtime.js';
import type { Runtime, RuntimeKind } from './runtime.js';

export const RUNTIME_CHOICES = ['auto', 'local'] as const;

/**
 * `auto` picks the best runtime this machine offers. Until the Docker compose runtime lands, that is the
 * local process runtime; `lab doctor` says so.
 */
export function resolveRuntimeKind(requested: string | undefined, lab: LoadedLab): RuntimeKind {
  const kind = requested === undefined || requested === 'auto' ? 'local' : requested;
  if (kind !== 'local') {
    throw new UsageError(`Runtime "${requested}" is not available in this version.`, 'Use --runtime local (or leave --runtime out).');
  }
  if (!lab.definition.runtimes.includes(kind)) {
    throw new UsageError(`Lab ${lab.definition.id} cannot run on the ${kind} runtime.`, `Use one of: ${lab.definition.runtimes.join(', ')}.`);
  }
  return kind;
}

export function createRuntime(kind: RuntimeKind, lab: LoadedLab, paths: WorkspacePaths, deps: { processes: ProcessControl; clock: Clock }): Runtime {
  if (kind !== 'local') throw new UsageError(`Runtime "${kind}" is not available in this version.`, 'Use --runtime local.');
  return new LocalRuntime(lab, paths, deps.processes, deps.clock);
}
