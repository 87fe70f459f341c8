/**
 * Why the agent's OAuth client (the learner's agent/connect.ts, step 4) did or did not get its token, read from the
 * authorization server's own records of the run: the agent is learner code, so what it says about itself is a
 * claim, and what the authorization server saw is the evidence.
 */
import type { CheckContext } from '../../src/core/lab-definition.js';
import type { AuthRequestRecord, IssuedRecord } from '../../src/services/auth-server/credentials.js';
import { agentClientId, authRequestsSince, issuedToAgentSince, mcpResource } from './grader.js';

export interface OAuthProblem {
  what: string;
  fix: string;
}

const METADATA_PATH = '/.well-known/oauth-authorization-server';
const OIDC_PATH = '/.well-known/openid-configuration';
const DISCOVERY_FIX =
  'On the 401, read resource_metadata from the WWW-Authenticate header, fetch that document (RFC 9728), then the metadata of the authorization server it names (RFC 8414), and send the token request to its token_endpoint (step 4; `npx lab hint` shows how the SDK does it).';

/** The first thing wrong with how the agent got its token during the run that began at `since`, if any. */
export function agentOAuthProblem(ctx: CheckContext, since: number): OAuthProblem | undefined {
  const requests = authRequestsSince(ctx, since);
  const issued = issuedToAgentSince(ctx, since);
  const resource = mcpResource(ctx).href;
  // The MCP server reads the same document when it starts, before the agent runs (authRequestsSince has no slack):
  // only a read that arrived before the agent's first successful token request counts as its discovery.
  const agent = agentClientId(ctx);
  const tokenAt = requests
    .filter((r) => r.method === 'POST' && r.status === 200 && r.client_id === agent)
    .map((r) => Date.parse(r.at));
  const firstToken = tokenAt.length > 0 ? Math.min(...tokenAt) : Number.POSITIVE_INFINITY;
  const readMetadata = requests.some(
    (r) => r.method === 'GET' && (r.path === METADATA_PATH || r.path === OIDC_PATH) && Date.parse(r.at) <= firstToken,
  );
  const posts = requests.filter((r) => r.method === 'POST');
  if (requests.length === 0)
    return {
      what: 'The authorization server received no request during the agent run: the agent never looked for a token.',
      fix: DISCOVERY_FIX,
    };
  const misdirected = posts.find((r) => r.status === 404 || r.status === 405);
  if (misdirected && issued.length === 0)
    return {
      what: `The agent asked for a token at POST ${misdirected.path} (HTTP ${misdirected.status}), which is not this authorization server's token endpoint: the URL was guessed, not read from its metadata.`,
      fix: `Take the token endpoint from the token_endpoint field of the authorization server metadata (RFC 8414, ${METADATA_PATH}), never build it yourself.`,
    };
  const refused = posts.find((r) => r.error);
  if (refused && issued.length === 0) return refusal(refused, resource);
  if (tokenAt.length > 0 && !readMetadata)
    return {
      what: `The agent got a token without reading the authorization server metadata (no GET ${METADATA_PATH} during its run): its token endpoint is hard-coded, not discovered.`,
      fix: DISCOVERY_FIX,
    };
  const elsewhere = issued.find((r: IssuedRecord) => r.resource !== resource);
  if (elsewhere)
    return {
      what: `The agent's token was issued for ${elsewhere.resource}, not for the MCP endpoint ${resource}.`,
      fix: 'Ask for the token with resource = the resource of the protected-resource metadata (RFC 8707).',
    };
  if (issued.length === 0)
    return {
      what: `The authorization server issued no token to the agent's client (${agent}) during this run${posts.length > 0 ? ` (token requests: ${posts.map(describe).join(', ')})` : ': it never asked for one'}.`,
      fix: DISCOVERY_FIX,
    };
  return undefined;
}

function refusal(request: AuthRequestRecord, resource: string): OAuthProblem {
  const refused = `The authorization server refused the agent's token request with ${request.error}`;
  switch (request.error) {
    case 'invalid_target':
      return request.resource === undefined
        ? {
            what: `${refused}: it had no resource parameter. RFC 8707 resource indicators bind a token to one server, and the MCP spec requires clients to send one.`,
            fix: `Send resource=${resource} (the resource of the protected-resource metadata) with the token request.`,
          }
        : {
            what: `${refused}: it asked for resource ${request.resource}, which is not the MCP endpoint ${resource}.`,
            fix: 'Send the resource named by the protected-resource metadata (RFC 9728), exactly as written there.',
          };
    case 'invalid_client':
      return {
        what: `${refused}: the client id or secret was wrong or missing.`,
        fix: 'Authenticate as the oauthClient connect() is given: its clientId and clientSecret, with HTTP Basic (client_secret_basic) or in the form (client_secret_post).',
      };
    case 'invalid_scope':
      return {
        what: `${refused}: it asked for a scope the agent's client may not have.`,
        fix: 'Ask for the scopes the protected-resource metadata lists (scopes_supported: docs:read), or none.',
      };
    case 'unsupported_grant_type':
      return {
        what: `${refused}: the agent has no user to log in, so only the client credentials grant applies.`,
        fix: 'Send grant_type=client_credentials.',
      };
    default:
      return {
        what: `${refused} (HTTP ${request.status}).`,
        fix: '`npx lab logs auth-server` shows the refusal; RFC 6749 section 4.4 describes the request.',
      };
  }
}

const describe = (r: AuthRequestRecord) => `${r.path} HTTP ${r.status}${r.error ? ` ${r.error}` : ''}`;
