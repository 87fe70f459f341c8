/**
 * What `lab mcp`, `lab token` and `lab agent ask` share: lab 1's running services as seen from the learner's
 * machine, and an access token obtained the way the agent obtains one (RFC 8414 metadata, then a client
 * credentials grant with an RFC 8707 resource indicator, as the agent's client). The token is only ever returned
 * to the caller; nothing here writes it to a log.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { openActiveSession, withHomeLock, type LabSession } from '../core/lab-session.js';
import { agentCredentialsFile, type ClientCredentials } from '../services/auth-server/credentials.js';

export const LAB1 = 'mcp-integration';

export interface Lab1 {
  session: LabSession;
  /** Where this machine reaches the MCP endpoint (published on 127.0.0.1). */
  endpoint: URL;
  /** The endpoint's identity, the audience tokens are issued for (under Docker: the service's network name). */
  resource: URL;
  /** Where this machine reaches the authorization server. */
  authUrl: URL;
}

/**
 * The active lab 1 with its MCP server running, restarted first from the learner's files if they changed (as
 * `lab check` does), so what answers is what they wrote. Exit 2 with a fix otherwise.
 */
export async function openLab1(ctx: CommandContext, command: string): Promise<Lab1> {
  const session = await openActiveSession(ctx);
  if (session.lab.definition.id !== LAB1) {
    throw new UsageError(
      `\`lab ${command}\` works with lab 1 (${LAB1}); the active lab is ${session.lab.definition.id}.`,
      `Start lab 1 with \`npx lab start ${LAB1}\`.`,
    );
  }
  if (!(await session.runtime.isUp())) {
    throw new EnvironmentError(
      `Lab ${LAB1} is not running, so there is no MCP server to talk to.`,
      `Run \`npx lab start ${LAB1}\` (your work is kept).`,
    );
  }
  const problems = await withHomeLock(ctx, command, () => session.runtime.refresh());
  for (const problem of problems) {
    throw new EnvironmentError(
      `Your ${problem.service} did not start from your files: ${problem.message}${problem.logTail ? `\n${problem.logTail}` : ''}`,
      `Fix the error above in your workspace, then run \`npx lab ${command}\` again; \`npx lab logs ${problem.service}\` shows the whole log.`,
    );
  }
  const status = await session.runtime.status();
  for (const name of ['mcp-server', 'auth-server']) {
    const service = status.find((s) => s.name === name);
    if (service?.state !== 'running') {
      throw new EnvironmentError(
        `The lab's ${name} is not running (${service?.state ?? 'missing'}${service?.detail ? `: ${service.detail}` : ''}), so there is nothing to talk to.`,
        `Run \`npx lab start ${LAB1}\` to start it; if it fails to start, \`npx lab logs ${name}\` says why.`,
      );
    }
  }
  return {
    session,
    endpoint: new URL('/mcp', session.runtime.url('mcp-server')),
    resource: new URL('/mcp', session.runtime.serviceUrl('mcp-server')),
    authUrl: session.runtime.url('auth-server'),
  };
}

export interface IssuedToken {
  token: string;
  clientId: string;
  scope: string;
  expiresIn: number;
  tokenEndpoint: string;
}

/** The agent's OAuth client registration for this run (the runner made it; `lab start` makes a fresh one). */
export function agentClient(lab: Lab1): { clientId: string; clientSecret: string; issuer: string } {
  const credentials = JSON.parse(
    readFileSync(path.join(lab.session.paths.secrets, agentCredentialsFile('agent')), 'utf8'),
  ) as ClientCredentials;
  return {
    clientId: credentials.client_id,
    clientSecret: credentials.client_secret,
    issuer: lab.session.runtime.serviceUrl('auth-server').href,
  };
}

/**
 * Learner code run on this machine (`lab agent ask`) meets the services by the names they call themselves: under
 * Docker the MCP endpoint, its metadata and the authorization server's carry network names (http://auth-server:…)
 * that only resolve inside the lab's network. Until the returned function is called, fetch reaches those origins
 * on their published ports instead; nothing changes when the names are this machine's already (local runtime).
 */
export function reachServicesByPublishedPorts(lab: Lab1): () => void {
  const runtime = lab.session.runtime;
  const published = new Map(
    ['mcp-server', 'auth-server']
      .map((name) => [runtime.serviceUrl(name).origin, runtime.url(name).origin] as const)
      .filter(([inside, outside]) => inside !== outside),
  );
  if (published.size === 0) return () => undefined;
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const url = new URL(request ? request.url : String(input));
    const outside = published.get(url.origin);
    if (!outside) return original(input, init);
    const mapped = new URL(`${url.pathname}${url.search}`, outside);
    return original(request ? new Request(mapped, request) : mapped, init);
  };
  return () => {
    globalThis.fetch = original;
  };
}

/**
 * A token from the lab's authorization server for the agent's client: metadata first (RFC 8414), then the token
 * endpoint it names. Under Docker that endpoint carries the service's network name, which this machine cannot
 * resolve: the same path is asked on the published port instead.
 */
export async function requestToken(lab: Lab1, options: { scope?: string } = {}): Promise<IssuedToken> {
  const credentials = agentClient(lab);
  const metadataUrl = new URL('/.well-known/oauth-authorization-server', lab.authUrl);
  const metadataResponse = await reach(metadataUrl, undefined);
  if (!metadataResponse.ok) throw authServerError(`${metadataUrl.href} answered HTTP ${metadataResponse.status}`);
  const metadata = (await metadataResponse.json()) as { issuer?: string; token_endpoint?: string };
  if (!metadata.token_endpoint) throw authServerError(`its metadata at ${metadataUrl.href} names no token_endpoint`);
  const advertised = new URL(metadata.token_endpoint);
  const tokenEndpoint = new URL(advertised.pathname, lab.authUrl);
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    resource: lab.resource.href,
  });
  if (options.scope !== undefined) form.set('scope', options.scope);
  const response = await reach(tokenEndpoint, { method: 'POST', body: form });
  const body = (await response.json().catch(() => ({}))) as {
    access_token?: string;
    expires_in?: number;
    scope?: string;
    error?: string;
    error_description?: string;
  };
  if (!response.ok || !body.access_token) {
    throw new EnvironmentError(
      `The authorization server refused the token request: ${body.error ?? `HTTP ${response.status}`}${body.error_description ? ` (${body.error_description})` : ''}.`,
      options.scope !== undefined
        ? "Ask for a scope the agent's client may have (docs:read), or leave out --scope."
        : `\`npx lab logs auth-server\` shows what it saw; \`npx lab start ${LAB1}\` makes fresh credentials.`,
    );
  }
  return {
    token: body.access_token,
    clientId: credentials.clientId,
    scope: body.scope ?? '',
    expiresIn: body.expires_in ?? 0,
    tokenEndpoint: advertised.href,
  };
}

async function reach(url: URL, init: RequestInit | undefined): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw authServerError(`${url.origin} did not answer (${(error as Error).message})`);
  }
}

const authServerError = (why: string) =>
  new EnvironmentError(
    `Could not get a token from the lab's authorization server: ${why}.`,
    `Run \`npx lab status\`; \`npx lab start ${LAB1}\` restarts what is down.`,
  );

/** The JSON header and claims of a JWT, without verifying it (the MCP server verifies; this only shows). */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.');
  const part = (text: string | undefined) =>
    JSON.parse(Buffer.from(text ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  try {
    return { header: part(header), claims: part(claims) };
  } catch {
    throw new UsageError(
      'That token is not a JWT (three base64url parts, the first two JSON).',
      'Pass the access_token of a token response, or leave --token out to get one from the lab.',
    );
  }
}
