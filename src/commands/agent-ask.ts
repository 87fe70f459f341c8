/**
 * `lab agent ask "<question>"`: the lab 1 agent on the learner's own question, through their agent/connect.ts,
 * with a real model when an OpenAI-compatible endpoint is configured (model-endpoint.ts) and the scripted planner
 * otherwise, said plainly. The transcript is printed as it happens: the tools the agent saw, what it chose and
 * why, each call and its result, the answer and the tokens the model used.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CommandContext } from '../core/context.js';
import { importModule } from '../core/code-files.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { printable } from '../core/printable.js';
import { runAgent } from '../services/agent/agent.js';
import { createOpenAIPlanner, type TokenUsage } from '../services/agent/openai-planner.js';
import { createDeterministicPlanner, type Planner } from '../services/agent/planner.js';
import { Transcript, type TranscriptEvent } from '../services/agent/transcript.js';
import type { Connect } from '../services/agent/connect-contract.js';
import { agentClient, openLab1, reachServicesByPublishedPorts } from './lab1-access.js';
import { probeModels, resolveModelEndpoint, type ModelFlags } from './model-endpoint.js';
import { defineCommand } from './define.js';

const MAX_QUESTION = 2_000;

/** The transcript file, and each event printed for the learner as it is written. */
class NarratedTranscript extends Transcript {
  constructor(
    file: string,
    private readonly show: (event: TranscriptEvent) => void,
  ) {
    super(file);
  }

  override write(event: TranscriptEvent): void {
    super.write(event);
    this.show(event);
  }
}

async function agentAskCommand(ctx: CommandContext, question: string, flags: ModelFlags): Promise<number> {
  const task = question.trim();
  if (task === '')
    throw new UsageError(
      'The question is empty.',
      'Ask something the course documents answer, e.g. npx lab agent ask "How does SPIRE attest a workload?"',
    );
  if (task.length > MAX_QUESTION)
    throw new UsageError(
      `The question is ${task.length} characters long; the agent takes at most ${MAX_QUESTION}.`,
      'Ask a shorter question.',
    );
  const endpoint = resolveModelEndpoint(ctx.env, flags);
  const lab = await openLab1(ctx, 'agent ask');
  const c = ctx.io.color;

  let planner: Planner;
  let usage: TokenUsage | undefined;
  if (endpoint) {
    let model = endpoint.model;
    if (!model) {
      const probe = await probeModels(endpoint);
      model = probe.reachable ? probe.models?.[0] : undefined;
      if (!model) {
        throw new UsageError(
          `No model named for ${endpoint.baseUrl}${probe.reachable ? ', and it lists none at /models' : ` (it did not answer: ${probe.reachable ? '' : probe.error})`}.`,
          'Name one with --model <name> or OPENAI_MODEL (`npx lab doctor` lists what the endpoint serves).',
        );
      }
      ctx.io.out(
        c.dim(
          `(no --model or OPENAI_MODEL: using ${printable(model)}, the first model ${endpoint.baseUrl}/models lists)`,
        ),
      );
    }
    const openai = createOpenAIPlanner({ baseUrl: endpoint.baseUrl, model, apiKey: endpoint.apiKey });
    planner = openai;
    usage = openai.usage;
    ctx.io.out(
      `${c.bold('Planner')}   model ${printable(model)} at ${printable(endpoint.baseUrl)} (from ${endpoint.source}${endpoint.apiKey ? `, key from $${endpoint.apiKeyEnv}` : ', no API key'})`,
    );
  } else {
    planner = createDeterministicPlanner();
    ctx.io.out(
      `${c.bold('Planner')}   ${c.yellow('SCRIPTED')}: no model endpoint is configured, so a fixed script plans instead of a model. It searches with your question,`,
    );
    ctx.io.out(
      '          reads the top hit and quotes it; it does not reason. For a real model: --base-url http://127.0.0.1:11434/v1 --model <name>',
    );
    ctx.io.out(
      '          (Ollama, vLLM, LM Studio, OpenAI: any OpenAI-compatible endpoint), or OPENAI_BASE_URL / OPENAI_MODEL / OPENAI_API_KEY.',
    );
  }
  ctx.io.out(`${c.bold('Question')}  ${printable(task)}`);

  const file = path.join(lab.session.paths.transcripts, 'ask.jsonl');
  const transcript = new NarratedTranscript(file, (event) => show(ctx, event));
  transcript.write({ type: 'session_started', task, planner: planner.name });
  const connectFile = path.join(lab.session.paths.dir, 'agent', 'connect.ts');
  let client: Client | undefined;
  const restoreFetch = reachServicesByPublishedPorts(lab);
  try {
    try {
      const { connect } = await importModule<{ connect: Connect }>(connectFile, `?t=${randomUUID()}`);
      // As the agent job is called: its registration only, and the endpoint by its name (the token's audience).
      client = await connect({ serverUrl: lab.resource, oauthClient: agentClient(lab) });
      if (!client.getServerVersion())
        throw new Error('connect() returned a client that has not connected (no initialize handshake happened)');
    } catch (error) {
      transcript.write({ type: 'error', stage: 'connect', message: (error as Error).message });
      throw new EnvironmentError(
        `The agent could not connect through your agent/connect.ts: ${(error as Error).message}`,
        'Complete agent/connect.ts (step 2 connects, step 4 authenticates); `npx lab check 2` or `npx lab check 4` says what is missing.',
      );
    }
    try {
      await runAgent({ client, planner, task, transcript });
    } catch (error) {
      transcript.write({ type: 'error', stage: 'run', message: (error as Error).message });
      throw new EnvironmentError(
        `The agent stopped: ${(error as Error).message}`,
        endpoint
          ? '`npx lab doctor` says whether the model endpoint answers and which models it serves.'
          : '`npx lab logs mcp-server` shows what the server saw.',
      );
    }
  } finally {
    await client?.close().catch(() => undefined);
    restoreFetch();
  }
  if (usage) {
    ctx.io.out(
      `${c.bold('Tokens')}    ${usage.total > 0 ? `${usage.prompt} prompt + ${usage.completion} completion = ${usage.total} total` : 'the endpoint reported no usage'} over ${usage.calls} model call${usage.calls === 1 ? '' : 's'}`,
    );
  } else {
    ctx.io.out(`${c.bold('Tokens')}    none: the scripted planner uses no model`);
  }
  ctx.io.out(
    c.dim(
      `Transcript: ${printable(file)} (one JSON event a line; the checks read the agent job's own transcript, not this one)`,
    ),
  );
  return 0;
}

function show(ctx: CommandContext, event: TranscriptEvent): void {
  const c = ctx.io.color;
  const out = (text: string) => ctx.io.out(text);
  switch (event.type) {
    case 'connected':
      out(
        `${c.bold('Connected')} to ${event.server ? printable(`${event.server.name} ${event.server.version}`) : 'the server'} through your agent/connect.ts`,
      );
      break;
    case 'tools_listed':
      out(`${c.bold('Tools seen')} (${event.tools.length}, from tools/list):`);
      for (const tool of event.tools)
        out(`  ${printable(tool.name)}${tool.description ? c.dim(` - ${printable(tool.description, 120)}`) : ''}`);
      break;
    case 'tool_selected':
      out(`${c.cyan('→ calls')} ${printable(event.tool)} ${printable(JSON.stringify(event.arguments), 300)}`);
      out(`    why: ${printable(event.reason, 400)}`);
      break;
    case 'tool_called':
      out(
        `${c.cyan('← result')} ${event.isError ? c.red('isError') : 'ok'} in ${event.durationMs} ms${event.resultIds.length > 0 ? `, documents ${event.resultIds.slice(0, 5).join(', ')}` : ''}`,
      );
      out(c.dim(`    ${printable(event.preview.replace(/\s+/g, ' '), 200)}`));
      break;
    case 'finished':
      out(`${c.bold('Answer')}    ${printable(event.answer.replace(/\s+/g, ' '), 2_000)}`);
      break;
    default:
      break;
  }
}

export const command = defineCommand({
  name: 'agent',
  description: 'lab 1: run the agent by hand',
  subcommands: [
    {
      name: 'ask',
      description:
        'ask the agent a question and show its transcript: tools seen, choices and why, calls, answer, tokens',
      configure: (c) =>
        c
          .argument('<question...>', 'your question (quote it)')
          .option(
            '--base-url <url>',
            'an OpenAI-compatible API root (default: $OPENAI_BASE_URL; none: the scripted planner)',
          )
          .option('--model <name>', 'the model (default: $OPENAI_MODEL, else the first the endpoint lists)')
          .option('--api-key-env <name>', 'the environment variable holding the API key (default: OPENAI_API_KEY)'),
      examples: [
        ['lab agent ask "How does a SPIRE agent attest a workload?"', 'the scripted planner, said plainly'],
        [
          'lab agent ask --base-url http://127.0.0.1:11434/v1 --model <name> "..."',
          'a real model (Ollama, vLLM, LM Studio, OpenAI)',
        ],
      ],
      run: (ctx, words: string[], options: ModelFlags) => agentAskCommand(ctx, words.join(' '), options),
    },
  ],
});
