/**
 * A node:https keep-alive agent that presents the workload's current SVID: the kept-alive counterpart of
 * mtls-fetch.ts for callers on node:http (the MCP server's index client, where fetch() costs more per call).
 * Like there, each SVID gets its own agent, so a rotated certificate is presented on new connections.
 */
import https from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import type { SvidSource } from './svid-source.js';
import type { X509Svid } from './workload-api-client.js';

export function mtlsAgent(
  source: SvidSource,
  connectOptions: (svid: X509Svid) => ConnectionOptions,
): () => https.Agent {
  let current: { svid: X509Svid; agent: https.Agent } | undefined;
  return () => {
    const svid = source.current();
    if (!svid) throw new Error('this workload holds no SVID yet');
    if (current?.svid !== svid) {
      current?.agent.destroy();
      current = { svid, agent: new https.Agent({ keepAlive: true, maxSockets: 32, ...connectOptions(svid) }) };
    }
    return current.agent;
  };
}
