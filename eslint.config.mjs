// ESLint flat config, adapted from Effect-TS/effect's eslint.config.mjs: eslint:recommended,
// typescript-eslint's recommended set, Effect's rule choices, and @effect/eslint-plugin's dprint rule as the formatter.
// Apply fixes with `npm run lint:fix`, not a bare `eslint . --fix`: the dprint rule reports one fix per diff hunk, and
// when another rule's fix overlaps one of them ESLint applies the rest alone, which can garble code that dprint moves
// (sorted imports). lint:fix runs the other rules' fixes first, then the formatter.
import * as effectEslint from "@effect/eslint-plugin"
import js from "@eslint/js"
import importX from "eslint-plugin-import-x"
import sortDestructureKeys from "eslint-plugin-sort-destructure-keys"
import { defineConfig } from "eslint/config"
import globals from "globals"
import tseslint from "typescript-eslint"

export default defineConfig(
  {
    // docs/api/examples: the JSDoc examples as files, which `npm run docgen` writes and removes (left behind if it fails).
    ignores: ["**/dist/**", "**/node_modules/**", "**/.bench/**", "**/*.md", "docs/api/examples/**"]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...effectEslint.configs.dprint,
  {
    plugins: {
      "import-x": importX,
      "sort-destructure-keys": sortDestructureKeys
    },

    languageOptions: {
      parser: tseslint.parser,
      ecmaVersion: 2022,
      sourceType: "module"
    },

    rules: {
      "no-fallthrough": "off",
      "no-irregular-whitespace": "off",
      "object-shorthand": "error",
      "prefer-destructuring": "off",
      "sort-imports": "off",

      "no-restricted-syntax": [
        "error",
        {
          selector: "CallExpression[callee.property.name='push'] > SpreadElement.arguments",
          message: "Do not use spread arguments in Array.push"
        }
      ],

      "no-unused-vars": "off",
      "require-yield": "off",
      "prefer-rest-params": "off",
      "prefer-spread": "off",
      "import-x/first": "error",
      "import-x/newline-after-import": "error",
      "import-x/no-duplicates": "error",
      "sort-destructure-keys/sort-destructure-keys": "error",

      "@typescript-eslint/array-type": ["warn", { default: "generic", readonly: "generic" }],
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-unsafe-function-type": "off",
      "@typescript-eslint/no-wrapper-object-types": "off",
      "@typescript-eslint/consistent-type-imports": "warn",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/ban-ts-comment": "off",
      "@typescript-eslint/explicit-function-return-type": "off",
      "@typescript-eslint/explicit-module-boundary-types": "off",
      "@typescript-eslint/no-array-constructor": "off",
      "@typescript-eslint/no-use-before-define": "off",
      "@typescript-eslint/no-namespace": "off",

      "@effect/dprint": [
        "error",
        {
          config: {
            indentWidth: 2,
            lineWidth: 120,
            semiColons: "asi",
            quoteStyle: "alwaysDouble",
            trailingCommas: "never",
            operatorPosition: "maintain",
            "arrowFunction.useParentheses": "force"
          }
        }
      ]
    }
  },
  {
    // A stray console.log in the library would corrupt a stdio transport's stdout (test/fixtures/noisy-server.ts does
    // it on purpose, so tests are not included).
    files: ["src/**/*"],
    rules: { "no-console": "error" }
  },
  // Effect's @effect/no-import-from-barrel-package is left off: this project imports from "effect" as its users do, and
  // the rule flags 118 imports in src/ of which it can fix 6.
  {
    // The benchmark's plain-JavaScript servers run on Node.
    files: ["**/*.mjs"],
    languageOptions: { globals: globals.node }
  }
)
