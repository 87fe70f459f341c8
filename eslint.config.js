// ESLint runs only the type-aware rules Biome (biome.jsonc) does not have: a promise nobody awaits loses its
// error (an unhandled rejection) and its ordering. Everything else - formatting, the other lint rules,
// consistent type imports (Biome's useImportType) - is Biome's; import cycles and layers are dependency-cruiser's.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'workspace/**', 'test-results/**', '**/starter/**', '**/solution/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts', 'vitest.unit.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    // The runner reads time and sends signals only through its ports (Clock, ProcessControl), so tests can drive
    // deadlines and no code path signals a process it has not identified. Adapters implement those ports; the
    // services are separate programs with a clock of their own.
    files: ['src/cli/**', 'src/commands/**', 'src/core/**', 'src/runtimes/**', 'checks/**', 'labs/*/lab.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Read time from the injected Clock (ctx.clock.now()).' },
        { object: 'process', property: 'kill', message: 'Send signals through ProcessControl.' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'Read time from the injected Clock (ctx.clock.now()).',
        },
      ],
    },
  },
);
