/** Raw HTTP probes for what an SDK client hides: status codes and authentication headers. */
export interface ProbeResponse {
  status: number;
  headers: Headers;
  body: string;
}

/** The three JSON-RPC requests every negative probe is sent as: the server is stateless, each must be authenticated. */
export const PROBE_METHODS = {
  initialize: {
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lab-probe', version: '1.0.0' } },
  },
  'tools/list': { method: 'tools/list', params: {} },
  'tools/call': {
    method: 'tools/call',
    params: { name: 'search_documents', arguments: { query: 'workload attestation', top_k: 2 } },
  },
} as const;
export type ProbeMethod = keyof typeof PROBE_METHODS;

export interface RpcProbe {
  token?: string;
  /** The Authorization scheme as written (default "Bearer"). */
  scheme?: string;
  /** Extra query parameters on the endpoint URL. */
  query?: Record<string, string>;
  /** Extra top-level fields in the JSON body. */
  bodyExtra?: Record<string, unknown>;
  /** Extra request headers. */
  headers?: Record<string, string>;
}

export async function postRpc(
  endpoint: URL,
  method: ProbeMethod,
  signal: AbortSignal,
  probe: RpcProbe = {},
): Promise<ProbeResponse> {
  const url = new URL(endpoint);
  for (const [k, v] of Object.entries(probe.query ?? {})) url.searchParams.set(k, v);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
      ...(probe.token ? { authorization: `${probe.scheme ?? 'Bearer'} ${probe.token}` } : {}),
      ...probe.headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, ...PROBE_METHODS[method], ...probe.bodyExtra }),
    signal,
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

export function postInitialize(endpoint: URL, signal: AbortSignal, token?: string): Promise<ProbeResponse> {
  return postRpc(endpoint, 'initialize', signal, { token });
}

export async function getJson(url: URL | string, signal: AbortSignal): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { signal });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) };
  } catch {
    return { status: response.status, body: text };
  }
}

/** The resource_metadata parameter of a `WWW-Authenticate: Bearer ...` header. */
export function resourceMetadataOf(header: string | null): string | undefined {
  return header ? /resource_metadata="([^"]+)"/i.exec(header)?.[1] : undefined;
}

/** RFC 7235: auth scheme names compare case-insensitively. */
export function isBearerChallenge(header: string | null): boolean {
  return /^bearer(\s|$)/i.test(header ?? '');
}
