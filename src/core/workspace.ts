/**
 * The learner's workspace: starter files rendered from the reference sources, solutions written on request.
 * Learner files are never overwritten without a backup, and never silently.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileStamp } from './file-stamp.js';
import type { LoadedLab } from './lab-catalog.js';
import { ensureLabHome, makeDirs } from './make-dirs.js';
import { backupsDir, repoDir, type WorkspacePaths } from './paths.js';
import { linkWorkspaceModules } from './runner-link.js';
import { renderRegions, stepsInSource } from './solution-regions.js';

export function createWorkspace(lab: LoadedLab, paths: WorkspacePaths): string[] {
  const created: string[] = [];
  ensureLabHome(paths.home);
  for (const dir of [paths.dir, paths.meta, paths.logs, paths.transcripts]) makeDirs(dir);
  makeDirs(paths.secrets, 0o700);
  for (const file of lab.definition.files) {
    const target = path.join(paths.dir, file.path);
    if (existsSync(target)) continue;
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, starterContent(file.source));
    created.push(file.path);
  }
  const readme = path.join(lab.dir, 'README.md');
  if (existsSync(readme) && !existsSync(path.join(paths.dir, 'README.md')))
    copyFileSync(readme, path.join(paths.dir, 'README.md'));
  // Every start, so that workspaces made by an older runner are upgraded too.
  linkWorkspaceModules(paths.dir, !isInside(paths.dir, repoDir));
  return created;
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

function starterContent(source: string): string {
  return renderRegions(readFileSync(path.join(repoDir, source), 'utf8'), 0);
}

export interface SolvePlan {
  step: number;
  /** Files the solution writes, with whether the learner has changed them from the starter. */
  files: Array<{ path: string; content: string; learnerChanged: boolean; differs: boolean }>;
}

/** The reference state through `step` for every file that has a region of that step. */
export function planSolve(lab: LoadedLab, paths: WorkspacePaths, step: number): SolvePlan {
  const files = lab.definition.files
    .map((file) => {
      const source = readFileSync(path.join(repoDir, file.source), 'utf8');
      if (!stepsInSource(source).has(step)) return undefined;
      const target = path.join(paths.dir, file.path);
      const current = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
      const content = renderRegions(source, step);
      return {
        path: file.path,
        content,
        learnerChanged: current !== undefined && current !== renderRegions(source, 0) && current !== content,
        differs: current !== content,
      };
    })
    .filter((f) => f !== undefined);
  return { step, files };
}

/** Writes the plan, first copying every file it replaces into a timestamped backup; returns the backup folder. */
export function applySolve(plan: SolvePlan, paths: WorkspacePaths, labId: string, now: Date): string | undefined {
  const changing = plan.files.filter((f) => f.differs);
  if (changing.length === 0) return undefined;
  const backup = path.join(backupsDir(paths.home, labId), `${fileStamp(now)}-before-solve-${plan.step}`);
  for (const file of changing) {
    const target = path.join(paths.dir, file.path);
    if (existsSync(target)) {
      mkdirSync(path.dirname(path.join(backup, file.path)), { recursive: true });
      copyFileSync(target, path.join(backup, file.path));
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
  return backup;
}

/** Copies the whole workspace (runner files included) aside; `reset --hard` uses it before clearing. */
export function backupWorkspace(paths: WorkspacePaths, labId: string, now: Date, reason: string): string {
  const backup = path.join(backupsDir(paths.home, labId), `${fileStamp(now)}-${reason}`);
  cpSync(paths.dir, backup, {
    recursive: true,
    verbatimSymlinks: true,
    filter: (src) => path.basename(src) !== 'node_modules',
  });
  return backup;
}
