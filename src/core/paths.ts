import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * True when this module runs from the build (dist/src/core/paths.js, what bin/lab.js and the services run),
 * false from the TypeScript sources (src/core/paths.ts, what vitest and tsx run).
 */
export const runsCompiled = !import.meta.url.endsWith('.ts');
/** The repository (package) root: labs/, fixtures/ and the services are found relative to it. */
export const repoDir = path.resolve(here, runsCompiled ? '../../..' : '../..');
/** Where the code that runs lives: dist/ when compiled, else the repository itself (the sources). */
export const codeDir = runsCompiled ? path.join(repoDir, 'dist') : repoDir;
export const labsDir = path.join(repoDir, 'labs');
export const fixturesDir = path.join(repoDir, 'fixtures');

/**
 * Where learner workspaces live: $LAB_HOME, else <repo>/workspace. Tied to the repository rather than the
 * current directory so that `npx lab check` finds the active lab from any sub-folder of the clone.
 */
export function labHome(env: NodeJS.ProcessEnv = process.env): string {
  // An empty LAB_HOME counts as unset (path.resolve('') would be the current folder).
  return path.resolve(env.LAB_HOME || path.join(repoDir, 'workspace'));
}

/** The files of one lab's workspace. Runner-owned files live under .lab/ so learner files stay uncluttered. */
export interface WorkspacePaths {
  home: string;
  dir: string;
  meta: string;
  state: string;
  runtime: string;
  logs: string;
  secrets: string;
  transcripts: string;
  /** Spans the trace receiver wrote, one <trace id>.jsonl per trace (src/core/traces.ts). */
  traces: string;
}

export function workspacePaths(home: string, labId: string): WorkspacePaths {
  const dir = path.join(home, labId);
  const meta = path.join(dir, '.lab');
  return {
    home,
    dir,
    meta,
    state: path.join(meta, 'state.json'),
    runtime: path.join(meta, 'runtime.json'),
    logs: path.join(meta, 'logs'),
    secrets: path.join(meta, 'secrets'),
    transcripts: path.join(meta, 'transcripts'),
    traces: path.join(meta, 'traces'),
  };
}

/** Backups live beside, not inside, the workspace so that `reset --hard` can move a workspace away whole. */
export function backupsDir(home: string, labId: string): string {
  return path.join(home, '.backups', labId);
}
