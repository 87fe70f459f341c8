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
        'Start with rag-index/collections.ts: the folders of fixtures/corpus are the collections. `lab check 1` tells you how many documents the index holds.',
        'In mcp-server/tools.ts, server.registerTool takes a name, { title, description, inputSchema } and an async handler. inputSchema is a plain object of zod types, not z.object(...).',
        'The handler returns { content: [{ type: "text", text }] }. Put each hit\'s id in the text as "[id] title", or return structuredContent: { results: hits } as well.',
      ],
      checks: [indexReady, mcpInitialize, searchToolSchema, searchRecall, searchMatchesIndex],
    },
    {
      id: 'connect-agent',
      title: 'Connect the agent to your server',
      instructions: 'steps/2-connect-agent.md',
      hints: [
        'The SDK client needs a transport: new StreamableHTTPClientTransport(serverUrl, { requestInit: { headers } }).',
        'client.connect(transport) is async and performs initialize; await it before returning the client.',
      ],
      checks: [agentDiscovers],
    },
    {
      id: 'tool-execution',
      title: 'Test tool discovery and execution',
      instructions: 'steps/3-tool-execution.md',
      hints: [
        'get_document needs only { id: z.string() }; index.getDocument(id) returns undefined when there is no such document.',
        'Throwing inside a tool handler is the right way to fail: McpServer turns it into { isError: true, content: [{ text: <message> }] }.',
        'The agent looks for a second tool with a required "id" parameter and a description about reading documents.',
      ],
      checks: [getDocument, toolErrors, agentReadsDocument],
    },
    {
      id: 'authentication',
      title: 'Add authentication between agent and server',
      instructions: 'steps/4-authentication.md',
      hints: [
        'Follow the four TODOs in mcp-server/auth.ts in order; the SDK provides mcpAuthMetadataRouter, requireBearerAuth and getOAuthProtectedResourceMetadataUrl.',
        'jose: const keys = createRemoteJWKSet(new URL(oauthMetadata.jwks_uri)); const { payload } = await jwtVerify(token, keys, { issuer, audience: resourceUrl.href }).',
        'requireBearerAuth rejects AuthInfo without a numeric expiresAt: return expiresAt: payload.exp. Then send the token from agent/connect.ts.',
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
