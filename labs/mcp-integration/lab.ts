import path from 'node:path';
import { defineLab } from '../../src/core/lab-definition.js';
import { agentCredentialsFile, provisionCredentials } from '../../src/services/auth-server/credentials.js';
import { withTraceReceiver } from '../../src/services/telemetry/lab-services.js';
import { agentDiscovers, agentReadsDocument } from '../../checks/mcp-integration/agent.js';
import { agentAuthenticated } from '../../checks/mcp-integration/agent.js';
import { noTokenLeaks, otherPathsProtected } from '../../checks/mcp-integration/secrets.js';
import { searchMatchesIndex } from '../../checks/mcp-integration/search-fidelity.js';
import {
  badTokensRejected,
  insufficientScope,
  noTokenRejected,
  protectedResourceMetadata,
  validTokenServed,
} from '../../checks/mcp-integration/authentication.js';
import { REQUIRED_SCOPE } from '../../checks/mcp-integration/grader.js';
import {
  indexReady,
  mcpInitialize,
  searchRecall,
  searchToolSchema,
} from '../../checks/mcp-integration/build-server.js';
import { getDocument, toolErrors } from '../../checks/mcp-integration/tool-execution.js';
import { agentRunTraced } from '../../checks/mcp-integration/trace.js';

/** Settings a learner may pass through to the agent (an OpenAI-compatible model, another task). */
const AGENT_PASSTHROUGH = ['AGENT_TASK', 'OPENAI_BASE_URL', 'OPENAI_MODEL', 'OPENAI_API_KEY'];

export default defineLab({
  id: 'mcp-integration',
  title: 'MCP integration: a document-search MCP server, an agent, and authentication',
  summary:
    'Build an MCP server over a RAG index, connect an AI agent to it, test tool discovery and execution, add OAuth bearer authentication.',
  minutes: 35,
  runtimes: ['local', 'docker'],
  files: [
    { source: 'src/services/rag-index/collections.ts', path: 'rag-index/collections.ts' },
    { source: 'src/services/mcp-search-server/server.ts', path: 'mcp-server/server.ts' },
    { source: 'src/services/mcp-search-server/tools.ts', path: 'mcp-server/tools.ts' },
    { source: 'src/services/mcp-search-server/index-client.ts', path: 'mcp-server/index-client.ts' },
    { source: 'src/services/mcp-search-server/auth.ts', path: 'mcp-server/auth.ts' },
    { source: 'src/services/agent/connect.ts', path: 'agent/connect.ts' },
  ],
  // Every service exports its spans to the runner's trace receiver (`lab trace`).
  services: withTraceReceiver([
    {
      name: 'auth-server',
      role: 'lab',
      entry: 'repo:src/services/auth-server/main.ts',
      healthPath: '/health',
      env: ({ selfUrl, url, secretsDir }) => ({
        PUBLIC_URL: selfUrl,
        SECRETS_DIR: secretsDir,
        ALLOWED_RESOURCES: `${url('mcp-server')}/mcp`,
      }),
    },
    {
      name: 'rag-index',
      role: 'learner',
      entry: 'repo:src/services/rag-index/main.ts',
      healthPath: '/health',
      watch: ['rag-index'],
      env: ({ repoDir, workspaceDir }) => ({
        CORPUS_DIR: path.join(repoDir, 'fixtures', 'corpus'),
        COLLECTIONS_MODULE: path.join(workspaceDir, 'rag-index', 'collections.ts'),
      }),
    },
    {
      name: 'mcp-server',
      role: 'learner',
      entry: 'workspace:mcp-server/server.ts',
      healthPath: '/health',
      watch: ['mcp-server'],
      dependsOn: ['rag-index', 'auth-server'],
      env: ({ selfUrl, url }) => ({
        PUBLIC_URL: selfUrl,
        RAG_INDEX_URL: url('rag-index'),
        AUTH_ISSUER: url('auth-server'),
        // The SDK accepts a plain-HTTP issuer only on loopback. Under compose the issuer is http://auth-server on the
        // lab's private network; transport security between services is lab 2's subject (mTLS).
        ...(new URL(url('auth-server')).hostname === '127.0.0.1'
          ? {}
          : { MCP_DANGEROUSLY_ALLOW_INSECURE_ISSUER_URL: '1' }),
      }),
    },
    {
      name: 'agent',
      role: 'job',
      entry: 'repo:src/services/agent/main.ts',
      dependsOn: ['mcp-server'],
      env: ({ url, secretsDir, workspaceDir }) => ({
        MCP_SERVER_URL: `${url('mcp-server')}/mcp`,
        AUTH_ISSUER: url('auth-server'),
        AGENT_CREDENTIALS_FILE: path.join(secretsDir, agentCredentialsFile('agent')),
        CONNECT_MODULE: path.join(workspaceDir, 'agent', 'connect.ts'),
        TRANSCRIPT_FILE: path.join(workspaceDir, '.lab', 'transcripts', 'agent.jsonl'),
        ...Object.fromEntries(AGENT_PASSTHROUGH.filter((k) => process.env[k]).map((k) => [k, process.env[k]!])),
      }),
    },
  ]),
  prepare: (secretsDir) => provisionCredentials(secretsDir, [{ name: 'agent', scopes: [REQUIRED_SCOPE] }]),
  steps: [
    {
      id: 'build-server',
      title: 'Build the MCP server exposing document search',
      instructions: 'steps/1-build-server.md',
      hints: [
        'Collections first: each folder of fixtures/corpus is one, named like its folder. `npx lab check 1` says how many documents the index holds.',
        "The SDK's McpServer.registerTool(name, { title, description, inputSchema }, handler) registers a tool. inputSchema is a plain object of zod types (one per parameter), not z.object(...); `.optional()`, `.int()`, `.min()`, `.max()` and `.describe()` shape the JSON Schema agents see.",
        'The handler receives the parsed arguments and returns { content: [{ type: "text", text }] }. index.search(query, { topK, collection }) gives hits with id, title, collection, score and snippet: put each as "[id] title" in the text, and optionally return structuredContent: { results: hits } too.',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint quotes TypeScript for the learner to write.
        'The answer, in outline: server.registerTool("search_documents", { title: "Search documents", description: "Full-text search over the course documents; returns ids, titles and snippets", inputSchema: { query: z.string().min(1).max(SEARCH_LIMITS.maxQueryLength), top_k: z.number().int().min(1).max(20).optional(), collection: z.string().optional() } }, async ({ query, top_k, collection }) => { const hits = await index.search(query, { topK: top_k ?? 5, collection }); return { content: [{ type: "text", text: hits.map((h) => `[${h.id}] ${h.title}`).join("; ") }], structuredContent: { results: hits } }; }).',
      ],
      checks: [indexReady, mcpInitialize, searchToolSchema, searchRecall, searchMatchesIndex],
    },
    {
      id: 'connect-agent',
      title: 'Connect the agent to your server',
      instructions: 'steps/2-connect-agent.md',
      hints: [
        'An SDK Client talks through a transport; the one for an HTTP endpoint is StreamableHTTPClientTransport (@modelcontextprotocol/sdk/client/streamableHttp.js).',
        'client.connect(transport) is async and performs the initialize handshake: await it before connect() returns. The transport takes serverUrl and an options object, already declared in connect.ts (step 4 fills it).',
        'The answer: await client.connect(new StreamableHTTPClientTransport(serverUrl, transport));',
      ],
      checks: [agentDiscovers],
    },
    {
      id: 'tool-execution',
      title: 'Test tool discovery and execution',
      instructions: 'steps/3-tool-execution.md',
      hints: [
        'get_document is a second registerTool with a single required string parameter, id. index.getDocument(id) returns the document, or undefined when there is none.',
        'Throwing inside a tool handler is the way to fail: McpServer turns the Error into { isError: true, content: [{ type: "text", text: <its message> }] }, which the agent reads. Make the message name the id and say what to do (search first).',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the hint quotes TypeScript for the learner to write.
        'The agent looks for a tool with a required "id" parameter and a description about reading documents. The answer, in outline: async ({ id }) => { const doc = await index.getDocument(id); if (!doc) throw new Error(`No document with id "${id}"; use search_documents to find ids.`); return { content: [{ type: "text", text: `${doc.title}: ${doc.body}` }] }; }',
      ],
      checks: [getDocument, toolErrors, agentReadsDocument],
    },
    {
      id: 'authentication',
      title: 'Add authentication between agent and server',
      instructions: 'steps/4-authentication.md',
      hints: [
        "Server side, the SDK has a module for each duty: server/auth/router.js (mcpAuthMetadataRouter serves the RFC 9728 document; getOAuthProtectedResourceMetadataUrl names its URL), server/auth/middleware/bearerAuth.js (requireBearerAuth answers the 401s and 403s) and server/auth/provider.js (the OAuthTokenVerifier it calls). The authorization server's own metadata (RFC 8414) is at <issuer>/.well-known/oauth-authorization-server.",
        'The verifier checks the JWT with jose: jwtVerify(token, createRemoteJWKSet(new URL(metadata.jwks_uri)), { issuer, audience: resourceUrl.href }). It returns { token, clientId: payload.client_id, scopes: payload.scope split on spaces, expiresAt: payload.exp, resource: resourceUrl } and throws InvalidTokenError when verification fails (requireBearerAuth rejects an AuthInfo without a numeric expiresAt).',
        'Server, the answer: app.use(mcpAuthMetadataRouter({ oauthMetadata, resourceServerUrl: resourceUrl, scopesSupported: REQUIRED_SCOPES })); return requireBearerAuth({ verifier, requiredScopes: REQUIRED_SCOPES, expectedResource: resourceUrl, resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceUrl) }); and in server.ts: guards.push(await protect(app, { resourceUrl, issuer: env("AUTH_ISSUER") })).',
        'Agent side, the SDK transport runs the whole discovery on a 401 when its options carry an authProvider (an OAuthClientProvider, client/auth.js): it reads resource_metadata, fetches both metadata documents, and asks the token endpoint with the resource parameter. client/auth-extensions.js has a provider for the client credentials grant. To do it by hand instead: extractWWWAuthenticateParams, discoverOAuthProtectedResourceMetadata and discoverAuthorizationServerMetadata (client/auth.js), then a POST of grant_type=client_credentials and resource to token_endpoint.',
        'Agent, the answer: transport.authProvider = new ClientCredentialsProvider({ clientId: oauthClient.clientId, clientSecret: oauthClient.clientSecret, expectedIssuer: oauthClient.issuer }); (imported from @modelcontextprotocol/sdk/client/auth-extensions.js), before client.connect.',
      ],
      checks: [
        protectedResourceMetadata,
        noTokenRejected,
        badTokensRejected,
        insufficientScope,
        validTokenServed,
        otherPathsProtected,
        agentAuthenticated,
        noTokenLeaks,
        agentRunTraced,
      ],
    },
  ],
});
