// Authentication per the MCP authorization spec (2025-11-25): this MCP server is an OAuth 2.1 *resource server*.
// It advertises where tokens come from (RFC 9728 protected-resource metadata), accepts only bearer tokens that
// the authorization server signed for this resource (audience, RFC 8707) with the right scope, and never logs
// or forwards a token.
import type { Express, RequestHandler } from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';

export const REQUIRED_SCOPES = ['docs:read'];

export interface ProtectOptions {
  /** This server's MCP endpoint URL: the audience tokens must be issued for. */
  resourceUrl: URL;
  /** The authorization server's issuer URL. */
  issuer: string;
}

/** Installs the metadata routes on `app` and returns the middleware that guards the MCP endpoint. */
export async function protect(app: Express, { resourceUrl, issuer }: ProtectOptions): Promise<RequestHandler> {
  // @lab-step 4
  // TODO (step 4): make this server an OAuth 2.1 resource server as the MCP authorization spec asks
  // TODO: (https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization). protect() must:
  // TODO: - serve protected-resource metadata on `app` (RFC 9728, https://www.rfc-editor.org/rfc/rfc9728) naming
  // TODO:   resourceUrl, the authorization server `issuer` (its own metadata: RFC 8414) and REQUIRED_SCOPES;
  // TODO: - return a middleware that accepts only JWTs the issuer signed (its JWKS) for this resource (aud =
  // TODO:   resourceUrl, RFC 8707), not expired (exp), with every REQUIRED_SCOPES scope (scope claim), and hands
  // TODO:   on the caller's client_id; 401 with WWW-Authenticate naming resource_metadata otherwise, 403
  // TODO:   insufficient_scope when only the scope is missing. The SDK's server/auth modules do most of it.
  // TODO: Verify: npx lab mcp tools --no-token (the 401), npx lab token (a token's claims), npx lab check 4.
  // @lab-starter throw new Error('protect() in mcp-server/auth.ts is not written yet (step 4)');
  const response = await fetch(new URL('/.well-known/oauth-authorization-server', issuer));
  if (!response.ok) throw new Error(`authorization server metadata: HTTP ${response.status} from ${issuer}`);
  const oauthMetadata = (await response.json()) as OAuthMetadata & { jwks_uri: string };
  app.use(mcpAuthMetadataRouter({ oauthMetadata, resourceServerUrl: resourceUrl, scopesSupported: REQUIRED_SCOPES, resourceName: 'Course docs search' }));

  const keys = createRemoteJWKSet(new URL(oauthMetadata.jwks_uri));
  const verifier: OAuthTokenVerifier = {
    async verifyAccessToken(token) {
      try {
        const { payload } = await jwtVerify(token, keys, { issuer: oauthMetadata.issuer, audience: resourceUrl.href, algorithms: ['EdDSA'] });
        return {
          token,
          clientId: String(payload.client_id ?? payload.sub),
          scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
          expiresAt: payload.exp,
          resource: resourceUrl,
        };
      } catch (error) {
        // jose's error codes say why (expired, bad signature, wrong audience) without echoing the token.
        throw new InvalidTokenError(`Token rejected: ${(error as { code?: string }).code ?? 'invalid'}`);
      }
    },
  };
  return requireBearerAuth({
    verifier,
    requiredScopes: REQUIRED_SCOPES,
    expectedResource: resourceUrl,
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceUrl),
  });
  // @lab-end
}
