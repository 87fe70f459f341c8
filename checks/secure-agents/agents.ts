/** The two agent jobs as the checks see them: each run's `RESULT {json}` line (see src/services/secure-agent/main.ts). */
import type { CheckContext } from '../../src/core/lab-definition.js';
import { lastLines } from '../../src/core/text.js';

export interface AgentRun {
  role: string;
  spiffe_id: string | null;
  connected: boolean;
  tools: string[];
  calls: Array<{
    query: string;
    collection: string | null;
    trace_id: string;
    outcome: 'ok' | 'denied' | 'error';
    detail: string;
  }>;
  error?: string;
}

export const AGENT_JOBS = { research: 'agent-research', support: 'agent-support' } as const;

/** Runs the job once per grading pass (runJob is shared by all checks of the pass). */
export async function agentRun(ctx: CheckContext, role: keyof typeof AGENT_JOBS): Promise<AgentRun> {
  const job = await ctx.runJob(AGENT_JOBS[role]);
  const line = job.output
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('RESULT '));
  if (!line) {
    const tail = lastLines(job.output, 3).join(' | ');
    return {
      role,
      spiffe_id: null,
      connected: false,
      tools: [],
      calls: [],
      error: `the agent printed no result (exit ${job.exitCode}): ${tail}`,
    };
  }
  return JSON.parse(line.slice('RESULT '.length)) as AgentRun;
}
