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
);
