import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { importModule, runnableFile } from './code-files.js';
import { DefinitionError, UsageError } from './errors.js';
import { labDefinitionSchema, type LabDefinition } from './lab-definition.js';
import { labsDir, repoDir } from './paths.js';
import { printableName } from './printable.js';

export interface LoadedLab {
  definition: LabDefinition;
  dir: string;
  file: string;
}

export function listLabIds(dir = labsDir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'lab.ts')))
    .map((e) => e.name)
    .sort();
}

export async function loadLab(labId: string, dir = labsDir): Promise<LoadedLab> {
  const known = listLabIds(dir);
  if (!known.includes(labId)) {
    throw new UsageError(
      `There is no lab called "${printableName(labId)}".`,
      `Choose one of: ${known.join(', ')} (see \`lab list\`).`,
    );
  }
  const file = path.join(dir, labId, 'lab.ts');
  // Compiled (dist/labs/<id>/lab.js) when the runner runs compiled; instructions and assets stay beside lab.ts.
  const module = await importModule<{ default?: unknown }>(runnableFile(file));
  const definition = validateLab(module.default, file);
  if (definition.id !== labId)
    throw new DefinitionError(rel(file), 'id', `is "${definition.id}" but the folder is "${labId}"`);
  return { definition, dir: path.dirname(file), file };
}

export async function loadAllLabs(dir = labsDir): Promise<LoadedLab[]> {
  return Promise.all(listLabIds(dir).map((id) => loadLab(id, dir)));
}

/** Validates shape with zod, then the cross references zod cannot see; the first problem names file and field. */
export function validateLab(value: unknown, file: string): LabDefinition {
  const where = rel(file);
  if (value === undefined)
    throw new DefinitionError(where, 'default export', 'missing: export default defineLab({...})');
  const parsed = labDefinitionSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DefinitionError(where, formatPath(issue.path), issue.message);
  }
  const lab = value as LabDefinition;
  const labDir = path.dirname(file);
  const serviceNames = new Set<string>();
  lab.services.forEach((s, i) => {
    if (serviceNames.has(s.name))
      throw new DefinitionError(where, `services[${i}].name`, `duplicate service "${s.name}"`);
    serviceNames.add(s.name);
  });
  lab.services.forEach((s, i) => {
    s.dependsOn?.forEach((d, j) => {
      if (!serviceNames.has(d))
        throw new DefinitionError(where, `services[${i}].dependsOn[${j}]`, `unknown service "${d}"`);
    });
    if (s.entry === undefined) {
      if (lab.runtimes.includes('local'))
        throw new DefinitionError(
          where,
          `services[${i}].entry`,
          'is required when the lab lists the local runtime (only compose runs image-only services)',
        );
      return;
    }
    const [scope, target] = splitEntry(s.entry);
    if (scope === 'repo' && !existsSync(path.join(repoDir, target))) {
      throw new DefinitionError(where, `services[${i}].entry`, `file not found: ${target}`);
    }
    if (scope === 'workspace' && !lab.files.some((f) => f.path === target)) {
      throw new DefinitionError(where, `services[${i}].entry`, `${target} is not one of the lab's workspace files`);
    }
  });
  lab.files.forEach((f, i) => {
    if (!existsSync(path.join(repoDir, f.source)))
      throw new DefinitionError(where, `files[${i}].source`, `file not found: ${f.source}`);
    if (path.isAbsolute(f.path) || f.path.split(/[\\/]/).includes('..')) {
      throw new DefinitionError(where, `files[${i}].path`, 'must stay inside the workspace');
    }
  });
  if (lab.runtimes.includes('docker') && !existsSync(path.join(repoDir, 'compose', `${lab.id}.yml`))) {
    throw new DefinitionError(where, 'runtimes', `lists docker, but compose/${lab.id}.yml does not exist`);
  }
  const checkIds = new Set<string>();
  const stepIds = new Set<string>();
  lab.steps.forEach((step, i) => {
    if (stepIds.has(step.id)) throw new DefinitionError(where, `steps[${i}].id`, `duplicate step "${step.id}"`);
    stepIds.add(step.id);
    if (!existsSync(path.join(labDir, step.instructions))) {
      throw new DefinitionError(where, `steps[${i}].instructions`, `file not found: ${step.instructions}`);
    }
    step.checks.forEach((c, j) => {
      if (checkIds.has(c.id))
        throw new DefinitionError(where, `steps[${i}].checks[${j}].id`, `duplicate check "${c.id}"`);
      checkIds.add(c.id);
    });
  });
  return lab;
}

export function splitEntry(entry: string): ['repo' | 'workspace', string] {
  const [scope, ...rest] = entry.split(':');
  return [scope as 'repo' | 'workspace', rest.join(':')];
}

function formatPath(p: ReadonlyArray<PropertyKey>): string {
  return (
    p.reduce<string>(
      (acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)),
      '',
    ) || '(root)'
  );
}

function rel(file: string): string {
  return path.relative(repoDir, file) || file;
}
