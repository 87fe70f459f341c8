/** Raw HTTP probes for what an SDK client hides: status codes and authentication headers. */
export interface ProbeResponse {
  status: number;
  headers: Headers;
  body: string;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lab-probe', version: '1.0.0' } },
};

export async function postInitialize(endpoint: URL, signal: AbortSignal, token?: string): Promise<ProbeResponse> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(INITIALIZE),
    signal,
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
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
  return header ? /resource_metadata="([^"]+)"/.exec(header)?.[1] : undefined;
}
