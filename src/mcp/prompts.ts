// MCP prompts from prompts/*.md: YAML front matter (name, description, arguments, optional views)
// and a markdown body with `{{arg}}` placeholders and `{{#arg}}...{{/arg}}` sections that appear
// only when the argument is given.
//
// A prompt whose front matter lists `views` is offered only to callers who may read every one of
// them, so a prompt never reveals a view the caller cannot see.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { McpServer } from '@modelcontextprotocol/server';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/** The package's prompts/ directory (from src/mcp or dist/mcp alike). */
export const PROMPTS_DIR = fileURLToPath(new URL('../../prompts/', import.meta.url));

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
  return { ...parsed.data, body: m[2]!.trim(), file };
}

/** Every prompt in `dir` (sorted by file name); a broken file stops start-up with its name. */
export function loadPrompts(dir = PROMPTS_DIR): PromptTemplate[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.md')).sort();
  const prompts = files.map((f) => parsePrompt(readFileSync(join(dir, f), 'utf8'), join(dir, f)));
  const seen = new Set<string>();
  for (const p of prompts) {
    if (seen.has(p.name)) throw new Error(`${p.file}: another prompt is already named "${p.name}"`);
    seen.add(p.name);
  }
  return prompts;
}

export function renderPrompt(p: PromptTemplate, args: Record<string, string | undefined>): string {
  const value = (name: string) => (args[name] ?? '').trim();
  return p.body
    .replace(/\{\{#(\w+)\}\}([\s\S]*?)\{\{\/\1\}\}/g, (_m, name: string, inner: string) => (value(name) ? inner : ''))
    .replace(/\{\{(\w+)\}\}/g, (_m, name: string) => value(name))
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Registers the prompts whose views the caller may read (`visible`: ids of readable views). */
export function registerPrompts(server: McpServer, prompts: PromptTemplate[], visible: Set<string>): void {
  for (const p of prompts) {
    if (!p.views.every((v) => visible.has(v))) continue;
    const shape: Record<string, z.ZodType<string | undefined>> = {};
    for (const a of p.arguments) shape[a.name] = a.required ? z.string().describe(a.description) : z.string().optional().describe(a.description);
    server.registerPrompt(p.name, { description: p.description, argsSchema: z.object(shape) }, (args) => ({
      description: p.description,
      messages: [{ role: 'user', content: { type: 'text', text: renderPrompt(p, args as Record<string, string | undefined>) } }],
    }));
  }
}
