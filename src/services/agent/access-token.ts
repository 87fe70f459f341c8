/** OAuth 2.1 client credentials grant with an RFC 8707 resource indicator; the token is cached until near expiry. */
export interface TokenSourceOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  resource: string;
  scope?: string;
}

export function clientCredentialsTokenSource(options: TokenSourceOptions): () => Promise<string> {
  let cached: { token: string; expiresAt: number } | undefined;
  return async () => {
    if (cached && cached.expiresAt - 30_000 > Date.now()) return cached.token;
    const metadataResponse = await fetch(new URL('/.well-known/oauth-authorization-server', options.issuer));
    if (!metadataResponse.ok) throw new Error(`authorization server metadata: HTTP ${metadataResponse.status}`);
    const { token_endpoint } = (await metadataResponse.json()) as { token_endpoint: string };
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: options.clientSecret,
      resource: options.resource,
    });
    if (options.scope) form.set('scope', options.scope);
    const response = await fetch(token_endpoint, { method: 'POST', body: form });
    const body = (await response.json()) as {
      access_token?: string;
      expires_in?: number;
      error?: string;
      error_description?: string;
    };
    if (!response.ok || !body.access_token)
      throw new Error(`token request refused: ${body.error ?? response.status} ${body.error_description ?? ''}`.trim());
    cached = { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 60) * 1000 };
    return cached.token;
  };
}
