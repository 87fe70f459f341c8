import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';
import { describeError, withMcpClient } from '../lib/mcp-client.js';
import {
  getJson,
  isBearerChallenge,
  postRpc,
  PROBE_METHODS,
  resourceMetadataOf,
  type ProbeMethod,
  type RpcProbe,
} from '../lib/http-probe.js';
import { graderToken, issuerOf, mcpEndpoint, mcpResource, REQUIRED_SCOPE } from './grader.js';

const STEP4_FIX = 'Complete step 4: protect() in mcp-server/auth.ts and the guard in mcp-server/server.ts.';
const METHODS = Object.keys(PROBE_METHODS) as ProbeMethod[];

/** Every step-4 check first needs the server to refuse an anonymous call; otherwise nothing is being enforced. */
async function anonymousRefused(ctx: CheckContext): Promise<{ ok: true } | { ok: false; status: number }> {
  const response = await postRpc(mcpEndpoint(ctx), 'initialize', ctx.signal);
  return response.status === 401 ? { ok: true } : { ok: false, status: response.status };
}
const notEnforced = (status: number, what: string) =>
  fail(
    `Authentication is not enforced (an anonymous initialize got HTTP ${status}), so ${what} cannot be tested yet: see check auth-no-token first.`,
    STEP4_FIX,
  );

/** Sends the probe as initialize, tools/list and tools/call; returns the methods that did not get `want`. */
async function probeEveryMethod(
  ctx: CheckContext,
  probe: RpcProbe,
  want: (status: number, header: string) => boolean,
): Promise<string[]> {
  const wrong: string[] = [];
  for (const method of METHODS) {
    const r = await postRpc(mcpEndpoint(ctx), method, ctx.signal, probe);
    if (!want(r.status, r.headers.get('www-authenticate') ?? '')) wrong.push(`${method} (HTTP ${r.status})`);
  }
  return wrong;
}

/** Problems of an RFC 9728 protected-resource metadata document for this server; empty when valid. */
function metadataProblems(ctx: CheckContext, body: unknown): string[] {
  const meta = (typeof body === 'object' && body !== null ? body : {}) as {
    resource?: unknown;
    authorization_servers?: unknown;
    scopes_supported?: unknown;
  };
  const servers = Array.isArray(meta.authorization_servers) ? (meta.authorization_servers as unknown[]) : [];
  return [
    meta.resource !== mcpResource(ctx).href &&
      `resource is ${JSON.stringify(meta.resource)}, expected ${mcpResource(ctx).href}`,
    !servers.some((a) => typeof a === 'string' && a.replace(/\/$/, '') === issuerOf(ctx)) &&
      `authorization_servers does not name the lab's authorization server ${issuerOf(ctx)}`,
    !(Array.isArray(meta.scopes_supported) && meta.scopes_supported.includes(REQUIRED_SCOPE)) &&
      `scopes_supported lacks ${REQUIRED_SCOPE}`,
  ].filter((p): p is string => typeof p === 'string');
}

export const protectedResourceMetadata: CheckDefinition = {
  id: 'auth-metadata',
  title: 'The server publishes RFC 9728 protected-resource metadata',
  async run(ctx) {
    const url = new URL('/.well-known/oauth-protected-resource/mcp', ctx.url('mcp-server'));
    const { status, body } = await getJson(url, ctx.signal);
    if (status !== 200)
      return fail(
        `GET ${url.pathname} answered HTTP ${status}.`,
        `${STEP4_FIX} mcpAuthMetadataRouter serves this document.`,
      );
    const problems = metadataProblems(ctx, body);
    if (problems.length > 0)
      return fail(
        `The protected-resource metadata is wrong: ${problems.join('; ')}.`,
        'Pass resourceServerUrl: resourceUrl, the fetched oauthMetadata and scopesSupported: REQUIRED_SCOPES to mcpAuthMetadataRouter.',
        { metadata: body },
      );
    return pass(`Metadata names resource ${mcpResource(ctx).href} and authorization server ${issuerOf(ctx)}.`);
  },
};

export const noTokenRejected: CheckDefinition = {
  id: 'auth-no-token',
  title: 'Every request without a token in its Authorization header gets 401 with a valid resource_metadata',
  async run(ctx) {
    const anonymous = await probeEveryMethod(ctx, {}, (s) => s === 401);
    if (anonymous.length > 0)
      return fail(
        `Requests without a token were not refused with 401: ${anonymous.join(', ')}. The server is stateless, so each request must carry its own token.`,
        `${STEP4_FIX} The guard must run before every request to /mcp, whatever its JSON-RPC method.`,
      );
    const response = await postRpc(mcpEndpoint(ctx), 'initialize', ctx.signal);
    const header = response.headers.get('www-authenticate');
    const metadataUrl = resourceMetadataOf(header);
    if (!isBearerChallenge(header) || !metadataUrl) {
      return fail(
        `The 401 has WWW-Authenticate ${JSON.stringify(header)}, without a Bearer challenge and resource_metadata: clients cannot discover how to authenticate.`,
        'Pass resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceUrl) to requireBearerAuth.',
      );
    }
    const meta = await getJson(ctx.reachable(metadataUrl), ctx.signal).catch(() => ({ status: 0, body: undefined }));
    if (meta.status !== 200)
      return fail(
        `WWW-Authenticate points to ${metadataUrl}, which answered ${meta.status || 'nothing'}.`,
        'Serve the metadata at that URL with mcpAuthMetadataRouter.',
      );
    const problems = metadataProblems(ctx, meta.body);
    if (problems.length > 0)
      return fail(
        `resource_metadata points to ${metadataUrl}, which is not RFC 9728 protected-resource metadata for this server: ${problems.join('; ')}.`,
        'Point resource_metadata at getOAuthProtectedResourceMetadataUrl(resourceUrl), the document mcpAuthMetadataRouter serves.',
      );
    // A token anywhere but the Authorization header must not count (OAuth 2.1 / MCP: header only, never the URL).
    const token = await graderToken(ctx);
    const elsewhere = [
      ...(await probeEveryMethod(ctx, { query: { access_token: token } }, (s) => s === 401)).map(
        (m) => `in the query string: ${m}`,
      ),
      ...(await probeEveryMethod(ctx, { bodyExtra: { access_token: token } }, (s) => s === 401)).map(
        (m) => `in the JSON body: ${m}`,
      ),
      ...(
        await probeEveryMethod(ctx, { headers: { 'x-access-token': token, 'x-api-key': token } }, (s) => s === 401)
      ).map((m) => `in an X-Access-Token / X-Api-Key header: ${m}`),
      ...(
        await probeEveryMethod(ctx, { headers: { cookie: `access_token=${token}; token=${token}` } }, (s) => s === 401)
      ).map((m) => `in a cookie: ${m}`),
    ];
    if (elsewhere.length > 0)
      return fail(
        `A valid token outside the Authorization header was accepted (${elsewhere.join(', ')}).`,
        'Read the token only from the Authorization header; tokens in URLs leak into logs and histories.',
      );
    return pass(
      `initialize, tools/list and tools/call without a token get 401 with resource_metadata="${metadataUrl}" (valid RFC 9728 metadata); tokens outside the header are ignored.`,
    );
  },
};

async function badTokens(ctx: CheckContext): Promise<Record<string, string>> {
  // jose loads here, not with lab.ts: `lab status` and `lab step` load the lab's checks without running them.
  const { exportJWK, generateKeyPair, SignJWT } = await import('jose');
  const now = Math.floor(ctx.clock.now().getTime() / 1000);
  const claims = { scope: REQUIRED_SCOPE };
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const foreignJwk = await exportJWK(publicKey);
  const issuerJwks = (await getJson(new URL('/jwks.json', ctx.url('auth-server')), ctx.signal)).body as {
    keys: Array<{ x: string; kid?: string }>;
  };
  const realKid = issuerJwks.keys[0]?.kid;
  const base = (jwt: InstanceType<typeof SignJWT>) =>
    jwt
      .setIssuer(issuerOf(ctx))
      .setAudience(mcpResource(ctx).href)
      .setSubject('agent')
      .setIssuedAt(now)
      .setExpirationTime(now + 300);
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims, iss: issuerOf(ctx), aud: mcpResource(ctx).href, sub: 'agent', iat: now, exp: now + 300 })).toString('base64url')}.`;
  return {
    'not a JWT': 'not-a-token',
    'unsigned (alg none)': unsigned,
    "HS256 keyed with the issuer's public key": await base(
      new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: realKid }),
    ).sign(new TextEncoder().encode(issuerJwks.keys[0]?.x ?? 'x')),
    "signed by a foreign key (with the issuer's kid)": await base(
      new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: realKid }),
    ).sign(privateKey),
    'signed by a foreign key it embeds (jwk header)': await base(
      new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', jwk: foreignJwk }),
    ).sign(privateKey),
    'from another issuer': await graderToken(ctx, { issuer: 'https://other-issuer.example' }),
    'issued for another resource': await graderToken(ctx, { audience: 'https://other-service.example/mcp' }),
    "issued for the server's origin, not its resource": await graderToken(ctx, { audience: mcpResource(ctx).origin }),
    'expired two minutes ago': await graderToken(ctx, { ttlSeconds: -120 }),
    'expired a day ago': await graderToken(ctx, { ttlSeconds: -86_400 }),
    'not valid for another hour (nbf)': await graderToken(ctx, { notBeforeIn: 3600 }),
  };
}

export const badTokensRejected: CheckDefinition = {
  id: 'auth-bad-tokens',
  title: 'Unsigned, forged, wrong-issuer, wrong-audience, expired and not-yet-valid tokens get 401 on every method',
  timeoutMs: 30_000,
  async run(ctx) {
    const anonymous = await anonymousRefused(ctx);
    if (!anonymous.ok) return notEnforced(anonymous.status, 'token validation');
    const accepted: string[] = [];
    const cases = await badTokens(ctx);
    for (const [name, token] of Object.entries(cases)) {
      const wrong = await probeEveryMethod(ctx, { token }, (s) => s === 401);
      if (wrong.length > 0) accepted.push(`${name}: ${wrong.join(', ')}`);
    }
    if (accepted.length > 0)
      return fail(
        `These tokens were not rejected with 401: ${accepted.join('; ')}.`,
        "verifyAccessToken must verify the signature with the issuer's JWKS only (algorithms: ['EdDSA']), and check the issuer, the audience (exactly your resource URL), exp and nbf; throw InvalidTokenError otherwise.",
      );
    return pass(`All ${Object.keys(cases).length} bad tokens got 401 on initialize, tools/list and tools/call.`);
  },
};

export const insufficientScope: CheckDefinition = {
  id: 'auth-scope',
  title: 'Valid tokens without the docs:read scope get 403 insufficient_scope',
  async run(ctx) {
    const anonymous = await anonymousRefused(ctx);
    if (!anonymous.ok) return notEnforced(anonymous.status, 'scopes');
    const wrong: string[] = [];
    // Scopes are space-separated tokens compared exactly (RFC 6749 3.3): look-alikes must not match.
    for (const scope of ['profile:read', 'docs:readonly', 'xdocs:read', 'DOCS:READ', 'docs:write docs:list']) {
      const token = await graderToken(ctx, { scope });
      const bad = await probeEveryMethod(ctx, { token }, (s, h) => s === 403 && h.includes('insufficient_scope'));
      if (bad.length > 0) wrong.push(`"${scope}": ${bad.join(', ')}`);
    }
    if (wrong.length > 0) {
      return fail(
        `Tokens without ${REQUIRED_SCOPE} did not get 403 with error="insufficient_scope": ${wrong.join('; ')}.`,
        `Pass requiredScopes: ['${REQUIRED_SCOPE}'] to requireBearerAuth and report the token's scopes as the space-separated list in AuthInfo.scopes (exact matches, never substrings).`,
      );
    }
    return pass('403 insufficient_scope for tokens without docs:read, look-alike scopes included, on every method.');
  },
};

export const validTokenServed: CheckDefinition = {
  id: 'auth-valid-token',
  title: 'A valid token is served (with any case of the Bearer scheme), and the same call without one is not',
  async run(ctx) {
    const anonymous = await anonymousRefused(ctx);
    if (!anonymous.ok) return notEnforced(anonymous.status, '"served with a token"');
    try {
      const token = await graderToken(ctx);
      const lower = await probeEveryMethod(ctx, { token, scheme: 'bearer' }, (s) => s === 200);
      if (lower.length > 0)
        return fail(
          `A valid token sent as "bearer <token>" was refused: ${lower.join(', ')}.`,
          'Auth schemes are case-insensitive (RFC 7235): compare the scheme without regard to case, as requireBearerAuth does.',
        );
      const several = await probeEveryMethod(
        ctx,
        { token: await graderToken(ctx, { scope: `profile:read ${REQUIRED_SCOPE}` }) },
        (s) => s === 200,
      );
      if (several.length > 0)
        return fail(
          `A valid token whose scope is "profile:read ${REQUIRED_SCOPE}" was refused: ${several.join(', ')}.`,
          'The scope claim is a space-separated set (RFC 6749 3.3): split it and look for docs:read among the scopes.',
        );
      return await withMcpClient(mcpEndpoint(ctx), { authorization: `Bearer ${token}` }, ctx.signal, async (client) => {
        const result = await client.callTool({
          name: 'search_documents',
          arguments: { query: 'protected resource metadata', top_k: 3 },
        });
        if (result.isError)
          return fail('With a valid token, search_documents returned an error.', 'See `lab logs mcp-server`.');
        return pass('With a valid token initialize, tools/list and tools/call succeed.');
      });
    } catch (error) {
      return fail(
        `A valid, correctly scoped token was refused: ${describeError(error)}.`,
        'verifyAccessToken must accept tokens signed by the issuer for resource <server>/mcp and return expiresAt (seconds) and scopes.',
      );
    }
  },
};
