/**
 * One cause for many failures: when a check fails or cannot run, look at the services it needs. A service that is
 * down (or not serving TLS yet) becomes the verdict of every dependent check, with its log tail and the check
 * that covers it, instead of a dozen different symptoms or "a bug in the check". Runs only after a failure, so
 * passing checks pay nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fail, type CheckContext, type CheckDefinition, type CheckOutcome } from '../../src/core/lab-definition.js';
import { AGENT_HEALTHCHECK, SERVER_SOCKET, SPIRE_SERVER } from '../../labs/secure-agents/spire-layout.js';
import { presentedIdentity, tlsEndpoint } from '../lib/mtls-probe.js';

export type Need = 'spire-server' | 'spire-agent' | 'opa' | 'rag-index' | 'mcp-server';

interface Diagnosis {
  service: Need;
  what: string;
  /** The check whose subject this is: the learner fixes that one first. */
  prerequisite: string;
}

const tail = async (ctx: CheckContext, service: string) => {
  const lines = (await ctx.logs(service).catch(() => ''))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-4);
  return lines.length > 0 ? ` Its log ends: ${lines.join(' | ').slice(-600)}` : '';
};

async function diagnose(ctx: CheckContext, need: Need): Promise<Diagnosis | undefined> {
  const ran = async (service: string, argv: string[]) =>
    (await ctx.exec(service, argv, { timeoutMs: 10_000 }).catch((e: Error) => ({ exitCode: -1, output: e.message })))
      .exitCode === 0;
  switch (need) {
    case 'spire-server':
      return (await ran('spire-server', [...SPIRE_SERVER, 'healthcheck', ...SERVER_SOCKET]))
        ? undefined
        : { service: need, what: 'the SPIRE server is not healthy', prerequisite: 'spire-agent-attested' };
    case 'spire-agent':
      return (await ran('spire-agent', AGENT_HEALTHCHECK))
        ? undefined
        : { service: need, what: 'the SPIRE agent is not healthy', prerequisite: 'spire-agent-attested' };
    case 'opa':
      return (await ran('opa', ['/opa', 'version']))
        ? undefined
        : { service: need, what: 'OPA is not running', prerequisite: 'policy-opa-test' };
    case 'rag-index':
    case 'mcp-server': {
      const bundleFile = path.join(ctx.secretsDir, 'spire-agent', 'bundle.pem');
      if (!existsSync(bundleFile)) return undefined;
      const seen = await presentedIdentity(tlsEndpoint(ctx, need), readFileSync(bundleFile, 'utf8'), ctx.signal);
      if (seen.id) return undefined;
      const state =
        seen.error === 'ECONNREFUSED'
          ? 'is down (nothing listens on its port)'
          : `is not serving TLS (${seen.error}): it has no SVID yet, or it crashed`;
      return { service: need, what: `${need} ${state}`, prerequisite: 'spire-workloads-svids' };
    }
  }
}

async function rootCause(ctx: CheckContext, needs: Need[], self: string): Promise<CheckOutcome | undefined> {
  const found = (await Promise.all(needs.map((n) => diagnose(ctx, n)))).filter((d): d is Diagnosis => d !== undefined);
  const first = found[0];
  if (!first) return undefined;
  const others = found.slice(1).map((d) => d.what);
  const pointer =
    first.prerequisite === self
      ? `Run \`lab logs ${first.service}\`; \`lab start\` restarts what stopped.`
      : `This check needs ${first.service}: fix that first (check ${first.prerequisite} says why), then run \`lab check\` again. \`lab logs ${first.service}\` shows the whole log.`;
  return fail(
    `Not graded: ${first.what}.${await tail(ctx, first.service)}${others.length > 0 ? ` Also: ${others.join('; ')}.` : ''}`,
    pointer,
  );
}

/** The check, with a failure or an error it throws explained by a down service it needs, when there is one. */
export function needing(needs: Need[], check: CheckDefinition): CheckDefinition {
  return {
    ...check,
    async run(ctx) {
      try {
        const outcome = await check.run(ctx);
        if (outcome.status === 'pass') return outcome;
        return (await rootCause(ctx, needs, check.id)) ?? outcome;
      } catch (error) {
        const cause = await rootCause(ctx, needs, check.id);
        if (cause) return cause;
        throw error;
      }
    },
  };
}

/** Everything a tool call through the MCP server passes. */
export const MCP_PATH: Need[] = ['spire-server', 'spire-agent', 'mcp-server', 'rag-index', 'opa'];
