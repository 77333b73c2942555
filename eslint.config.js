// npm run lint: correctness rules of eslint and typescript-eslint, and the
// layout the tree already has (stylistic rules, not a formatter: reformatting
// would touch most files). Rules turned off or down say why.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'var/', 'test-artifacts/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, ignoredNodes: ['TemplateLiteral *', 'ConditionalExpression *'] }],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1 }],
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@stylistic/object-curly-spacing': ['error', 'always'],
      '@stylistic/arrow-parens': ['error', 'always'],
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/comma-spacing': 'error',
      '@stylistic/no-tabs': 'error',
      '@stylistic/arrow-spacing': 'error',
      '@stylistic/key-spacing': 'error',
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/space-before-function-paren': ['error', { anonymous: 'always', named: 'never', asyncArrow: 'always' }],
      '@stylistic/array-bracket-spacing': 'error',
      '@stylistic/member-delimiter-style': 'error',
      '@stylistic/type-annotation-spacing': 'error',
      '@stylistic/block-spacing': 'error',
      '@stylistic/function-call-spacing': 'error',
      '@stylistic/computed-property-spacing': 'error',
      '@stylistic/space-unary-ops': 'error',
      '@stylistic/template-curly-spacing': 'error',
      '@stylistic/rest-spread-spacing': 'error',
      '@stylistic/no-multi-spaces': 'error',
      '@stylistic/no-whitespace-before-property': 'error',
      '@stylistic/padded-blocks': ['error', 'never'],
      '@stylistic/new-parens': 'error',
      '@stylistic/dot-location': ['error', 'property'],
      '@stylistic/linebreak-style': ['error', 'unix'],
      '@stylistic/spaced-comment': ['error', 'always'],
      '@stylistic/switch-colon-spacing': 'error',
      '@stylistic/generator-star-spacing': ['error', { before: false, after: true }],
      '@stylistic/yield-star-spacing': ['error', 'after'],
      '@stylistic/wrap-iife': ['error', 'inside'],
      '@stylistic/object-curly-newline': ['error', { consistent: true }],
      '@stylistic/max-len': ['error', { code: 250, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true, ignoreComments: true }],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Off: `if (x) (a.push(1), b.push(2));` is the house style, and chai asserts with properties (`.to.be.empty`).
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
      // Off: parsed JSON and XML (test answers, the activation server's, the WPI's) are typed any on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
      // Off: names, MACs and User-Agents are checked for control characters on purpose.
      'no-control-regex': 'off',
      // Off: `let ok = false; try { ok = check() } catch { return }` reads better with the default.
      'no-useless-assignment': 'off',
      // Off: a refusal replaces the low-level error on purpose; its text says what is wrong.
      'preserve-caught-error': 'off',
    },
  },
  {
    // The charter: no skipped or exclusive tests.
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-properties': ['error', ...['it', 'describe', 'context', 'specify'].flatMap((object) => ['only', 'skip'].map((property) => ({ object, property, message: 'no skipped or exclusive tests' })))],
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.object.type='ThisExpression'][callee.property.name='skip']", message: 'no skipped tests' }],
    },
  },
  {
    // npm run test:unit stays in-process: no daemon, browser or child process behind a unit test.
    files: ['test/unit-*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: './support/daemon.js', importNames: ['TestDaemon'], message: 'a unit test runs in-process, without a daemon' },
            { name: './support/browser.js', message: 'a unit test runs in-process, without a browser' },
            { name: 'node:child_process', message: 'a unit test runs in-process' },
          ],
        },
      ],
    },
  },
  {
    files: ['web/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['docs/**/*.mjs', 'eslint.config.js'],
    languageOptions: { globals: { ...globals.node } },
  },
);
