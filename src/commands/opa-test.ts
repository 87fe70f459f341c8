/**
 * `lab opa test`: `opa test` on the workspace's policy/ folder, run by the lab's OPA (its container mounts that
 * folder read-only at /policy; there is no opa on the host, and in the image the binary is /opa). The output and
 * exit status are OPA's.
 */
import type { CommandContext } from '../core/context.js';
import { printableName } from '../core/printable.js';
import { execIn, openLab2 } from './lab2-access.js';
import { defineCommand } from './define.js';

async function opaTestCommand(ctx: CommandContext, extra: string[]): Promise<number> {
  const session = await openLab2(ctx, 'opa test');
  // -v lists every test; --fail-on-empty: OPA 1.x otherwise passes a folder with no tests at all.
  const argv = ['/opa', 'test', '--fail-on-empty', '-v', '/policy', ...extra];
  ctx.io.err(
    ctx.io.color.dim(
      `$ ${argv.map((a) => printableName(a)).join(' ')}   (in the opa container; /policy is your policy/ folder)`,
    ),
  );
  const result = await execIn(session, 'opa', argv, { timeoutMs: 60_000 });
  if (result.output.trim() !== '') ctx.io.out(result.output.trimEnd());
  ctx.io.out(
    result.exitCode === 0
      ? ctx.io.color.green(`opa test exited with 0.`)
      : ctx.io.color.red(`opa test exited with ${result.exitCode}.`),
  );
  return result.exitCode === 0 ? 0 : 1;
}

export const command = defineCommand({
  name: 'opa',
  description: "lab 2: OPA in the lab's container",
  subcommands: [
    {
      name: 'test',
      description: 'run `opa test` on your policy/ folder inside the OPA container and show its output and exit code',
      configure: (c) =>
        c.argument('[opa-args...]', 'more `opa test` flags, e.g. --run test_support').allowUnknownOption(),
      run: (ctx, args: string[]) => opaTestCommand(ctx, args),
    },
  ],
});
