import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';
import { describeError, withMcpClient } from '../lib/mcp-client.js';
import { getJson, postInitialize, resourceMetadataOf } from '../lib/http-probe.js';
import { agentFailure, agentRun, graderToken, issuerOf, mcpEndpoint, mcpResource, REQUIRED_SCOPE } from './grader.js';

const STEP4_FIX = 'Complete step 4: protect() in mcp-server/auth.ts and the guard in mcp-server/server.ts.';

/** Every step-4 check first needs the server to refuse an anonymous call; otherwise nothing is being enforced. */
async function anonymousRefused(ctx: CheckContext): Promise<{ ok: true } | { ok: false; status: number }> {
  const response = await postInitialize(mcpEndpoint(ctx), ctx.signal);
  return response.status === 401 ? { ok: true } : { ok: false, status: response.status };
}

export const protectedResourceMetadata: CheckDefinition = {
  id: 'auth-metadata',
  title: 'The server publishes RFC 9728 protected-resource metadata',
  async run(ctx) {
    const url = new URL('/.well-known/oauth-protected-resource/mcp', ctx.url('mcp-server'));
    const { status, body } = await getJson(url, ctx.signal);
    if (status !== 200) return fail(`GET ${url.pathname} answered HTTP ${status}.`, `${STEP4_FIX} mcpAuthMetadataRouter serves this document.`);
    const meta = body as { resource?: string; authorization_servers?: string[]; scopes_supported?: string[] };
    const problems = [
      meta.resource !== mcpResource(ctx).href && `resource is ${JSON.stringify(meta.resource)}, expected ${mcpResource(ctx).href}`,
      !meta.authorization_servers?.some((a) => a.replace(/\/$/, '') === issuerOf(ctx)) && `authorization_servers does not name the lab's authorization server ${issuerOf(ctx)}`,
      !meta.scopes_supported?.includes(REQUIRED_SCOPE) && `scopes_supported lacks ${REQUIRED_SCOPE}`,
    ].filter(Boolean);
    if (problems.length > 0) return fail(`The protected-resource metadata is wrong: ${problems.join('; ')}.`, 'Pass resourceServerUrl: resourceUrl, the fetched oauthMetadata and scopesSupported: REQUIRED_SCOPES to mcpAuthMetadataRouter.', { metadata: meta });
    return pass(`Metadata names resource ${meta.resource} and authorization server ${meta.authorization_servers?.[0]}.`);
  },
};

export const noTokenRejected: CheckDefinition = {
  id: 'auth-no-token',
  title: 'A call without a token gets 401 with WWW-Authenticate resource_metadata',
  async run(ctx) {
    const response = await postInitialize(mcpEndpoint(ctx), ctx.signal);
    if (response.status !== 401) return fail(`A call without a token got HTTP ${response.status}, not 401: anyone can use the server.`, STEP4_FIX);
    const header = response.headers.get('www-authenticate');
    const metadataUrl = resourceMetadataOf(header);
    if (!header?.startsWith('Bearer') || !metadataUrl) {
      return fail(`The 401 has WWW-Authenticate ${JSON.stringify(header)}, without resource_metadata: clients cannot discover how to authenticate.`, 'Pass resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceUrl) to requireBearerAuth.');
    }
    const meta = await getJson(ctx.reachable(metadataUrl), ctx.signal).catch(() => ({ status: 0 }));
    if (meta.status !== 200) return fail(`WWW-Authenticate points to ${metadataUrl}, which answered ${meta.status || 'nothing'}.`, 'Serve the metadata at that URL with mcpAuthMetadataRouter.');
    return pass(`401 with resource_metadata="${metadataUrl}", which is served.`);
  },
};

export const badTokensRejected: CheckDefinition = {
  id: 'auth-bad-tokens',
  title: 'Forged, expired and wrong-audience tokens get 401',
  async run(ctx) {
    // jose loads here, not with lab.ts: `lab status` and `lab step` load the lab's checks without running them.
    const { exportJWK, generateKeyPair, SignJWT } = await import('jose');
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const foreignKid = (await exportJWK(privateKey)).x?.slice(0, 16);
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ scope: REQUIRED_SCOPE })
      .setProtectedHeader({ alg: 'EdDSA', kid: foreignKid })
      .setIssuer(issuerOf(ctx))
      .setAudience(mcpResource(ctx).href)
      .setIssuedAt(now)
      .setExpirationTime(now + 120)
      .sign(privateKey);
    const cases: Record<string, string> = {
      'not a JWT': 'not-a-token',
      'signed by a foreign key': forged,
      expired: await graderToken(ctx, { ttlSeconds: -120 }),
      'issued for another resource': await graderToken(ctx, { audience: 'https://other-service.example/mcp' }),
    };
    const accepted: string[] = [];
    for (const [name, token] of Object.entries(cases)) {
      const response = await postInitialize(mcpEndpoint(ctx), ctx.signal, token);
      if (response.status !== 401) accepted.push(`${name} (HTTP ${response.status})`);
    }
    if (accepted.length > 0) return fail(`These tokens were not rejected with 401: ${accepted.join(', ')}.`, 'verifyAccessToken must check the signature against the issuer\'s JWKS, the issuer, the audience (your resource URL) and expiry, and throw InvalidTokenError otherwise.');
    return pass(`All ${Object.keys(cases).length} bad tokens got 401.`);
  },
};

export const insufficientScope: CheckDefinition = {
  id: 'auth-scope',
  title: 'A valid token without the docs:read scope gets 403 insufficient_scope',
  async run(ctx) {
    const anonymous = await anonymousRefused(ctx);
    if (!anonymous.ok) return fail(`Authentication is not enforced (an anonymous call got HTTP ${anonymous.status}).`, STEP4_FIX);
    const response = await postInitialize(mcpEndpoint(ctx), ctx.signal, await graderToken(ctx, { scope: 'profile:read' }));
    const header = response.headers.get('www-authenticate') ?? '';
    if (response.status !== 403 || !header.includes('insufficient_scope')) {
      return fail(`A token with scope "profile:read" got HTTP ${response.status} (WWW-Authenticate ${JSON.stringify(header)}), expected 403 with error="insufficient_scope".`, `Pass requiredScopes: ['${REQUIRED_SCOPE}'] to requireBearerAuth and report the token's scopes in AuthInfo.scopes.`);
    }
    return pass('403 insufficient_scope for a token without docs:read.');
  },
};

export const validTokenServed: CheckDefinition = {
  id: 'auth-valid-token',
  title: 'A valid token is served (and the same call without one is not)',
  async run(ctx) {
    const anonymous = await anonymousRefused(ctx);
    if (!anonymous.ok) return fail(`Authentication is not enforced (an anonymous call got HTTP ${anonymous.status}), so "served with a token" proves nothing yet.`, STEP4_FIX);
    try {
      const headers = { authorization: `Bearer ${await graderToken(ctx)}` };
      return await withMcpClient(mcpEndpoint(ctx), headers, ctx.signal, async (client) => {
        const result = await client.callTool({ name: 'search_documents', arguments: { query: 'protected resource metadata', top_k: 3 } });
        if (result.isError) return fail('With a valid token, search_documents returned an error.', 'See `lab logs mcp-server`.');
        return pass('With a valid token initialize, tools/list and tools/call succeed.');
      });
    } catch (error) {
      return fail(`A valid, correctly scoped token was refused: ${describeError(error)}.`, 'verifyAccessToken must accept tokens signed by the issuer for resource <server>/mcp and return expiresAt (seconds) and scopes.');
    }
  },
};

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;

export const agentAuthenticated: CheckDefinition = {
  id: 'agent-authenticated',
  title: 'The agent works with its own token, and no token appears in logs or transcripts',
  timeoutMs: 45_000,
  async run(ctx) {
    const anonymous = await anonymousRefused(ctx);
    if (!anonymous.ok) return fail(`Authentication is not enforced (an anonymous call got HTTP ${anonymous.status}).`, STEP4_FIX);
    const run = await agentRun(ctx);
    const ok = run.entries.some((e) => e.type === 'tool_called' && e.isError === false);
    if (!ok) return fail(`The agent could not use the protected server: ${agentFailure(run)}.`, 'In agent/connect.ts send headers.Authorization = `Bearer ${await getAccessToken()}` (step 4).');
    for (const service of ['mcp-server', 'auth-server', 'rag-index', 'agent']) {
      if (JWT.test(await ctx.logs(service))) return fail(`The ${service} log contains a bearer token.`, 'Never log tokens or Authorization headers; remove that logging.');
    }
    if (JWT.test(JSON.stringify(run.entries))) return fail('The agent transcript contains a bearer token.', 'Keep tokens out of what the agent records.');
    return pass('The agent obtained its own token and called the protected server; no token appears in logs or the transcript.');
  },
};
