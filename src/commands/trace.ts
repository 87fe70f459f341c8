import type { CommandContext } from '../core/context.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { openActiveSession } from '../core/lab-session.js';
import { printableName } from '../core/printable.js';
import { lastAgentTrace, readTrace, tracesStartingWith } from '../core/traces.js';
import { renderWaterfall } from '../ui/trace-waterfall.js';
import { defineCommand } from './define.js';

interface TraceOptions {
  last?: boolean;
  json?: boolean;
}

function chooseTrace(dir: string, id: string | undefined, options: TraceOptions): string {
  if (id !== undefined && options.last)
    throw new UsageError('Give a trace id or --last, not both.', 'lab trace --last');
  if (id === undefined) {
    const last = lastAgentTrace(dir);
    if (!last)
      throw new EnvironmentError(
        `No agent run has been traced in this workspace yet (${dir} holds no trace rooted in "agent run").`,
        'Run the agent (`lab check` from step 2 on runs it), then `lab trace --last`.',
      );
    return last;
  }
  if (!/^[0-9a-f]{4,32}$/i.test(id))
    throw new UsageError(
      `"${printableName(id)}" is not a trace id: 32 hex digits, or at least the first 4 (as \`lab audit\` shows 8).`,
      'lab trace --last, or lab trace <trace id>',
    );
  const found = tracesStartingWith(dir, id);
  if (found.length === 1) return found[0]!;
  throw new UsageError(
    found.length === 0
      ? `No trace ${id} in ${dir}.`
      : `${found.length} traces start with ${id}: ${found.slice(0, 5).join(', ')}.`,
    found.length === 0 ? 'lab trace --last shows the newest agent run.' : 'Give more digits of the trace id.',
  );
}

async function traceCommand(ctx: CommandContext, id: string | undefined, options: TraceOptions): Promise<number> {
  const session = await openActiveSession(ctx);
  const dir = session.paths.traces;
  const traceId = chooseTrace(dir, id, options);
  const spans = readTrace(dir, traceId);
  if (options.json) {
    ctx.io.out(JSON.stringify({ schema: 1, traceId, spans }));
    return 0;
  }
  const lines = renderWaterfall(spans, { color: ctx.io.color, width: process.stdout.columns });
  for (const line of lines) ctx.io.out(line);
  return 0;
}

export const command = defineCommand({
  name: 'trace',
  description: "draw one agent run's trace as a waterfall: service, span, duration, status, tokens",
  configure: (c) =>
    c
      .argument('[trace-id]', 'the trace (32 hex digits, or a unique prefix such as the 8 that `lab audit` shows)')
      .option('--last', "the newest agent run's trace (the default)")
      .option('--json', 'print {schema, traceId, spans} as one JSON object'),
  examples: [
    ['lab trace', 'the last agent run, hop by hop'],
    ['lab trace 1f2e3d4c', "the trace of an audit entry (`lab audit`'s trace column)"],
    ['lab trace --last --json | jq ".spans[].name"', 'the spans, for scripts'],
  ],
  notes: [
    "Spans are in <workspace>/.lab/traces/<trace id>.jsonl, written by the lab's trace receiver (OTLP/HTTP).",
    'Tokens: tool arguments→result counted with cl100k_base; "in/out" is what a model reported.',
  ],
  run: (ctx, id: string | undefined, options: TraceOptions) => traceCommand(ctx, id, options),
});
