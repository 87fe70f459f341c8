import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { splitEntry } from '../core/lab-catalog.js';
import type { ServiceDefinition } from '../core/lab-definition.js';
import { repoDir } from '../core/paths.js';

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
  services.forEach((s) => visit(s, []));
  return ordered;
}

export function entryPath(service: ServiceDefinition, workspaceDir: string): string {
  if (service.entry === undefined) throw new Error(`service ${service.name} has no entry module`);
  const [scope, target] = splitEntry(service.entry);
  return scope === 'repo' ? path.join(repoDir, target) : path.join(workspaceDir, target);
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
