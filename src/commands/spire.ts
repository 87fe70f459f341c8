/**
 * `lab spire <args...>`: the SPIRE server's own CLI, run inside the lab's spire-server container (the image has
 * no shell), with the admin socket supplied: `lab spire entry show` is `spire-server entry show -socketPath
 * /run/spire/server/api.sock`. What it prints and its exit status are spire-server's.
 */
import type { CommandContext } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { printableName } from '../core/printable.js';
import { SERVER_SOCKET, SPIRE_SERVER } from '../../labs/secure-agents/spire-layout.js';
import { execIn, openLab2 } from './lab2-access.js';
import { defineCommand } from './define.js';

const EXAMPLES = [
  'npx lab spire entry show',
  'npx lab spire entry create -parentID <agent id> -spiffeID spiffe://lab.ai-infra-labs.dev/agent/research -selector docker:label:dev.ai-infra-labs.workload:agent-research',
  'npx lab spire entry delete -entryID <id>',
  'npx lab spire agent list',
  'npx lab spire bundle show',
];

/** The CLI's commands are one or two words (`healthcheck`, `entry show`); its flags follow them. */
const SUBCOMMANDS_WITH_SOCKET =
  /^(agent|bundle|entry|federation|healthcheck|jwt|localauthority|logger|token|upstreamauthority|x509)$/;

export function spireArgv(args: string[]): string[] {
  const [first] = args;
  if (first === undefined)
    throw new UsageError('Name a spire-server command.', `For example:\n  ${EXAMPLES.join('\n  ')}`);
  if (first === 'run')
    throw new UsageError(
      "`spire-server run` would start a second server inside the lab's.",
      'The lab already runs the server: use its other commands (entry, agent, bundle, healthcheck, x509 ...).',
    );
  if (args.includes('-socketPath') || !SUBCOMMANDS_WITH_SOCKET.test(first)) return [...SPIRE_SERVER, ...args];
  // Flags start after the command words: `entry show -spiffeID x` becomes `entry show -socketPath … -spiffeID x`.
  const words = first === 'healthcheck' ? 1 : args[1] !== undefined && !args[1].startsWith('-') ? 2 : 1;
  return [...SPIRE_SERVER, ...args.slice(0, words), ...SERVER_SOCKET, ...args.slice(words)];
}

async function spireCommand(ctx: CommandContext, args: string[]): Promise<number> {
  const argv = spireArgv(args);
  const session = await openLab2(ctx, 'spire');
  ctx.io.err(ctx.io.color.dim(`$ ${argv.map((a) => printableName(a)).join(' ')}   (in the spire-server container)`));
  const result = await execIn(session, 'spire-server', argv, { timeoutMs: 60_000 });
  if (result.output.trim() !== '') ctx.io.out(result.output.trimEnd());
  if (result.exitCode !== 0) ctx.io.err(ctx.io.color.yellow(`spire-server exited with ${result.exitCode}.`));
  return result.exitCode === 0 ? 0 : 1;
}

export const command = defineCommand({
  name: 'spire',
  description: "lab 2: run spire-server <args> in the lab's SPIRE server container, admin socket supplied",
  // Every argument and flag goes to spire-server as typed (its -h included).
  configure: (c) =>
    c.argument('[args...]', 'spire-server arguments, e.g. entry show').allowUnknownOption().helpOption(false),
  examples: EXAMPLES.map((e) => [e.replace(/^npx /, ''), ''] as [string, string]),
  run: (ctx, args: string[]) => spireCommand(ctx, args),
});
