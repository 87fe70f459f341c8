/**
 * Layering and cycle rules (docs/architecture.md). Dependencies point inward:
 *   src/cli (entry point, wiring) -> src/commands -> src/ui, src/runtimes -> src/core;  src/adapters -> src/core.
 * A lab definition (labs/<lab>/lab.ts) composes its checks; nothing else in labs/ imports checks/, and checks/
 * never import a lab definition: what a check needs from its lab (IDs, layout) comes through the check context
 * or a lab module such as labs/secure-agents/spire-layout.ts, which imports nothing from checks/.
 * Run by `npm run lint:deps` (part of `npm test`).
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle makes two modules one: neither can be read, tested or loaded without the other.',
      from: { path: '^(src|labs|checks)/' },
      to: { circular: true },
    },
    {
      name: 'core-is-innermost',
      severity: 'error',
      comment: 'src/core holds the rules of the course; it sees the outside world only through src/core/ports.ts.',
      from: { path: '^src/core/' },
      to: { path: '^(src/(cli|commands|ui|runtimes|adapters|images|services)|labs|checks)/' },
    },
    {
      name: 'runtimes-below-commands',
      severity: 'error',
      comment: 'A runtime is driven by commands; it takes ports, never the CLI context.',
      from: { path: '^src/runtimes/' },
      to: { path: '^src/(cli|commands|adapters)/' },
    },
    {
      name: 'adapters-are-leaves',
      severity: 'error',
      comment: 'An adapter implements a port with one technology; it knows nothing of commands or runtimes.',
      from: { path: '^src/adapters/' },
      to: { path: '^src/(cli|commands|runtimes|images|services)/' },
    },
    {
      name: 'commands-do-not-import-cli',
      severity: 'error',
      comment: 'src/cli registers the commands and builds their context; a command knows only src/core/context.ts.',
      from: { path: '^src/(commands|ui)/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'ui-is-presentation',
      severity: 'error',
      comment: 'src/ui renders what commands hand it; it runs nothing.',
      from: { path: '^src/ui/' },
      to: { path: '^src/(commands|runtimes|adapters|images)/' },
    },
    {
      name: 'only-lab-definitions-compose-checks',
      severity: 'error',
      comment: 'One direction between labs/ and checks/: only labs/<lab>/lab.ts imports checks/.',
      from: { path: '^labs/', pathNot: '^labs/[^/]+/lab\\.ts$' },
      to: { path: '^checks/' },
    },
    {
      name: 'checks-do-not-import-lab-definitions',
      severity: 'error',
      comment: 'A lab composes its checks: a check importing its lab (or anything that imports checks) makes a cycle.',
      from: { path: '^checks/' },
      to: { path: '^labs/[^/]+/lab\\.ts$' },
    },
    {
      name: 'services-are-standalone',
      severity: 'error',
      comment: 'Services run inside containers and learner workspaces: they use no part of the runner.',
      from: { path: '^src/services/' },
      // Type-only: the secure MCP server types the learner's guard by the lab's reference guard.ts.
      to: {
        path: '^(src/(cli|commands|ui|runtimes|adapters|images)|labs|checks)/',
        dependencyTypesNot: ['type-only', 'type-import'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(starter|solution)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
