/**
 * Which processes are the lab's, and how they are stopped without ever touching anyone else's. A pid alone
 * proves nothing once it can have been reused. A recorded service process is the lab's only when it carries
 * this run's id (LAB_RUN_ID) AND has the start time recorded at spawn; any other process only when its
 * environment carries this workspace's markers (LAB_WORKSPACE and LAB_HOME, which every service gets and which
 * need no state file). Every signal is preceded by a fresh identity check, and a process group is signalled
 * only through a leader that passes it.
 */
import type { Clock, ProcessControl, ProcessIdentity } from '../core/ports.js';

/** What every process of a local lab run carries in its environment. */
export interface LabMarkers {
  /** LAB_WORKSPACE: the workspace directory. */
  workspace: string;
  /** LAB_HOME: the lab home the workspace is in. */
  home: string;
}

export const MARKER = { runId: 'LAB_RUN_ID', workspace: 'LAB_WORKSPACE', home: 'LAB_HOME' } as const;

function carries(identity: ProcessIdentity, markers: LabMarkers): boolean {
  return identity.markers[MARKER.workspace] === markers.workspace && identity.markers[MARKER.home] === markers.home;
}

/** The recorded service process, when it is still that process: alive, same start time, same run id. */
export function verifyRecorded(
  processes: ProcessControl,
  pid: number,
  expected: { startTime?: string; runId: string },
): ProcessIdentity | undefined {
  if (expected.startTime === undefined) return undefined;
  const identity = processes.identify(pid);
  if (!identity || identity.startTime !== expected.startTime || identity.markers[MARKER.runId] !== expected.runId)
    return undefined;
  return identity;
}

/** Every live process carrying this workspace's markers, found by scanning, whatever the state files say. */
export function findLabProcesses(processes: ProcessControl, markers: LabMarkers): ProcessIdentity[] {
  return processes
    .findByEnv(MARKER.workspace, markers.workspace)
    .map((pid) => processes.identify(pid))
    .filter((identity): identity is ProcessIdentity => identity !== undefined && carries(identity, markers));
}

/** Still the same process as when it was identified (not gone, not a reused pid)? */
function same(processes: ProcessControl, target: ProcessIdentity): boolean {
  const now = processes.identify(target.pid);
  return now !== undefined && now.startTime === target.startTime;
}

function signalVerified(processes: ProcessControl, targets: ProcessIdentity[], signal: NodeJS.Signals): void {
  for (const target of targets) {
    if (!same(processes, target)) continue;
    // A leader verified as the lab's takes its whole group (its children); anything else only itself.
    if (target.pgid === target.pid) processes.signalGroup(target.pid, signal);
    else processes.signal(target.pid, signal);
  }
}

/**
 * SIGTERM, a grace period, then SIGKILL for what is left; only ever to targets that still are the processes
 * identified. Returns the targets still running afterwards.
 */
export async function stopLabProcesses(
  processes: ProcessControl,
  clock: Clock,
  targets: ProcessIdentity[],
  graceMs: number,
): Promise<ProcessIdentity[]> {
  if (targets.length === 0) return [];
  const running = () => targets.filter((t) => same(processes, t));
  signalVerified(processes, targets, 'SIGTERM');
  const deadline = clock.now().getTime() + graceMs;
  while (running().length > 0 && clock.now().getTime() < deadline) await clock.sleep(50);
  signalVerified(processes, running(), 'SIGKILL');
  const killDeadline = clock.now().getTime() + 2_000;
  while (running().length > 0 && clock.now().getTime() < killDeadline) await clock.sleep(20);
  return running();
}
