/**
 * A fetch that presents the workload's SVID and verifies the server against the trust bundle, following
 * rotation. Usable wherever a fetch is taken, notably the MCP SDK's StreamableHTTPClientTransport `fetch`.
 *
 * undici's own fetch with an undici Agent, not the global fetch: Node's bundled undici is another copy and
 * version, and a dispatcher from this one is only accepted there through an undocumented init field.
 */
import { Agent, Request as UndiciRequest, fetch as undiciFetch } from 'undici';
import type { X509Svid } from './workload-api-client.js';
import type { SvidSource } from './svid-source.js';

export type ConnectOptions = Agent.Options['connect'];

/** A fetch plus close(), which ends its connections (a later call opens new ones); still a `typeof fetch`. */
export type MtlsFetch = typeof fetch & { close(): Promise<void> };

type UndiciInit = NonNullable<Parameters<typeof undiciFetch>[1]>;

/**
 * undici's fetch only recognises its own Request class: a global Request would be stringified into
 * "[object Request]" ("Failed to parse URL"). Unpack one into URL + init; init given alongside wins.
 */
function undiciArguments(
  input: string | URL | Request,
  init: RequestInit | undefined,
): [string | URL | UndiciRequest, UndiciInit] {
  const given = (init ?? {}) as UndiciInit;
  if (typeof input === 'string' || input instanceof URL || input instanceof UndiciRequest) return [input, given];
  const fromRequest: UndiciInit = {
    method: input.method,
    headers: [...input.headers],
    redirect: input.redirect,
    signal: input.signal,
    ...(input.body ? { body: input.body, duplex: 'half' as const } : {}),
  };
  return [input.url, { ...fromRequest, ...given }];
}

/**
 * `connectOptions(svid)` gives the TLS side (cert, key, ca, checkServerIdentity: e.g. spiffeServerCheck).
 * Each SVID gets its own Agent, because an Agent's connect options are fixed at construction: when the source
 * rotates, the next request builds a new Agent and the old one closes gracefully (in-flight requests, such as
 * an open event stream, finish on the old certificate; idle connections close). A fresh Agent also has an
 * empty TLS session cache, so the new certificate is really presented instead of a resumed session.
 */
export function mtlsFetch(source: SvidSource, connectOptions: (svid: X509Svid) => ConnectOptions): MtlsFetch {
  let current: { svid: X509Svid; agent: Agent } | undefined;
  const closing = new Set<Promise<void>>();

  const retire = (agent: Agent) => {
    const done = agent.close().catch(() => undefined);
    closing.add(done);
    void done.finally(() => closing.delete(done));
  };

  const agentFor = (svid: X509Svid): Agent => {
    if (current?.svid !== svid) {
      if (current) retire(current.agent);
      current = { svid, agent: new Agent({ connect: connectOptions(svid) }) };
    }
    return current.agent;
  };

  const mtls = async (input: string | URL | Request, init?: RequestInit) => {
    const svid = source.current() ?? (await source.ready());
    const [target, options] = undiciArguments(input, init);
    return undiciFetch(target, { ...options, dispatcher: agentFor(svid) });
  };

  const close = async () => {
    if (current) retire(current.agent);
    current = undefined;
    await Promise.all([...closing]);
  };

  // The cast: undici's Response and Headers are its own classes, structurally the same as the global ones
  // but not `instanceof` them, and its type declarations differ in details (e.g. RequestInit's dispatcher).
  return Object.assign(mtls, { close }) as unknown as MtlsFetch;
}
