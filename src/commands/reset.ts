import { existsSync, rmSync } from 'node:fs';
import type { CommandContext } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { clearActive, openSession, readActiveOrSetAside, withHomeLock } from '../core/lab-session.js';
import { newState } from '../core/state-store.js';
import { backupWorkspace } from '../core/workspace.js';
import { listLabIds, loadLab } from '../core/lab-catalog.js';
import { stopLab, stopLabVerified } from './stop.js';
import { confirmReplace } from './confirm.js';
import { defineCommand } from './define.js';

/**
 * Clears the way for a new attempt: stops the lab and verifies nothing is left running, then restarts progress.
 * Learner files stay unless --hard, which moves the whole workspace into a backup first.
 */
export async function resetCommand(
  ctx: CommandContext,
  labArg: string | undefined,
  options: { hard?: boolean; yes?: boolean },
): Promise<number> {
  return withHomeLock(ctx, 'reset', () => reset(ctx, labArg, options));
}

async function reset(
  ctx: CommandContext,
  labArg: string | undefined,
  options: { hard?: boolean; yes?: boolean },
): Promise<number> {
  if (labArg !== undefined) await loadLab(labArg); // an unknown lab is refused before anything else
  const active = readActiveOrSetAside(ctx);
  const labId = labArg ?? active?.lab;
  if (!labId) {
    // No (valid) active record: whatever of this home still runs is stopped all the same, then the lab is asked for.
    const stopped = [];
    for (const id of listLabIds()) stopped.push(...(await stopLab(ctx, id)));
    for (const r of stopped.filter((r) => r.stopped.length > 0))
      ctx.io.out(`Stopped ${r.lab} on the ${r.runtime} runtime: ${r.stopped.join(', ')}.`);
    const left = stopped.flatMap((r) => r.left.map((what) => `${r.lab} (${r.runtime}): ${what}`));
    const running = left.length > 0 ? ` Still running: ${left.join(', ')}.` : '';
    throw new UsageError(
      `No lab is active, so there is no progress to reset.${running}`,
      `Name the lab: \`lab reset <lab>\` (one of ${listLabIds().join(', ')}).`,
    );
  }
  const lab = await loadLab(labId);
  const session = await openSession(ctx, labId, active?.lab === labId ? active.runtime : lab.definition.runtimes[0]!);
  if (options.hard && !options.yes) {
    const question = `Reset ${labId} hard? Your workspace ${session.paths.dir} is moved to a backup and replaced by fresh starter files.`;
    const refusal = new UsageError(
      '`lab reset --hard` replaces your workspace files.',
      'Add --yes to confirm (the workspace is backed up first).',
    );
    if (!(await confirmReplace(ctx, question, refusal))) return 0;
  }
  // On every runtime the lab supports, from markers and labels: runtime.json may be damaged or gone.
  await stopLabVerified(ctx, labId);
  if (active?.lab === labId) clearActive(ctx.home);
  const now = ctx.clock.now();
  if (options.hard) {
    if (existsSync(session.paths.dir)) {
      const backup = backupWorkspace(session.paths, labId, now, 'before-reset-hard');
      rmSync(session.paths.dir, { recursive: true, force: true });
      ctx.io.out(`Moved your workspace to ${backup}.`);
    }
  } else if (session.state.exists()) {
    let history: ReturnType<typeof session.state.read> | undefined;
    try {
      history = session.state.read();
    } catch {
      const kept = session.state.quarantine(now);
      if (kept) ctx.io.out(`The progress file was corrupt; kept it as ${kept}.`);
    }
    const fresh = newState(labId, now);
    // Progress starts over; the record of earlier attempts stays.
    if (history) fresh.events = [...history.events, { at: now.toISOString(), type: 'reset' }];
    if (history) fresh.checkRuns = history.checkRuns;
    if (history) fresh.attempts = history.attempts;
    session.state.write(fresh);
    // What else a new attempt starts afresh is the lab's to say (lab 2: a new audit chain).
    for (const line of lab.definition.onReset?.({ workspaceDir: session.paths.dir, now }) ?? []) ctx.io.out(line);
  }
  ctx.io.out(
    `Reset ${labId}: nothing of it is running${options.hard ? '' : '; your files are kept'}. Start again with \`lab start ${labId}\`.`,
  );
  return 0;
}

export const command = defineCommand({
  name: 'reset',
  description: 'stop the lab, verify nothing is left running, restart progress (files kept unless --hard)',
  configure: (c) =>
    c
      .argument('[lab]', 'lab id (default: the active lab)')
      .option('--hard', 'also replace your workspace with fresh starter files (a backup is kept)')
      .option('-y, --yes', 'do not ask'),
  run: (ctx, lab: string | undefined, options: { hard?: boolean; yes?: boolean }) => resetCommand(ctx, lab, options),
});
