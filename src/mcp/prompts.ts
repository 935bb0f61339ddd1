// MCP prompts from prompts/*.md: YAML front matter (name, description, arguments, optional views)
// and a markdown body with `{{arg}}` placeholders and `{{#arg}}...{{/arg}}` sections that appear
// only when the argument is given.
//
// A prompt whose front matter lists `views` is offered only to callers who may read every one of
// them, so a prompt never reveals a view the caller cannot see. Prompts are rendered per caller:
// `{{#column c}}...{{/column c}}` appears only when the caller may read column `c` (of the first
// view in `views`, or `service.view.c` of another listed view), `{{^column c}}...{{/column c}}`
// only when not, and `{{view.key}}` is the key columns of the first view that the caller may read.
// So a prompt never asks for a column the caller cannot read (docs/mcp.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { completable, type McpServer } from '@modelcontextprotocol/server';
import { namedView, type Gateway, type Identity } from '../gateway/index.js';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { withCachedJsonSchema } from './schema.js';
import { readableViewsStartingWith } from './resources.js';

/** The package's prompts/ directory (from src/mcp or dist/mcp alike). */
const PROMPTS_DIR = fileURLToPath(new URL('../../prompts/', import.meta.url));

const frontMatter = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'lowercase letters, digits, - and _'),
  description: z.string().min(1),
  arguments: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lowercase letters, digits and _'),
        description: z.string().default(''),
        required: z.boolean().default(false),
      }),
    )
    .default([]),
  views: z.array(z.string()).default([]),
});

export interface PromptTemplate extends z.infer<typeof frontMatter> {
  body: string;
  file: string;
}

const FRONT_MATTER = /^---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/;

export function parsePrompt(text: string, file: string): PromptTemplate {
  const m = FRONT_MATTER.exec(text);
  if (!m) throw new Error(`${file}: a prompt starts with YAML front matter between --- lines`);
  const parsed = frontMatter.safeParse(parseYaml(m[1]!));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(front matter)'}: ${i.message}`).join('; ');
    throw new Error(`${file}: ${issues}`);
  }
  const prompt = { ...parsed.data, body: m[2]!.trim(), file };
  for (const ref of columnRefs(prompt)) {
    // Listing the view keeps the prompt from callers who cannot read it.
    if (!ref.view || !prompt.views.includes(ref.view)) {
      throw new Error(`${file}: {{#column ${ref.text}}} names a column of a view not listed under \`views\``);
    }
  }
  if (prompt.body.includes('{{view.key}}') && prompt.views.length === 0)
    throw new Error(`${file}: {{view.key}} needs a view under \`views\``);
  return prompt;
}

const TOOL_SECTION = /\{\{([#^])tool (\w+)\}\}([\s\S]*?)\{\{\/tool \2\}\}/g;

const COLUMN_SECTION = /\{\{([#^])column ([\w.]+)\}\}([\s\S]*?)\{\{\/column \2\}\}/g;

interface ColumnRef {
  text: string;
  view?: string;
  column: string;
}

/** `c` -> the first listed view's column c; `service.view.c` -> that view's column c. */
function columnRef(p: Pick<PromptTemplate, 'views'>, text: string): ColumnRef {
  const dot = text.lastIndexOf('.');
  if (dot < 0) return { text, column: text, ...(p.views[0] ? { view: p.views[0] } : {}) };
  return { text, view: text.slice(0, dot), column: text.slice(dot + 1) };
}

function columnRefs(p: PromptTemplate): ColumnRef[] {
  return [...p.body.matchAll(COLUMN_SECTION)].map((m) => columnRef(p, m[2]!));
}

/** What one caller may see of the views a prompt names: view id -> readable columns and key. */
export type CallerViews = Map<string, { columns: Set<string>; key: string[] }>;

/** The caller's columns of every view the prompt names, through the gateway (grants, fields). */
async function callerViews(gw: Gateway, identity: Identity, p: PromptTemplate): Promise<CallerViews> {
  const out: CallerViews = new Map();
  for (const id of p.views) {
    const d = await gw.describeView(identity, namedView(id));
    const columns = new Set(d.columns.map((c) => c.name));
    out.set(id, { columns, key: d.readableKey });
  }
  return out;
}

/** Every prompt in `dir` (sorted by file name); a broken file stops start-up with its name. */
export function loadPrompts(dir = PROMPTS_DIR): PromptTemplate[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort();
  const prompts = files.map((f) => parsePrompt(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
  const seen = new Set<string>();
  for (const p of prompts) {
    if (seen.has(p.name)) throw new Error(`${p.file}: another prompt is already named "${p.name}"`);
    seen.add(p.name);
  }
  return prompts;
}

/**
 * The prompt's text for one caller; without `views` every column section shows (a caller who may
 * read everything), without `tools` every tool section.
 */
export function renderPrompt(
  p: PromptTemplate,
  args: Record<string, string | undefined>,
  views?: CallerViews,
  tools?: ReadonlySet<string>,
): string {
  const value = (name: string) => (args[name] ?? '').trim();
  const readable = (text: string) => {
    const ref = columnRef(p, text);
    return !views || (views.get(ref.view!)?.columns.has(ref.column) ?? false);
  };
  let body = p.body.replace(TOOL_SECTION, (_m, kind: string, name: string, inner: string) =>
    (kind === '#') === (!tools || tools.has(name)) ? inner : '',
  );
  // Repeated so that sections for different columns may nest.
  for (let before = ''; before !== body;) {
    before = body;
    body = body.replace(COLUMN_SECTION, (_m, kind: string, text: string, inner: string) =>
      (kind === '#') === readable(text) ? inner : '',
    );
  }
  const key = p.views[0] ? (views ? (views.get(p.views[0])?.key ?? []) : undefined) : [];
  body = body.replace(/\{\{view\.key\}\}/g, key ? key.join(', ') : 'key columns');
  return body
    .replace(/\{\{#(\w+)\}\}([\s\S]*?)\{\{\/\1\}\}/g, (_m, name: string, inner: string) => (value(name) ? inner : ''))
    .replace(/\{\{(\w+)\}\}/g, (_m, name: string) => value(name))
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

type ArgsSchema = ReturnType<typeof buildArgsSchema>;

/** Each template's arguments schema, built once: it is the same for every caller. */
const argsSchemas = new WeakMap<PromptTemplate, ArgsSchema>();

function argsSchema(p: PromptTemplate): ArgsSchema {
  let schema = argsSchemas.get(p);
  if (!schema) argsSchemas.set(p, (schema = buildArgsSchema(p)));
  return schema;
}

function buildArgsSchema(p: PromptTemplate) {
  const shape: Record<string, z.ZodType<string | undefined>> = {};
  for (const a of p.arguments)
    shape[a.name] = a.required ? z.string().describe(a.description) : z.string().optional().describe(a.description);
  return Object.assign(withCachedJsonSchema(z.object(shape)), { shape });
}

/**
 * A prompt argument named `view` completes (completion/complete) to the views this caller may
 * read: the schema keeps the shared JSON Schema and validation, with a shape of its own whose
 * `view` carries the caller's completion (the SDK finds completions through `shape`).
 */
function callerArgsSchema(p: PromptTemplate, complete: (prefix: string) => string[]): ArgsSchema {
  const base = argsSchema(p);
  const arg = p.arguments.find((a) => a.name === 'view');
  if (!arg) return base;
  const view = completable(z.string().describe(arg.description), (value) => complete(value));
  return { '~standard': base['~standard'], shape: { ...base.shape, view: arg.required ? view : view.optional() } };
}

/** Registers the prompts whose views the caller may read, each rendered for that caller. */
export function registerPrompts(server: McpServer, prompts: PromptTemplate[], gw: Gateway, identity: Identity): void {
  const visible = new Set<string>(gw.listViews(identity).map((v) => v.id));
  const tools = new Set(gw.curatedTools(identity).map((t) => t.name));
  for (const p of prompts) {
    if (!p.views.every((v) => visible.has(v))) continue;
    const complete = (prefix: string) => readableViewsStartingWith(gw, identity, prefix);
    server.registerPrompt(p.name, { description: p.description, argsSchema: callerArgsSchema(p, complete) }, async (args) => ({
      description: p.description,
      messages: [
        {
          role: 'user',
          content: {
            type: 'text',
            text: renderPrompt(p, args as Record<string, string | undefined>, await callerViews(gw, identity, p), tools),
          },
        },
      ],
    }));
  }
}
