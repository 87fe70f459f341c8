/**
 * Lab 1's three services as real processes for the fuzz suites: the auth-server with fresh credentials, rag-index
 * over the course corpus, and the MCP server rendered from its reference source as a learner's workspace would
 * hold it, with steps 1-3 solved (no authentication) or all four (bearer tokens required). NODE_ENV is left unset:
 * the services must not depend on production mode to keep stack traces out of their answers.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import lab from '../../labs/mcp-integration/lab.js';
import { repoDir } from '../../src/core/paths.js';
import { renderRegions } from '../../src/core/solution-regions.js';
import { provisionCredentials, signAccessToken } from '../../src/services/auth-server/credentials.js';
import { freePort } from '../../src/runtimes/port-check.js';
import { startService } from '../helpers/service-process.js';

export type Service = Awaited<ReturnType<typeof startService>>;

export interface Lab1Services {
  auth: Service;
  index: Service;
  /** Signs a valid token for the MCP server's /mcp. */
  token: () => Promise<string>;
  /** Starts an MCP server of the learner's workspace solved through `step`. */
  mcp: (step: number) => Promise<Service>;
  stop: () => void;
}

export async function startLab1Services(): Promise<Lab1Services> {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-fuzz-'));
  const secrets = path.join(dir, 'secrets');
  await provisionCredentials(secrets, [{ name: 'agent', scopes: ['docs:read'] }]);
  const mcpPort = await freePort();
  const endpoint = `http://127.0.0.1:${mcpPort}/mcp`;
  const stops: Array<() => void> = [() => rmSync(dir, { recursive: true, force: true })];
  const auth = await startService('src/services/auth-server/main.ts', {
    SECRETS_DIR: secrets,
    ALLOWED_RESOURCES: endpoint,
  });
  stops.unshift(auth.stop);
  const index = await startService('src/services/rag-index/main.ts', {
    CORPUS_DIR: path.join(repoDir, 'fixtures', 'corpus'),
    COLLECTIONS_MODULE: path.join(repoDir, 'src', 'services', 'rag-index', 'collections.ts'),
  });
  stops.unshift(index.stop);
  let mcpRunning: Service | undefined;
  return {
    auth,
    index,
    token: () =>
      signAccessToken(secrets, {
        issuer: auth.url,
        audience: endpoint,
        subject: 'fuzz',
        scope: 'docs:read',
        ttlSeconds: 600,
      }),
    async mcp(step) {
      mcpRunning?.stop();
      const workspace = path.join(dir, `workspace-${step}`);
      mkdirSync(workspace, { recursive: true });
      writeFileSync(path.join(workspace, 'package.json'), '{"type":"module"}\n');
      symlinkSync(path.join(repoDir, 'node_modules'), path.join(workspace, 'node_modules'), 'dir');
      for (const file of lab.files.filter((f) => f.path.startsWith('mcp-server/'))) {
        mkdirSync(path.dirname(path.join(workspace, file.path)), { recursive: true });
        writeFileSync(
          path.join(workspace, file.path),
          renderRegions(readFileSync(path.join(repoDir, file.source), 'utf8'), step),
        );
      }
      mcpRunning = await startService(
        path.join(workspace, 'mcp-server', 'server.ts'),
        { RAG_INDEX_URL: index.url, AUTH_ISSUER: auth.url },
        mcpPort,
      );
      return mcpRunning;
    },
    stop: () => {
      mcpRunning?.stop();
      for (const stop of stops) stop();
    },
  };
}
