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
  // TODO: 1. Fetch the authorization server metadata (RFC 8414): GET <issuer>/.well-known/oauth-authorization-server.
  // TODO: 2. Serve protected-resource metadata (RFC 9728):
  // TODO:    app.use(mcpAuthMetadataRouter({ oauthMetadata, resourceServerUrl: resourceUrl, scopesSupported: REQUIRED_SCOPES }))
  // TODO: 3. Build a verifier whose verifyAccessToken(token) checks the JWT with jose: jwtVerify(token,
  // TODO:    createRemoteJWKSet(new URL(oauthMetadata.jwks_uri)), { issuer, audience: resourceUrl.href }) and returns
  // TODO:    { token, clientId, scopes, expiresAt, resource }; throw InvalidTokenError when verification fails.
  // TODO: 4. return requireBearerAuth({ verifier, requiredScopes: REQUIRED_SCOPES, expectedResource: resourceUrl,
  // TODO:    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceUrl) })
  // @lab-starter throw new Error('protect() is not written yet (step 4)');
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
