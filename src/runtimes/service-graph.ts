import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isTypeScript, runnableFile } from '../core/code-files.js';
import { splitEntry } from '../core/lab-catalog.js';
import type { ServiceDefinition } from '../core/lab-definition.js';

/** Services in start order: every service after the ones it depends on. */
export function startOrder(services: ServiceDefinition[]): ServiceDefinition[] {
  const byName = new Map(services.map((s) => [s.name, s]));
  const ordered: ServiceDefinition[] = [];
  const visit = (s: ServiceDefinition, trail: string[]) => {
    if (ordered.includes(s)) return;
    if (trail.includes(s.name)) throw new Error(`dependency cycle: ${[...trail, s.name].join(' -> ')}`);
    for (const dep of s.dependsOn ?? []) visit(byName.get(dep)!, [...trail, s.name]);
    ordered.push(s);
  };
  for (const s of services) visit(s, []);
  return ordered;
}

/**
 * The file a service runs: a runner-owned entry (`repo:`) compiled, from dist/, when the runner runs compiled; a
 * learner's entry (`workspace:`) is their TypeScript as written.
 */
function entryPath(service: ServiceDefinition, workspaceDir: string): string {
  if (service.entry === undefined) throw new Error(`service ${service.name} has no entry module`);
  const [scope, target] = splitEntry(service.entry);
  return scope === 'repo' ? runnableFile(target) : path.join(workspaceDir, target);
}

// Absolute, so it resolves from any cwd (services run in the workspace).
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Node's arguments to run a service: compiled JavaScript under plain node, TypeScript (learner code) through tsx.
 * A long-running service first loads the log stamp (timestamps, a separator per start); a job's output is parsed
 * by the checks, so it runs as written.
 */
export function nodeArgs(service: ServiceDefinition, workspaceDir: string): string[] {
  const file = entryPath(service, workspaceDir);
  const preload = runnableFile('src/services/logging/preload.ts');
  const needsTsx = isTypeScript(file) || (service.role !== 'job' && isTypeScript(preload));
  return [
    ...(needsTsx ? ['--import', TSX_LOADER] : []),
    ...(service.role === 'job' ? [] : ['--import', pathToFileURL(preload).href]),
    file,
  ];
}

/**
 * What a running service was started from: its environment and the content of the workspace files it watches.
 * A different fingerprint means the running process is stale and must restart before checks.
 */
export function fingerprint(env: Record<string, string>, workspaceDir: string, watch: string[] = []): string {
  const hash = createHash('sha256').update(JSON.stringify(Object.entries(env).sort()));
  for (const rel of watch) {
    for (const file of listFiles(path.join(workspaceDir, rel))) {
      hash.update(path.relative(workspaceDir, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  }
  return hash.digest('hex');
}

function listFiles(target: string): string[] {
  if (!existsSync(target)) return [];
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules' && !e.name.startsWith('.'))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => listFiles(path.join(target, e.name)));
}
