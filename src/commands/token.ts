/**
 * `lab token`: an access token for lab 1's MCP server, got the way the agent gets one, shown decoded (header and
 * the claims the server must check) with a curl recipe. The token goes to stdout only, never to a log.
 */
import type { CommandContext } from '../core/context.js';
import { printable } from '../core/printable.js';
import { decodeJwt, openLab1, requestToken } from './lab1-access.js';
import { defineCommand } from './define.js';

/** Why each claim matters to the resource server: what step 4 asks the learner to check. */
const CLAIM_ROLES: Record<string, string> = {
  iss: 'who signed it: the authorization server (its keys are at <iss>/jwks.json)',
  aud: 'the resource it is for (RFC 8707): the MCP server must refuse any other audience',
  exp: 'expiry (seconds since 1970): the MCP server must refuse it afterwards',
  scope: 'what it allows: the MCP server requires docs:read (403 insufficient_scope without it)',
  client_id: 'which client is calling: the MCP server hands it on as AuthInfo.clientId',
  sub: 'the subject: for client credentials, the client itself',
  iat: 'when it was issued',
  jti: 'its unique id',
};

async function tokenCommand(ctx: CommandContext, options: { raw?: boolean; scope?: string }): Promise<number> {
  const lab = await openLab1(ctx, 'token');
  const issued = await requestToken(lab, { scope: options.scope });
  if (options.raw) {
    ctx.io.out(issued.token);
    return 0;
  }
  const { header, claims } = decodeJwt(issued.token);
  const c = ctx.io.color;
  const now = Math.floor(ctx.clock.now().getTime() / 1000);
  ctx.io.out(
    `Access token for client ${printable(issued.clientId)}, from ${printable(issued.tokenEndpoint)} (client credentials grant, resource ${lab.resource.href}):`,
  );
  ctx.io.out(issued.token);
  ctx.io.out('');
  ctx.io.out(`${c.bold('header')}  ${printable(JSON.stringify(header))}`);
  ctx.io.out(c.bold('claims'));
  for (const [name, value] of Object.entries(claims)) {
    const shown =
      name === 'exp' && typeof value === 'number'
        ? `${value} = ${new Date(value * 1000).toISOString()} (in ${value - now} s)`
        : printable(JSON.stringify(value));
    ctx.io.out(`  ${name.padEnd(9)} ${shown}${CLAIM_ROLES[name] ? c.dim(`  - ${CLAIM_ROLES[name]}`) : ''}`);
  }
  ctx.io.out('');
  ctx.io.out(c.bold('Use it'));
  ctx.io.out('  TOKEN=$(npx lab token --raw)');
  ctx.io.out(`  curl -i ${lab.endpoint.href} -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\`);
  ctx.io.out(`    -H 'Accept: application/json, text/event-stream' \\`);
  ctx.io.out(
    `    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'`,
  );
  ctx.io.out('  npx lab mcp tools --token "$TOKEN"      # or --no-token, to see the 401 the agent meets first');
  ctx.io.out(
    c.dim(
      'The token is a credential until it expires: send it only in the Authorization header, never in a URL, and never log it.',
    ),
  );
  return 0;
}

export const command = defineCommand({
  name: 'token',
  description: 'lab 1: get an access token as the agent does and show its header, claims and how to use it',
  configure: (c) =>
    c
      .option('--raw', 'print only the token (for TOKEN=$(npx lab token --raw))')
      .option('--scope <scope>', "ask for this scope instead of the client's default"),
  run: (ctx, options: { raw?: boolean; scope?: string }) => tokenCommand(ctx, options),
});
