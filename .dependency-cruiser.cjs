// The layer rule of docs/architecture.md ("Layers"), checked by `npm run lint` (`depcruise src console/src`).
// Top to bottom; a module imports only from its own folder or from folders below it, and nothing
// imports in a cycle:
//   1 app       src/cli.ts, src/commands/, src/admin/ (the console), src/server.ts, src/runtime.ts, src/demo.ts, src/shutdown.ts,
//             src/reload.ts, src/current-gateway.ts, src/v8-settings.ts,
//             src/young-generation.ts
//   2 surfaces  src/rest/, src/mcp/ (neither imports the other), src/http/ (what both share)
//   3 gateway   src/gateway/
//   4           src/ops/, then src/hub/, then src/policy/, then src/engine/
//   5           src/sources/, then src/query/
//   6 bottom    src/config/, src/values.ts, src/errors.ts, src/row-formats.ts
// The rules name folders, not files, so a module moved within its layer needs no change here.

// Each layer, top first, with the rule that keeps it from importing any layer above it.
const LAYERS = [
  { path: '^src/(cli|server|runtime|demo|shutdown|reload|current-gateway|v8-settings|young-generation)[.]ts$|^src/(commands|admin)/' },
  {
    path: '^src/(rest|mcp|http)/',
    rule: 'surfaces-below-app',
    comment: 'REST, MCP and their shared HTTP pieces are composed by the app; they never import it.',
  },
  {
    path: '^src/gateway/',
    rule: 'gateway-below-surfaces',
    comment: 'The pipeline knows no protocol: it imports no surface and no app module.',
  },
  {
    path: '^src/ops/',
    rule: 'ops-below-gateway',
    comment: 'Cache, limits, metrics, audit and logging serve the gateway; they import nothing above it.',
  },
  {
    path: '^src/hub/',
    rule: 'hub-below-ops',
    comment: 'The PostgreSQL hub imports neither ops nor anything above it.',
  },
  {
    path: '^src/policy/',
    rule: 'policy-below-hub',
    comment: 'Identity, grants and masks import neither hub, ops nor anything above them.',
  },
  {
    path: '^src/engine/',
    rule: 'engine-below-policy',
    comment: 'The view engines import none of policy, hub, ops or anything above them.',
  },
  {
    path: '^src/sources/',
    rule: 'sources-below-engine',
    comment: 'Stores know nothing of views, policy or ops.',
  },
  {
    path: '^src/query/',
    rule: 'query-below-sources',
    comment: 'The client query language is pure: it imports no store and nothing above.',
  },
  {
    path: '^src/config/|^src/(values|errors|row-formats)[.]ts$',
    rule: 'bottom-is-bottom',
    comment: 'Config, values, errors and row formats import no other src/ module (row formats: values only).',
  },
];

const layerBoundaries = LAYERS.slice(1).map((layer, i) => ({
  name: layer.rule,
  comment: layer.comment,
  severity: 'error',
  from: { path: layer.path },
  to: { path: LAYERS.slice(0, i + 1).map((above) => above.path) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No module reaches itself through its imports (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-circular-folders',
      comment: 'No folder reaches itself through the imports of its modules, even when no single module does.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'module-outside-layers',
      comment: 'Every module under src/ belongs to a layer; a new top-level file or folder is placed in LAYERS first.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map((layer) => layer.path) },
      to: {},
    },

    // Nothing imports upwards (one rule per layer), and the bottom has an order of its own.
    ...layerBoundaries,
    {
      name: 'bottom-config-over-values',
      comment: 'values.ts, errors.ts and row-formats.ts import no config, so config/ and the root files form no cycle.',
      severity: 'error',
      from: { path: '^src/(values|errors|row-formats)[.]ts$' },
      to: { path: '^src/config/' },
    },

    // The surfaces among themselves and what they may reach.
    {
      name: 'rest-mcp-independent',
      comment: 'REST and MCP are two faces of one pipeline: neither imports the other (shared HTTP pieces live in src/http/).',
      severity: 'error',
      from: { path: '^src/(rest|mcp)/' },
      to: { path: '^src/(rest|mcp)/', pathNot: '^src/$1/' },
    },
    {
      name: 'http-imports-no-surface',
      comment: 'src/http/ is shared by REST and MCP, so it imports neither.',
      severity: 'error',
      from: { path: '^src/http/' },
      to: { path: '^src/(rest|mcp)/' },
    },
    {
      name: 'surfaces-through-gateway',
      comment: 'REST and MCP reach policy, ops, engines, stores and the hub only through the gateway.',
      severity: 'error',
      from: { path: '^src/(rest|mcp)/' },
      to: { path: '^src/(policy|ops|engine|sources|hub)/' },
    },
    {
      name: 'surfaces-config-types-only',
      comment: 'REST and MCP read config types, never config loading or parsing: the app hands them the loaded config.',
      severity: 'error',
      from: { path: '^src/(rest|mcp)/' },
      to: { path: '^src/config/', dependencyTypesNot: ['type-only'] },
    },

    // The console (console/src, browser code bundled by Vite) talks to the server over HTTP only.
    {
      name: 'console-apart-from-src',
      comment: 'The console reaches the server through /admin/api/ only: it imports nothing from src/, and src/ nothing from it.',
      severity: 'error',
      from: { path: '^(console|src)/' },
      to: { path: '^(console|src)/', pathNot: '^$1/' },
    },

    // Resident memory (docs/operations.md, "Memory").
    {
      name: 'optional-heavy-modules-loaded-lazily',
      comment:
        'The OpenTelemetry SDK (about 14 MiB resident), openid-client (7 MiB) and better-sqlite3 (4.5 MiB) are loaded only when used: src/runtime.ts imports src/ops/telemetry.ts dynamically when telemetry is configured, the console imports openid-client at the first sign-in, and the SQLite source requires its driver when it opens a file.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/ops/telemetry[.]ts$' },
      to: {
        path: ['^src/ops/telemetry[.]ts$', 'node_modules/(@opentelemetry/|better-sqlite3/|openid-client/)'],
        dependencyTypesNot: ['type-only', 'dynamic-import'],
      },
    },

    // Hygiene.
    {
      name: 'src-not-test-or-bench',
      comment: 'Shipped code never imports tests, fixtures or benchmarks.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-orphans',
      comment: 'A module nothing imports and that imports nothing is dead; src/cli.ts (bin/viewgate.js) is the entry point.',
      severity: 'error',
      from: { orphan: true, pathNot: ['^src/cli[.]ts$', '[.]d[.]ts$'] },
      to: {},
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves to a file or an installed package.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-dev-dep',
      comment: 'Shipped code runs with production dependencies only (the image installs with --omit=dev).',
      severity: 'error',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a layer that imports an upper layer's types still depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
