/** What the lab 2 operator commands (`lab spire`, `lab identity`, `lab opa test`) share: the running lab 2. */
import type { CommandContext } from '../core/context.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { openActiveSession, type LabSession } from '../core/lab-session.js';

export const LAB2 = 'secure-agents';

export async function openLab2(ctx: CommandContext, command: string): Promise<LabSession> {
  const session = await openActiveSession(ctx);
  if (session.lab.definition.id !== LAB2) {
    throw new UsageError(
      `\`lab ${command}\` works with lab 2 (${LAB2}); the active lab is ${session.lab.definition.id}.`,
      `Start lab 2 with \`npx lab start ${LAB2}\` (Docker).`,
    );
  }
  if (!(await session.runtime.isUp())) {
    throw new EnvironmentError(
      `Lab ${LAB2} is not running: there are no containers to run this in.`,
      `Run \`npx lab start ${LAB2}\` (your work is kept).`,
    );
  }
  return session;
}

/** Runs a command in a lab container; a stopped container is said with the service's own log as the place to look. */
export async function execIn(
  session: LabSession,
  service: string,
  argv: string[],
  options?: { input?: string; timeoutMs?: number },
): Promise<{ exitCode: number; output: string }> {
  const running = (await session.runtime.status()).find((s) => s.name === service);
  if (running?.state === 'stopped') {
    throw new EnvironmentError(
      `The ${service} container is not running${running.detail ? ` (${running.detail})` : ''}.`,
      `\`npx lab logs ${service}\` says why it stopped${service === 'opa' ? ' (OPA stops when a file in policy/ does not compile: the log names the file and line)' : ''}; \`npx lab start ${LAB2}\` starts it again.`,
    );
  }
  return session.runtime.exec(service, argv, options);
}
